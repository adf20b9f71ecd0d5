"""The waitlist: joining a full slot, and the database handing a freed spot to the first in line."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import aiohttp
import asyncpg

from server import repository
from server.repository.users import User
from tests.support import ADMIN, DRIVER1, DRIVER2, next_of_type, open_socket, slot_body, tomorrow


async def make_drivers(conn: asyncpg.Connection, prefix: str, count: int) -> list[User]:
    rows = await conn.fetch(
        "INSERT INTO users (email, display_name) "
        "SELECT $1 || n || '@parking.com', $1 || ' ' || n FROM generate_series(1, $2) n "
        "RETURNING id, email, display_name",
        prefix,
        count,
    )
    return [User(r["id"], r["email"], r["display_name"], "driver") for r in rows]


async def fill_slot(conn: asyncpg.Connection, holders: list[User], spot_ids: list[int], body: dict) -> list[int]:
    """Book the slot of `body` on each spot for one holder each; the reservations' ids."""
    return [
        await conn.fetchval(
            "INSERT INTO reservations (user_id, spot_id, start_time, end_time) "
            "VALUES ($1, $2, $3::text::timestamptz, $4::text::timestamptz) RETURNING id",
            holder.id,
            spot_id,
            body["start_time"],
            body["end_time"],
        )
        for holder, spot_id in zip(holders, spot_ids, strict=True)
    ]


def every_spot(spot_ids: dict[int, int]) -> list[int]:
    """The seed's five spots by number: spot 1 (accessible) first."""
    return [spot_ids[n] for n in range(1, 6)]


def wait_body(body: dict, **extra) -> dict:
    return {"start_time": body["start_time"], "end_time": body["end_time"], **extra}


def bearer(tokens, user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.issue(user)}"}


async def test_a_full_slot_takes_a_driver_in_line_and_a_release_hands_them_the_spot(
    client, auth, tokens, db_conn, spot_ids, user_ids
):
    body = slot_body(spot_ids[3], tomorrow())
    holders = await make_drivers(db_conn, "holder", 5)
    reservation_ids = await fill_slot(db_conn, holders, every_spot(spot_ids), body)

    first = await client.post("/waitlist", json=wait_body(body), headers=auth(DRIVER1))
    assert first.status == 201, await first.text()
    entry = (await first.json())["entry"]
    assert entry["position"] == 1 and entry["status"] == "waiting" and entry["spot_type"] == "regular"
    second = await client.post("/waitlist", json=wait_body(body), headers=auth(DRIVER2))
    assert (await second.json())["entry"]["position"] == 2

    released = await client.put(
        f"/reservations/{reservation_ids[2]}/complete", headers=bearer(tokens, holders[2])
    )
    assert released.status == 200

    mine = await (await client.get("/waitlist", headers=auth(DRIVER1))).json()
    assert [(e["status"], e["position"]) for e in mine["entries"]] == [("assigned", None)]
    assigned = await client.get(f"/reservations/{mine['entries'][0]['reservation_id']}", headers=auth(DRIVER1))
    reservation = await assigned.json()
    assert reservation["spot_id"] == body["spot_id"] and reservation["status"] == "booked"
    assert reservation["from_waitlist"] is True
    assert reservation["created_by"]["user_id"] == user_ids[DRIVER1]
    theirs = await (await client.get("/waitlist", headers=auth(DRIVER2))).json()
    assert [(e["status"], e["position"]) for e in theirs["entries"]] == [("waiting", 1)]

    # The assigned driver is told, in the release's transaction, and nobody else is.
    told = await db_conn.fetch("SELECT user_id, kind, reservation_id FROM notifications")
    assert [tuple(r) for r in told] == [(user_ids[DRIVER1], "waitlist_assigned", reservation["id"])]
    assert await db_conn.fetchval("SELECT count(*) FROM deliveries WHERE channel = 'email'") == 1
    inbox = await (await client.get("/me/notifications", headers=auth(DRIVER1))).json()
    assert inbox["unread_count"] == 1
    assert inbox["notifications"][0]["title"] == "A spot came free: it is yours"
    assert f"Spot #{reservation['spot_number']} (floor" in inbox["notifications"][0]["body"]


