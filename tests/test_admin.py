"""The attendant's console: roles, the board, bookings for others, releases, closures, spots."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta

import pytest

from tests.support import ADMIN, DRIVER1, DRIVER2, slot_body, tomorrow

# Every attendant route, with a request that would succeed for the attendant.
ADMIN_ROUTES = [
    ("GET", "/admin/board"),
    ("POST", "/admin/reservations"),
    ("GET", "/admin/reservations/1"),
    ("PUT", "/admin/reservations/1/release"),
    ("PUT", "/admin/reservations/1/check-in"),
    ("GET", "/admin/reservations/export.csv"),
    ("GET", "/admin/users"),
    ("POST", "/admin/closures"),
    ("GET", "/admin/closures"),
    ("DELETE", "/admin/closures/1"),
    ("POST", "/admin/spots"),
    ("PATCH", "/admin/spots/1"),
    ("PUT", "/admin/rules"),
    ("GET", "/admin/waitlist"),
    ("GET", "/admin/plates/AB-123"),
    ("POST", "/admin/lobby"),
    ("GET", "/admin/audit"),
    ("GET", "/admin/audit/export.csv"),
    ("POST", "/admin/webhooks"),
    ("GET", "/admin/webhooks"),
    ("DELETE", "/admin/webhooks/1"),
    ("GET", "/admin/webhooks/1/deliveries"),
    ("POST", "/admin/notifications/monthly-summary"),
]


def test_the_list_covers_every_admin_route(settings):
    from server.app import create_app

    registered = {
        (route.method, route.resource.canonical)
        for route in create_app(settings).router.routes()
        if route.method != "HEAD" and route.resource.canonical.startswith("/admin/")
    }
    listed = {
        (method, path.replace("/1", "/{id}").replace("/AB-123", "/{plate}"))
        for method, path in ADMIN_ROUTES
    }
    assert listed == registered


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
async def test_admin_routes_are_401_anonymous_and_403_for_a_driver(client, auth, method, path):
    anonymous = await client.request(method, path)
    assert anonymous.status == 401
    assert (await anonymous.json())["error"]["code"] == "unauthorized"
    driver = await client.request(method, path, headers=auth(DRIVER1), json={})
    assert driver.status == 403
    assert (await driver.json())["error"] == {"code": "forbidden", "message": "Only the attendant may do this."}


async def test_the_role_comes_from_the_database_not_the_token(client, auth, db_conn):
    # auth() always claims "driver"; the database says admin@ is the attendant.
    assert (await client.get("/admin/users", headers=auth(ADMIN))).status == 200
    await db_conn.execute("UPDATE users SET role = 'admin' WHERE email = $1", DRIVER2)
    # The database publishes the change, so this instance forgets the old role at once.
    async with asyncio.timeout(3):
        while (await client.get("/admin/users", headers=auth(DRIVER2))).status != 200:
            pass


# --- the board -----------------------------------------------------------------------------


async def test_the_board_shows_holders_walk_ins_arrivals_and_closures(client, auth, spot_ids, user_ids):
    day = tomorrow()
    await client.post("/reservations", json=slot_body(spot_ids[1], day, 0), headers=auth(DRIVER1))
    walk_in = {"name": "Ada Lovelace", "licence_plate": " ab-123-cd "}
    booked = await client.post(
        "/admin/reservations", json={**slot_body(spot_ids[2], day, 1), "guest": walk_in}, headers=auth(ADMIN)
    )
    assert booked.status == 201
    closed = await client.post(
        "/admin/closures", json={**slot_body(spot_ids[3], day, 2), "reason": "Repainting"}, headers=auth(ADMIN)
    )
    assert closed.status == 201

    board = await (await client.get(f"/admin/board?date={day}", headers=auth(ADMIN))).json()
    cells = {(s["spot_number"], c["label"]): c for s in board["spots"] for c in s["slots"]}
    assert cells[(1, "08:00–12:00")]["holder"] == {
        "user_id": user_ids[DRIVER1],
        "display_name": "Driver 1",
        "email": DRIVER1,
        "licence_plate": None,  # Driver 1 has no vehicle
    }
    assert cells[(1, "08:00–12:00")]["checked_in_at"] is None
    assert cells[(2, "12:00–16:00")]["holder"] == {"guest_name": "Ada Lovelace", "licence_plate": "AB-123-CD"}
    assert cells[(3, "16:00–20:00")]["state"] == "closed"
    assert cells[(3, "16:00–20:00")]["closure"] == {"id": (await closed.json())["closure"]["id"], "reason": "Repainting"}

    # The drivers' grid says the same cells are taken or closed, and never by whom.
    grid = await (await client.get(f"/spots?date={day}", headers=auth(DRIVER2))).json()
    driver_cells = {(s["spot_number"], c["label"]): c for s in grid["spots"] for c in s["slots"]}
    assert driver_cells[(1, "08:00–12:00")] == {**_slot_only(cells[(1, "08:00–12:00")]), "state": "booked"}
    assert driver_cells[(2, "12:00–16:00")]["state"] == "booked"
    assert driver_cells[(3, "16:00–20:00")] == {**_slot_only(cells[(3, "16:00–20:00")]), "state": "closed"}


def _slot_only(cell):
    return {key: cell[key] for key in ("label", "start_time", "end_time")}


# --- booking for someone --------------------------------------------------------------------


async def test_a_booking_for_a_driver_is_theirs_everywhere(client, auth, spot_ids, user_ids):
    day = tomorrow()
    response = await client.post(
        "/admin/reservations", json={**slot_body(spot_ids[4], day), "user_id": user_ids[DRIVER2]}, headers=auth(ADMIN)
    )
    assert response.status == 201
    created = await response.json()
    assert response.headers["Location"] == f"/admin/reservations/{created['id']}"
    assert created["created_by"] == {"user_id": user_ids[ADMIN], "display_name": "Bob (attendant)", "role": "admin"}

    mine = await (await client.get("/reservations", headers=auth(DRIVER2))).json()
    assert [r["id"] for r in mine["reservations"]] == [created["id"]]
    assert (await client.get(f"/reservations/{created['id']}", headers=auth(DRIVER2))).status == 200
    grid = await (await client.get(f"/spots?date={day}", headers=auth(DRIVER2))).json()
    cell = grid["spots"][3]["slots"][0]
    assert (cell["mine"], cell["reservation_id"]) == (True, created["id"])
    exported = await (await client.get("/reservations/export.csv", headers=auth(DRIVER2))).text()
    assert [int(row["id"]) for row in csv.DictReader(io.StringIO(exported))] == [created["id"]]
    # And the driver may release it like any booking of theirs.
    assert (await client.put(f"/reservations/{created['id']}/complete", headers=auth(DRIVER2))).status == 200


async def test_the_one_car_rule_holds_for_bookings_the_attendant_makes(client, auth, spot_ids, user_ids):
    day = tomorrow()
    await client.post("/reservations", json=slot_body(spot_ids[1], day), headers=auth(DRIVER1))
    response = await client.post(
        "/admin/reservations", json={**slot_body(spot_ids[2], day), "user_id": user_ids[DRIVER1]}, headers=auth(ADMIN)
    )
    assert response.status == 409
    error = (await response.json())["error"]
    assert error["code"] == "already_booked_in_slot"
    assert error["message"].startswith("Driver 1 already has Spot #1 booked")


async def test_several_walk_ins_share_a_slot_on_different_spots(client, auth, spot_ids, db_conn):
    day = tomorrow()
    for number in (1, 2, 3):
        guest = {"name": f"Guest {number}", "licence_plate": f"PLATE-{number}"}
        response = await client.post(
            "/admin/reservations", json={**slot_body(spot_ids[number], day), "guest": guest}, headers=auth(ADMIN)
        )
        assert response.status == 201
    taken = await client.post(
        "/admin/reservations",
        json={**slot_body(spot_ids[1], day), "guest": {"name": "Late", "licence_plate": "X"}},
        headers=auth(ADMIN),
    )
    assert (taken.status, (await taken.json())["error"]["code"]) == (409, "slot_taken")
    assert await db_conn.fetchval("SELECT count(*) FROM reservations WHERE user_id IS NULL AND status = 'booked'") == 3


@pytest.mark.parametrize(
    ("extra", "status", "names"),
    [
        ({"guest": {"name": "  ", "licence_plate": "AB"}}, 422, "'guest.name'"),
        ({"guest": {"name": "Ada", "licence_plate": "A" * 17}}, 422, "'guest.licence_plate'"),
        ({"guest": {"name": "Ada", "licence_plate": "ß" * 9}}, 422, "'guest.licence_plate'"),  # SS...: 18
        ({"guest": {"name": "Ada"}}, 422, "'guest.licence_plate'"),
        ({"guest": "Ada"}, 422, "'guest'"),
        ({"user_id": 999_999}, 404, "'user_id'"),
        ({"user_id": "1"}, 422, "'user_id'"),
        ({}, 422, "'user_id'"),
        ({"user_id": 1, "guest": {"name": "Ada", "licence_plate": "AB"}}, 422, "'guest'"),
    ],
)
async def test_a_malformed_holder_is_refused_naming_the_field(client, auth, spot_ids, db_conn, extra, status, names):
    response = await client.post(
        "/admin/reservations", json={**slot_body(spot_ids[1], tomorrow()), **extra}, headers=auth(ADMIN)
    )
    assert response.status == status
    assert names in (await response.json())["error"]["message"]
    assert await db_conn.fetchval("SELECT count(*) FROM reservations") == 0


# --- releasing with a reason ------------------------------------------------------------------


async def test_a_release_with_a_reason_is_shown_to_the_owner_and_is_idempotent(client, auth, spot_ids):
    created = await (
        await client.post("/reservations", json=slot_body(spot_ids[5], tomorrow()), headers=auth(DRIVER1))
    ).json()
    path = f"/admin/reservations/{created['id']}/release"
    response = await client.put(path, json={"reason": "  Barrier fault  "}, headers=auth(ADMIN))
    assert response.status == 200
    released = await response.json()
    assert (released["status"], released["released_by"], released["release_reason"]) == (
        "completed",
        "admin",
        "Barrier fault",
    )
    again = await client.put(path, json={"reason": "Something else"}, headers=auth(ADMIN))
    assert (again.status, await again.json()) == (200, released)

    own = await (await client.get(f"/reservations/{created['id']}", headers=auth(DRIVER1))).json()
    assert (own["released_by"], own["release_reason"]) == ("admin", "Barrier fault")
    listed = await (await client.get("/reservations", headers=auth(DRIVER1))).json()
    assert listed["reservations"][0]["release_reason"] == "Barrier fault"
    exported = await (await client.get("/reservations/export.csv", headers=auth(DRIVER1))).text()
    [row] = csv.DictReader(io.StringIO(exported))
    assert (row["released_by"], row["release_reason"]) == ("admin", "Barrier fault")


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "x" * 201}, {"reason": 5}])
async def test_a_release_needs_a_reason_of_1_to_200_characters(client, auth, spot_ids, body):
    created = await (
        await client.post("/reservations", json=slot_body(spot_ids[5], tomorrow()), headers=auth(DRIVER1))
    ).json()
    response = await client.put(f"/admin/reservations/{created['id']}/release", json=body, headers=auth(ADMIN))
    assert response.status == 422
    still = await (await client.get(f"/reservations/{created['id']}", headers=auth(DRIVER1))).json()
    assert still["status"] == "booked"


async def test_releasing_an_unknown_reservation_is_a_404(client, auth):
    response = await client.put("/admin/reservations/424242/release", json={"reason": "x"}, headers=auth(ADMIN))
    assert (response.status, (await response.json())["error"]["code"]) == (404, "reservation_not_found")


# --- closures --------------------------------------------------------------------------------


def closure_body(spot_id, first_day, first_slot, last_day, last_slot, reason="Repainting"):
    return {
        "spot_id": spot_id,
        "start_time": slot_body(spot_id, first_day, first_slot)["start_time"],
        "end_time": slot_body(spot_id, last_day, last_slot)["end_time"],
        "reason": reason,
    }


async def test_a_closure_over_days_releases_the_bookings_inside_it_and_only_those(client, auth, spot_ids):
    day = tomorrow()
    inside = []
    for offset, index in ((0, 2), (1, 0), (1, 1)):
        response = await client.post(
            "/reservations", json=slot_body(spot_ids[2], day + timedelta(days=offset), index), headers=auth(DRIVER1)
        )
        inside.append((await response.json())["id"])
    before = await client.post("/reservations", json=slot_body(spot_ids[2], day, 1), headers=auth(DRIVER2))
    after = await client.post(
        "/reservations", json=slot_body(spot_ids[2], day + timedelta(days=1), 2), headers=auth(DRIVER2)
    )
    other_spot = await client.post("/reservations", json=slot_body(spot_ids[3], day, 2), headers=auth(DRIVER2))

    # Day 1 16:00 to day 2 16:00: three whole slots.
    response = await client.post(
        "/admin/closures", json=closure_body(spot_ids[2], day, 2, day + timedelta(days=1), 1), headers=auth(ADMIN)
    )
    assert response.status == 201
    body = await response.json()
    assert sorted(body["released"]) == sorted(inside)
    assert body["closure"]["reason"] == "Repainting"
    for reservation in inside:
        own = await (await client.get(f"/reservations/{reservation}", headers=auth(DRIVER1))).json()
        assert (own["status"], own["released_by"], own["release_reason"]) == ("completed", "admin", "Repainting")
    for untouched in (before, after, other_spot):
        reservation = await untouched.json()
        own = await (await client.get(f"/reservations/{reservation['id']}", headers=auth(DRIVER2))).json()
        assert own["status"] == "booked"


async def test_a_closed_slot_cannot_be_booked_until_reopened(client, auth, spot_ids, user_ids):
    day = tomorrow()
    closure = await (
        await client.post("/admin/closures", json=closure_body(spot_ids[4], day, 0, day, 2), headers=auth(ADMIN))
    ).json()
    for headers, path, extra in (
        (auth(DRIVER1), "/reservations", {}),
        (auth(ADMIN), "/admin/reservations", {"user_id": user_ids[DRIVER1]}),
        (auth(ADMIN), "/admin/reservations", {"guest": {"name": "Ada", "licence_plate": "AB"}}),
    ):
        refused = await client.post(path, json={**slot_body(spot_ids[4], day, 1), **extra}, headers=headers)
        assert refused.status == 409
        error = (await refused.json())["error"]
        assert error["code"] == "spot_closed"
        assert error["message"].startswith("Spot #4 is closed for 12:00–16:00")
    grid = await (await client.get(f"/spots?date={day}", headers=auth(DRIVER1))).json()
    assert [c["state"] for c in grid["spots"][3]["slots"]] == ["closed"] * 3

    listed = await (await client.get(f"/admin/closures?from={day}&to={day}", headers=auth(ADMIN))).json()
    assert [c["id"] for c in listed["closures"]] == [closure["closure"]["id"]]
    deleted = await client.delete(f"/admin/closures/{closure['closure']['id']}", headers=auth(ADMIN))
    assert deleted.status == 204
    again = await client.delete(f"/admin/closures/{closure['closure']['id']}", headers=auth(ADMIN))
    assert (again.status, (await again.json())["error"]["code"]) == (404, "closure_not_found")
    assert (await client.post("/reservations", json=slot_body(spot_ids[4], day, 1), headers=auth(DRIVER1))).status == 201


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"start_time": "T09:00:00+00:00"}, "'start_time' must be when a slot starts"),
        ({"end_time": "T11:00:00+00:00"}, "'end_time' must be when a slot ends"),
        ({"end_time": "T12:00:00+00:00", "start_time": "T12:00:00+00:00"}, "'end_time' must be after"),
        ({"reason": ""}, "'reason'"),
    ],
)
async def test_a_closure_must_cover_whole_slots_and_say_why(client, auth, spot_ids, db_conn, change, names):
    day = tomorrow().isoformat()
    body = closure_body(spot_ids[1], tomorrow(), 0, tomorrow(), 0)
    body.update({key: day + value if value.startswith("T") else value for key, value in change.items()})
    response = await client.post("/admin/closures", json=body, headers=auth(ADMIN))
    assert response.status == 422
    assert names in (await response.json())["error"]["message"]
    assert await db_conn.fetchval("SELECT count(*) FROM closures") == 0


async def test_a_closure_of_an_unknown_spot_is_a_404(client, auth):
    body = closure_body(999_999, tomorrow(), 0, tomorrow(), 0)
    response = await client.post("/admin/closures", json=body, headers=auth(ADMIN))
    assert (response.status, (await response.json())["error"]["code"]) == (404, "spot_not_found")


# --- spots, users, the attendant's export ------------------------------------------------------


async def test_a_new_spot_joins_every_grid_and_the_stats_denominator(client, auth):
    response = await client.post(
        "/admin/spots", json={"spot_number": 6, "floor_number": 3, "type": "handicap"}, headers=auth(ADMIN)
    )
    assert response.status == 201
    spot = await response.json()
    assert {k: spot[k] for k in ("spot_number", "floor_number", "type")} == {
        "spot_number": 6,
        "floor_number": 3,
        "type": "handicap",
    }
    duplicate = await client.post("/admin/spots", json={"spot_number": 6, "floor_number": 1}, headers=auth(ADMIN))
    assert (duplicate.status, (await duplicate.json())["error"]["code"]) == (409, "spot_number_taken")

    grid = await (await client.get("/spots", headers=auth(DRIVER1))).json()
    assert [s["spot_number"] for s in grid["spots"]] == [1, 2, 3, 4, 5, 6]
    board = await (await client.get("/admin/board", headers=auth(ADMIN))).json()
    assert len(board["spots"]) == 6
    stats = await (await client.get("/stats", headers=auth(DRIVER1))).json()
    assert stats["spot_count"] == 6

    changed = await client.patch(f"/admin/spots/{spot['id']}", json={"floor_number": -1}, headers=auth(ADMIN))
    assert (await changed.json())["floor_number"] == -1 and (await changed.json())["type"] == "handicap"
    for body in ({}, {"type": "vip"}, {"floor_number": 1000}):
        refused = await client.patch(f"/admin/spots/{spot['id']}", json=body, headers=auth(ADMIN))
        assert refused.status == 422
    missing = await client.patch("/admin/spots/999999", json={"type": "regular"}, headers=auth(ADMIN))
    assert (missing.status, (await missing.json())["error"]["code"]) == (404, "spot_not_found")


async def test_the_user_list_counts_upcoming_bookings(client, auth, spot_ids, db_conn, user_ids):
    await client.post("/reservations", json=slot_body(spot_ids[1], tomorrow(), 0), headers=auth(DRIVER1))
    await client.post("/reservations", json=slot_body(spot_ids[1], tomorrow(), 1), headers=auth(DRIVER1))
    # One that has ended does not count.
    await db_conn.execute(
        "INSERT INTO reservations (user_id, spot_id, start_time, end_time) "
        "VALUES ($1, $2, now() - interval '5 hours', now() - interval '1 hour')",
        user_ids[DRIVER1], spot_ids[2],
    )
    users = (await (await client.get("/admin/users", headers=auth(ADMIN))).json())["users"]
    by_email = {u["email"]: u for u in users}
    assert by_email[DRIVER1]["upcoming_bookings"] == 2
    assert by_email[DRIVER2]["upcoming_bookings"] == 0
    assert by_email[ADMIN]["role"] == "admin"


async def test_the_attendants_export_holds_everyone_in_the_range(client, auth, spot_ids, user_ids):
    day = tomorrow()
    own = await (await client.post("/reservations", json=slot_body(spot_ids[1], day), headers=auth(DRIVER1))).json()
    guest = {"name": "=HYPERLINK(\"http://evil\")", "licence_plate": "AB-1"}
    walk_in = await (
        await client.post("/admin/reservations", json={**slot_body(spot_ids[2], day), "guest": guest}, headers=auth(ADMIN))
    ).json()
    await client.put(f"/admin/reservations/{own['id']}/release", json={"reason": "Wrong car"}, headers=auth(ADMIN))
    later = day + timedelta(days=5)
    await client.post("/reservations", json=slot_body(spot_ids[3], later), headers=auth(DRIVER2))

    response = await client.get(f"/admin/reservations/export.csv?from={day}&to={day}", headers=auth(ADMIN))
    assert response.status == 200
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="smart-parking-all-reservations-{day}-to-{day}.csv"'
    )
    rows = {int(r["id"]): r for r in csv.DictReader(io.StringIO(await response.text()))}
    assert set(rows) == {own["id"], walk_in["id"]}
    assert (rows[own["id"]]["holder"], rows[own["id"]]["holder_email"]) == ("Driver 1", DRIVER1)
    assert (rows[own["id"]]["released_by"], rows[own["id"]]["release_reason"]) == ("admin", "Wrong car")
    assert rows[own["id"]]["created_by"] == "Driver 1"
    # A spreadsheet must show the name, not run it.
    assert rows[walk_in["id"]]["holder"] == "'=HYPERLINK(\"http://evil\")"
    assert (rows[walk_in["id"]]["licence_plate"], rows[walk_in["id"]]["created_by"]) == ("AB-1", "Bob (attendant)")
