"""Any free spot: the database picks lowest floor then number, under races, by every rule."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from zoneinfo import ZoneInfo

import aiohttp

from server.repository.users import User
from server.slots import slots_on
from tests.support import (
    ADMIN,
    DRIVER1,
    DRIVER2,
    any_spot_body,
    create_drivers,
    slot_body,
    tomorrow,
)

RACERS = 60


async def test_any_spot_books_the_lowest_floor_then_the_lowest_number(client, auth, spot_ids, db_conn):
    day = tomorrow()
    # Spot 2 on floor 2 now: the first regular spot on floor 1 is Spot 3.
    await db_conn.execute("UPDATE spots SET floor_number = 2 WHERE spot_number = 2")
    first = await client.post("/reservations", json=any_spot_body(day), headers=auth(DRIVER1))
    assert first.status == 201, await first.text()
    body = await first.json()
    assert (body["spot_number"], body["floor_number"], body["series_id"]) == (3, 1, None)
    assert first.headers["Location"] == f"/reservations/{body['id']}"
    second = await client.post("/reservations", json=any_spot_body(day), headers=auth(DRIVER2))
    # Floor 2 next, by number: Spot 2 before Spots 4 and 5. Never the accessible Spot 1.
    assert (await second.json())["spot_number"] == 2


async def test_accessible_spots_only_when_asked_and_then_only_those(client, auth, spot_ids, db_conn):
    day = tomorrow()
    asked = await client.post(
        "/reservations", json=any_spot_body(day, spot_type="handicap"), headers=auth(DRIVER1)
    )
    assert asked.status == 201
    assert (await asked.json())["spot_number"] == 1
    again = await client.post(
        "/reservations", json=any_spot_body(day, spot_type="handicap"), headers=auth(DRIVER2)
    )
    assert again.status == 409
    error = (await again.json())["error"]
    assert error["code"] == "lot_full"
    assert "accessible" in error["message"] and "08:00–12:00" in error["message"]
    # Regular spots 2-5 are all free, yet the accessible-only request took none of them.
    assert await db_conn.fetchval("SELECT count(*) FROM reservations") == 1
    bad = await client.post("/reservations", json=any_spot_body(day, spot_type="van"), headers=auth())
    assert bad.status == 422
    assert "'spot_type' must be one of: regular, handicap" in (await bad.json())["error"]["message"]


async def test_any_spot_skips_closed_and_taken_spots_and_says_lot_full_naming_slot_and_type(
    client, auth, spot_ids, db_conn, user_ids
):
    day = tomorrow()
    taken = await client.post("/reservations", json=slot_body(spot_ids[2], day, 1), headers=auth(DRIVER2))
    assert taken.status == 201
    slot = slots_on(day, ZoneInfo("UTC"))[1]
    await db_conn.execute(
        "INSERT INTO closures (spot_id, start_time, end_time, reason, created_by) "
        "SELECT $1, $2, $3, 'Painting', id FROM users WHERE email = 'admin@parking.com'",
        spot_ids[3],
        slot.start,
        slot.end,
    )
    got = await client.post("/reservations", json=any_spot_body(day, 1), headers=auth(DRIVER1))
    assert (await got.json())["spot_number"] == 4
    # The driver holds a spot in this slot: one car per driver per slot.
    twice = await client.post("/reservations", json=any_spot_body(day, 1), headers=auth(DRIVER1))
    assert twice.status == 409
    assert (await twice.json())["error"]["code"] == "already_booked_in_slot"
    await db_conn.execute(
        "INSERT INTO reservations (spot_id, start_time, end_time, guest_name, licence_plate, created_by) "
        "VALUES ($1, $2, $3, 'Walk-in', 'AB-123-CD', $4)",
        spot_ids[5], slot.start, slot.end, user_ids[ADMIN],
    )
    full = await client.post("/reservations", json=any_spot_body(day, 1), headers=auth(ADMIN))
    assert full.status == 409
    error = (await full.json())["error"]
    assert error["code"] == "lot_full"
    assert "regular" in error["message"] and "12:00–16:00" in error["message"]
    assert day.strftime("%a") in error["message"]


async def test_any_spot_keeps_the_booking_limit_and_the_horizon(client, auth, db_conn):
    await db_conn.execute("UPDATE lot_rules SET max_upcoming_per_driver = 1, booking_horizon_days = 3")
    day = tomorrow()
    assert (await client.post("/reservations", json=any_spot_body(day, 0), headers=auth())).status == 201
    over = await client.post("/reservations", json=any_spot_body(day, 1), headers=auth())
    assert over.status == 409
    assert (await over.json())["error"]["code"] == "booking_limit_reached"
    far = await client.post(
        "/reservations", json=any_spot_body(day + timedelta(days=5), 0), headers=auth(DRIVER2)
    )
    assert far.status == 422
    assert "last bookable day" in (await far.json())["error"]["message"]
    assert await db_conn.fetchval("SELECT count(*) FROM reservations") == 1


async def test_sixty_drivers_racing_for_any_spot_on_two_instances_get_four_distinct_spots(
    start_server, tokens, reset_db, db_conn
):
    first, second = start_server(), start_server()
    drivers = await create_drivers(reset_db, RACERS)
    headers = [
        {"Authorization": f"Bearer {tokens.issue(User(d, f'racer{d}', 'Racer', 'driver'))}"} for d in drivers
    ]
    body = any_spot_body(tomorrow(), 2)
    async with aiohttp.ClientSession() as session:

        async def post(i: int) -> tuple[int, dict]:
            async with session.post((first, second)[i % 2] + "/reservations", json=body, headers=headers[i]) as r:
                return r.status, await r.json()

        answers = await asyncio.gather(*(post(i) for i in range(RACERS)))
    assert Counter(status for status, _ in answers) == {201: 4, 409: RACERS - 4}
    assert Counter(a["error"]["code"] for s, a in answers if s == 409) == {"lot_full": RACERS - 4}
    won = sorted(a["spot_number"] for s, a in answers if s == 201)
    assert won == [2, 3, 4, 5]  # four distinct regular spots; the accessible Spot 1 is not assigned
    rows = await db_conn.fetch("SELECT spot_id, user_id FROM reservations WHERE status = 'booked'")
    assert len(rows) == 4 and len({r["user_id"] for r in rows}) == 4


async def test_the_attendant_books_any_spot_for_a_walk_in_or_a_driver(client, auth, spot_ids, db_conn, user_ids):
    day = tomorrow()
    audited_before = await db_conn.fetchval("SELECT coalesce(max(id), 0) FROM audit_log")  # append-only
    walk_in = {"name": "Walk-in", "licence_plate": "new 77"}
    booked = await client.post(
        "/admin/reservations", json=any_spot_body(day, 1, guest=walk_in), headers=auth(ADMIN)
    )
    assert booked.status == 201, await booked.text()
    body = await booked.json()
    # The same choice as a driver's: the lowest regular spot, never the accessible Spot 1.
    assert (body["spot_number"], body["created_by"]["user_id"]) == (2, user_ids[ADMIN])
    assert body["holder"] == {"guest_name": "Walk-in", "licence_plate": "NEW 77"}
    assert body["waiting_in_line"] == 0

    for_driver = any_spot_body(day, 1, user_id=user_ids[DRIVER2])
    second = await client.post("/admin/reservations", json=for_driver, headers=auth(ADMIN))
    assert second.status == 201
    assert (await second.json())["spot_number"] == 3
    twice = await client.post("/admin/reservations", json=for_driver, headers=auth(ADMIN))
    assert twice.status == 409
    error = (await twice.json())["error"]
    assert error["code"] == "already_booked_in_slot" and error["message"].startswith("Driver 2 already has Spot #3")

    # Each is recorded as the attendant's booking for someone else, in the same transaction.
    actions = await db_conn.fetch("SELECT action, actor_id FROM audit_log WHERE id > $1 ORDER BY id", audited_before)
    assert [(a["action"], a["actor_id"]) for a in actions] == [("reservation.booked_for", user_ids[ADMIN])] * 2

    for plate in ("W 1", "W 2"):
        guest = {"name": "Walk-in", "licence_plate": plate}
        answer = await client.post("/admin/reservations", json=any_spot_body(day, 1, guest=guest), headers=auth(ADMIN))
        assert answer.status == 201
    full = await client.post("/admin/reservations", json=any_spot_body(day, 1, guest=walk_in), headers=auth(ADMIN))
    assert full.status == 409 and (await full.json())["error"]["code"] == "lot_full"
    assert await db_conn.fetchval("SELECT count(*) FROM reservations") == 4


async def test_the_attendants_any_spot_books_with_the_drivers_named_vehicle(client, auth, spot_ids, db_conn, user_ids):
    vehicles = []
    for plate in ("CAR-1", "CAR-2"):
        added = await client.post("/me/vehicles", json={"licence_plate": plate}, headers=auth(DRIVER1))
        vehicles.append((await added.json())["id"])
    day = tomorrow()
    # The attendant books with the car the gate saw.
    desk = any_spot_body(day, 1, user_id=user_ids[DRIVER1], vehicle_id=vehicles[0])
    booked = await client.post("/admin/reservations", json=desk, headers=auth(ADMIN))
    assert booked.status == 201
    assert (await booked.json())["vehicle"]["licence_plate"] == "CAR-1"
    # Another driver's vehicle: refused, and nothing written.
    for_other = any_spot_body(day, 2, user_id=user_ids[DRIVER2], vehicle_id=vehicles[0])
    refused = await client.post("/admin/reservations", json=for_other, headers=auth(ADMIN))
    assert refused.status == 404
    assert "is not one of Driver 2's vehicles" in (await refused.json())["error"]["message"]
    assert await db_conn.fetchval("SELECT count(*) FROM reservations") == 1


async def test_a_drivers_any_spot_books_with_the_vehicle_named_and_never_anothers(client, auth, spot_ids, db_conn):
    vehicles = []
    for plate in ("CAR-1", "CAR-2"):
        added = await client.post("/me/vehicles", json={"licence_plate": plate}, headers=auth(DRIVER1))
        vehicles.append((await added.json())["id"])
    day = tomorrow()
    mine = await client.post("/reservations", json=any_spot_body(day, 0, vehicle_id=vehicles[1]), headers=auth(DRIVER1))
    assert mine.status == 201
    assert (await mine.json())["vehicle"]["licence_plate"] == "CAR-2"
    theirs = await client.post("/reservations", json=any_spot_body(day, 2, vehicle_id=vehicles[0]), headers=auth(DRIVER2))
    assert theirs.status == 404
    assert (await theirs.json())["error"]["code"] == "vehicle_not_found"
    assert await db_conn.fetchval("SELECT count(*) FROM reservations") == 1


async def test_walk_ins_racing_for_any_spot_at_two_gates_get_distinct_spots(start_server, tokens, user_ids, db_conn):
    first, second = start_server(), start_server()
    admin = {"Authorization": f"Bearer {tokens.issue(User(user_ids[ADMIN], ADMIN, 'Bob', 'admin'))}"}
    day = tomorrow()
    async with aiohttp.ClientSession() as session:

        async def post(i: int) -> tuple[int, dict]:
            body = any_spot_body(day, 2, guest={"name": "Walk-in", "licence_plate": f"GATE {i}"})
            async with session.post((first, second)[i % 2] + "/admin/reservations", json=body, headers=admin) as r:
                return r.status, await r.json()

        answers = await asyncio.gather(*(post(i) for i in range(20)))
    assert Counter(status for status, _ in answers) == {201: 4, 409: 16}
    assert {a["error"]["code"] for s, a in answers if s == 409} == {"lot_full"}
    assert sorted(a["spot_number"] for s, a in answers if s == 201) == [2, 3, 4, 5]
    assert await db_conn.fetchval("SELECT count(DISTINCT spot_id) FROM reservations WHERE status = 'booked'") == 4