async def test_joining_is_refused_when_a_spot_is_free_or_the_driver_is_booked_or_waiting(
    client, auth, db_conn, spot_ids
):
    body = slot_body(spot_ids[2], tomorrow(), 1)
    free = await client.post("/waitlist", json=wait_body(body), headers=auth())
    assert free.status == 409
    error = (await free.json())["error"]
    assert error["code"] == "slot_available" and "book it instead" in error["message"]

    holders = await make_drivers(db_conn, "holder", 4)
    regular = [spot_ids[n] for n in (2, 3, 4, 5)]
    await fill_slot(db_conn, holders, regular, body)
    # The accessible spot is still free: a driver waiting for it is told to book it.
    handicap = await client.post("/waitlist", json=wait_body(body, spot_type="handicap"), headers=auth())
    assert (await handicap.json())["error"]["code"] == "slot_available"

    assert (await client.post("/waitlist", json=wait_body(body), headers=auth())).status == 201
    again = await client.post("/waitlist", json=wait_body(body, spot_id=spot_ids[3]), headers=auth())
    assert again.status == 409 and (await again.json())["error"]["code"] == "already_waiting"

    booked = await client.post("/reservations", json=slot_body(spot_ids[1], tomorrow(), 1), headers=auth(DRIVER2))
    assert booked.status == 201
    holding = await client.post("/waitlist", json=wait_body(body), headers=auth(DRIVER2))
    assert holding.status == 409 and (await holding.json())["error"]["code"] == "already_booked_in_slot"

    ended = slot_body(spot_ids[2], tomorrow() - timedelta(days=2))
    assert (await client.post("/waitlist", json=wait_body(ended), headers=auth())).status == 422
    far = slot_body(spot_ids[2], tomorrow() + timedelta(days=60))
    response = await client.post("/waitlist", json=wait_body(far), headers=auth())
    assert response.status == 422 and "last bookable day" in (await response.json())["error"]["message"]
    count = await db_conn.fetchval("SELECT count(*) FROM waitlist_entries")
    assert count == 1


async def test_only_the_owner_sees_or_leaves_an_entry(client, auth, db_conn, spot_ids):
    body = slot_body(spot_ids[2], tomorrow(), 2)
    await fill_slot(db_conn, await make_drivers(db_conn, "holder", 5), every_spot(spot_ids), body)
    entry = (await (await client.post("/waitlist", json=wait_body(body), headers=auth())).json())["entry"]

    others = await (await client.get("/waitlist", headers=auth(DRIVER2))).json()
    assert others["entries"] == []
    refused = await client.delete(f"/waitlist/{entry['id']}", headers=auth(DRIVER2))
    assert refused.status == 404 and (await refused.json())["error"]["code"] == "waitlist_entry_not_found"
    assert (await client.delete(f"/waitlist/{entry['id']}", headers=auth())).status == 204
    assert (await (await client.get("/waitlist", headers=auth())).json())["entries"] == []


async def test_a_driver_who_cannot_take_the_spot_is_skipped_and_keeps_their_place(
    client, auth, tokens, db_conn, spot_ids, user_ids
):
    body = slot_body(spot_ids[4], tomorrow())
    holders = await make_drivers(db_conn, "holder", 5)
    reservation_ids = await fill_slot(db_conn, holders, every_spot(spot_ids), body)
    waiting = await make_drivers(db_conn, "waiting", 2)
    for driver in waiting:
        response = await client.post("/waitlist", json=wait_body(body), headers=bearer(tokens, driver))
        assert response.status == 201
    # The first in line reaches the limit of one booking meanwhile.
    await db_conn.execute("UPDATE lot_rules SET max_upcoming_per_driver = 1")
    other_slot = slot_body(spot_ids[2], tomorrow(), 2)
    booked = await client.post("/reservations", json=other_slot, headers=bearer(tokens, waiting[0]))
    assert booked.status == 201

    await client.put(f"/reservations/{reservation_ids[3]}/complete", headers=bearer(tokens, holders[3]))
    lines = {
        e["user_id"]: (e["status"], e["position"])
        for e in await db_conn.fetch(f"SELECT {repository.waitlist.ENTRY_COLUMNS} FROM waitlist_entries w")
    }
    assert lines == {waiting[0].id: ("waiting", 1), waiting[1].id: ("assigned", None)}

    # The first in line then holds a spot in that very slot (the attendant
    # booked for them): the next freed spot skips them again.
    await db_conn.execute("UPDATE lot_rules SET max_upcoming_per_driver = NULL")
    third = await make_drivers(db_conn, "late", 1)
    await client.post("/waitlist", json=wait_body(body), headers=bearer(tokens, third[0]))
    for_them = {**slot_body(spot_ids[1], tomorrow()), "user_id": waiting[0].id}
    await client.put(f"/reservations/{reservation_ids[0]}/complete", headers=bearer(tokens, holders[0]))
    # Spot 1 is accessible: no regular entry matches it, so it stays free.
    assert await db_conn.fetchval(
        "SELECT count(*) FROM reservations WHERE spot_id = $1 AND status = 'booked'", spot_ids[1]
    ) == 0
    response = await client.post("/admin/reservations", json=for_them, headers=auth(ADMIN))
    assert response.status == 201 and (await response.json())["waiting_in_line"] == 2
    await client.put(f"/reservations/{reservation_ids[4]}/complete", headers=bearer(tokens, holders[4]))
    statuses = dict(await db_conn.fetch("SELECT user_id, status FROM waitlist_entries"))
    assert statuses == {waiting[0].id: "waiting", waiting[1].id: "assigned", third[0].id: "assigned"}


async def test_a_no_show_release_assigns_but_a_closure_and_an_expiry_do_not(
    client, auth, db_conn, spot_ids, reset_db, user_ids
):
    holders = await make_drivers(db_conn, "holder", 2)

    async def booking_with_a_line(holder: User, waiter: int, span: str) -> int:
        """A booking of `span` made two hours ago, and `waiter` in line for its slot."""
        reservation_id = await db_conn.fetchval(
            f"INSERT INTO reservations (user_id, spot_id, start_time, end_time, created_at) "
            f"VALUES ($1, $2, {span}, now() - interval '2 hours') RETURNING id",
            holder.id,
            spot_ids[2],
        )
        await db_conn.execute(
            "INSERT INTO waitlist_entries (user_id, start_time, end_time, slot_date, lot_timezone) "
            "SELECT $1, start_time, end_time, (start_time AT TIME ZONE 'UTC')::date, 'UTC' "
            "FROM reservations WHERE id = $2",
            waiter,
            reservation_id,
        )
        return reservation_id

    pool = await asyncpg.create_pool(reset_db, min_size=1, max_size=1)
    try:
        # A slot that began an hour ago, nobody checked in, the grace is 30 minutes.
        no_show = await booking_with_a_line(
            holders[0], user_ids[DRIVER1], "now() - interval '1 hour', now() + interval '3 hours'"
        )
        await db_conn.execute("UPDATE lot_rules SET no_show_grace_minutes = 30")
        assert [r["id"] for r in await repository.arrivals.release_no_shows(pool, limit=1000)] == [no_show]
        await db_conn.execute("UPDATE lot_rules SET no_show_grace_minutes = 0")
        # A slot that ended an hour ago.
        ended = await booking_with_a_line(
            holders[1], user_ids[DRIVER2], "now() - interval '5 hours', now() - interval '1 hour'"
        )
        assert [r["id"] for r in await repository.arrivals.release_expired(pool, limit=1000)] == [ended]
        assert await repository.waitlist.expire_ended(pool) == 1
    finally:
        await pool.close()
    entries = dict(await db_conn.fetch("SELECT user_id, status FROM waitlist_entries"))
    assert entries == {user_ids[DRIVER1]: "assigned", user_ids[DRIVER2]: "expired"}

    # A closure releases tomorrow's booking on spot 3; the driver waiting for it gets nothing.
    body = slot_body(spot_ids[3], tomorrow())
    await fill_slot(db_conn, await make_drivers(db_conn, "full", 5), every_spot(spot_ids), body)
    joined = await client.post("/waitlist", json=wait_body(body, spot_id=spot_ids[3]), headers=auth(DRIVER2))
    assert joined.status == 201
    closure = {**body, "reason": "Repainting the lines"}
    response = await client.post("/admin/closures", json=closure, headers=auth(ADMIN))
    assert response.status == 201 and len((await response.json())["released"]) == 1
    assert await db_conn.fetchval(
        "SELECT status FROM waitlist_entries WHERE id = $1", (await joined.json())["entry"]["id"]
    ) == "waiting"
    assert await db_conn.fetchval(
        "SELECT count(*) FROM reservations WHERE spot_id = $1 AND status = 'booked'", spot_ids[3]
    ) == 0


async def test_a_drivers_socket_never_learns_who_was_assigned(client, auth, db_conn, spot_ids, tokens):
    body = slot_body(spot_ids[5], tomorrow(), 1)
    holders = await make_drivers(db_conn, "holder", 5)
    reservation_ids = await fill_slot(db_conn, holders, every_spot(spot_ids), body)
    assert (await client.post("/waitlist", json=wait_body(body), headers=auth(DRIVER1))).status == 201
    onlooker = auth(DRIVER2)["Authorization"].removeprefix("Bearer ")
    async with aiohttp.ClientSession() as session:
        ws = await open_socket(session, str(client.make_url("/ws")), onlooker)
        await client.put(f"/reservations/{reservation_ids[4]}/complete", headers=bearer(tokens, holders[4]))
        released = await next_of_type(ws, "reservation.released")
        booked = await next_of_type(ws, "reservation.booked")
        moved = await next_of_type(ws, "waitlist.changed")
        await ws.close()
    assert released["spot_id"] == booked["spot_id"] == spot_ids[5]
    for message in (released, booked, moved):
        assert set(message) <= {"type", "spot_id", "spot_number", "start_time", "end_time", "reason"}
        assert "Driver 1" not in str(message)


async def test_releases_racing_direct_bookings_across_two_servers_go_to_the_first_in_line(
    start_server, tokens, db_conn, reset_db
):
    # Five regular spots, all held; twenty drivers in a known order.
    await db_conn.execute("UPDATE spots SET type = 'regular'")
    spots = [r["id"] for r in await db_conn.fetch("SELECT id FROM spots ORDER BY spot_number")]
    body = slot_body(spots[0], tomorrow(), 2)
    holders = await make_drivers(db_conn, "holder", 5)
    reservation_ids = await fill_slot(db_conn, holders, spots, body)
    waiting = await make_drivers(db_conn, "waiting", 20)
    bookers = await make_drivers(db_conn, "booker", 20)
    first, second = start_server(), start_server()
    async with aiohttp.ClientSession() as session:
        for driver in waiting:  # one at a time: this is the line's order
            async with session.post(
                first + "/waitlist", json=wait_body(body), headers=bearer(tokens, driver)
            ) as response:
                assert response.status == 201

        async def release(i: int) -> int:
            url = f"{(first, second)[i % 2]}/reservations/{reservation_ids[i]}/complete"
            async with session.put(url, headers=bearer(tokens, holders[i])) as response:
                return response.status

        async def book_directly(i: int) -> int:
            url = f"{(second, first)[i % 2]}/reservations"
            target = {**body, "spot_id": spots[i % 5]}
            async with session.post(url, json=target, headers=bearer(tokens, bookers[i])) as response:
                return response.status

        results = await asyncio.gather(
            *(release(i) for i in range(5)), *(book_directly(i) for i in range(20))
        )
    assert results[:5] == [200] * 5
    assert Counter(results[5:]) == {409: 20}

    held = await db_conn.fetch(
        "SELECT user_id, spot_id, from_waitlist FROM reservations "
        "WHERE start_time = $1::text::timestamptz AND status = 'booked'",
        body["start_time"],
    )
    assert sorted(r["user_id"] for r in held) == sorted(d.id for d in waiting[:5])
    assert sorted(r["spot_id"] for r in held) == sorted(spots)
    assert all(r["from_waitlist"] for r in held)
    line = await db_conn.fetch(
        f"SELECT {repository.waitlist.ENTRY_COLUMNS} FROM waitlist_entries w ORDER BY w.created_at"
    )
    assert [(e["user_id"], e["status"]) for e in line[:5]] == [(d.id, "assigned") for d in waiting[:5]]
    assert [(e["user_id"], e["position"]) for e in line[5:]] == [
        (d.id, n) for n, d in enumerate(waiting[5:], start=1)
    ]


async def test_the_attendant_sees_how_many_wait_per_slot_and_who_in_order(client, auth, db_conn, spot_ids, user_ids):
    day = tomorrow()
    body = slot_body(spot_ids[2], day, 1)
    await fill_slot(db_conn, await make_drivers(db_conn, "holder", 5), every_spot(spot_ids), body)
    for email in (DRIVER2, DRIVER1):
        assert (await client.post("/waitlist", json=wait_body(body), headers=auth(email))).status == 201

    board = await (await client.get(f"/admin/board?date={day}", headers=auth(ADMIN))).json()
    assert board["waitlist"] == [{"start_time": body["start_time"], "end_time": body["end_time"], "waiting": 2}]
    lines = await (await client.get(f"/admin/waitlist?date={day}", headers=auth(ADMIN))).json()
    assert [(e["position"], e["user"]["email"]) for e in lines["entries"]] == [(1, DRIVER2), (2, DRIVER1)]
    # Drivers see neither.
    assert "waitlist" not in await (await client.get(f"/spots?date={day}", headers=auth(DRIVER1))).json()
    assert (await client.get(f"/admin/waitlist?date={day}", headers=auth(DRIVER1))).status == 403
