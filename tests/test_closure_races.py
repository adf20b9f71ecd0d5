"""Closures and attendant bookings under races: across processes, and lock by lock."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg
import pytest

from server import repository
from server.errors import SpotClosed
from server.slots import slots_on
from tests.support import ADMIN, DRIVER1, DRIVER2, slot_body, tomorrow

ROUNDS = 5
UTC = ZoneInfo("UTC")


async def test_bookings_racing_a_closure_across_two_processes_leave_nothing_booked_inside_it(
    start_server, auth, spot_ids, reset_db
):
    # 250 racing bookings per driver, far past the write limit: the race is the point here.
    servers = [start_server(BOOKING_WRITES_PER_MINUTE="1000"), start_server(BOOKING_WRITES_PER_MINUTE="1000")]
    outcomes: list[tuple[int, str | None]] = []
    async with aiohttp.ClientSession() as session:

        async def post(index: int, path: str, body: dict, headers: dict) -> tuple[int, dict]:
            async with session.post(servers[index % 2] + path, json=body, headers=headers) as response:
                return response.status, await response.json()

        for round_ in range(ROUNDS):
            day = tomorrow() + timedelta(days=round_)
            booking = slot_body(spot_ids[3], day, round_ % 3)
            closure = {**booking, "reason": f"Round {round_}"}
            drivers = [auth(DRIVER1), auth(DRIVER2)]
            requests = [post(i, "/reservations", booking, drivers[i % 2]) for i in range(100)]
            # The closure goes out in the middle of the burst, on either process.
            requests.insert(50, post(round_, "/admin/closures", closure, auth(ADMIN)))
            answers = await asyncio.gather(*requests)

            closure_status, closure_body = answers.pop(50)
            assert closure_status == 201
            for status, body in answers:
                assert status in (201, 409), body
                outcomes.append((status, body.get("error", {}).get("code")))
            won = [body["id"] for status, body in answers if status == 201]
            # Whoever won before the closure committed was released by it.
            assert sorted(closure_body["released"]) == sorted(won)

            conn = await asyncpg.connect(reset_db)
            try:
                booked = await conn.fetchval(
                    "SELECT count(*) FROM reservations WHERE spot_id = $1 AND start_time = $2 "
                    "AND status = 'booked'",
                    spot_ids[3], datetime.fromisoformat(booking["start_time"]),
                )
            finally:
                await conn.close()
            assert booked == 0

    codes = {code for status, code in outcomes if status == 409}
    assert codes <= {"slot_taken", "spot_closed"}
    # Requests sent after the closure committed were told so.
    assert "spot_closed" in codes


async def test_an_attendant_and_a_driver_racing_for_one_slot_get_one_booking(
    start_server, auth, spot_ids, reset_db
):
    first, second = start_server(), start_server()
    async with aiohttp.ClientSession() as session:
        for round_ in range(20):
            day = tomorrow() + timedelta(days=round_ % 10)
            body = slot_body(spot_ids[1 + round_ % 5], day, round_ % 3)
            walk_in = {**body, "guest": {"name": f"Guest {round_}", "licence_plate": f"R{round_}"}}
            async with asyncio.TaskGroup() as group:
                attendant = group.create_task(session.post(first + "/admin/reservations", json=walk_in, headers=auth(ADMIN)))
                driver = group.create_task(session.post(second + "/reservations", json=body, headers=auth(DRIVER1)))
            statuses = sorted([attendant.result().status, driver.result().status])
            assert statuses == [201, 409]
    conn = await asyncpg.connect(reset_db)
    try:
        assert await conn.fetchval("SELECT count(*) FROM reservations WHERE status = 'booked'") == 20
    finally:
        await conn.close()


# --- the locks, one interleaving at a time -----------------------------------------------------


@pytest.fixture
async def pool(reset_db):
    pool = await asyncpg.create_pool(reset_db, min_size=1, max_size=3)
    yield pool
    # A failed test may not have released its connection: do not wait for it.
    pool.terminate()


async def wait_until_blocked_on_a_lock(conn: asyncpg.Connection, timeout: float = 5.0) -> None:
    """Until some other session of this database waits for a lock (an event, not a sleep)."""
    async with asyncio.timeout(timeout):
        while not await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid())"
        ):
            pass


async def test_a_closure_waits_for_a_booking_in_flight_then_releases_it(pool, spot_ids, user_ids, db_conn):
    slot = slots_on(tomorrow(), UTC)[0]
    booking = await pool.acquire()
    transaction = booking.transaction()
    await transaction.start()
    reservation_id = await booking.fetchval(
        "INSERT INTO reservations (user_id, spot_id, start_time, end_time) VALUES ($1, $2, $3, $4) RETURNING id",
        user_ids[DRIVER1], spot_ids[2], slot.start, slot.end,
    )
    closing = asyncio.create_task(
        repository.closures.create_closure(
            pool, spot_id=spot_ids[2], start=slot.start, end=slot.end, reason="Paint", created_by=user_ids[ADMIN]
        )
    )
    # The closure's FOR UPDATE on the spot waits for the booking's FOR KEY SHARE.
    await wait_until_blocked_on_a_lock(db_conn)
    assert not closing.done()
    await transaction.commit()
    await pool.release(booking)
    _, released = await closing
    assert released == [reservation_id]


async def test_a_booking_waits_for_a_closure_in_flight_then_is_refused(pool, spot_ids, user_ids, db_conn):
    slot = slots_on(tomorrow(), UTC)[1]
    closer = await pool.acquire()
    transaction = closer.transaction()
    await transaction.start()
    await closer.execute("SELECT 1 FROM spots WHERE id = $1 FOR UPDATE", spot_ids[4])
    await closer.execute(
        "INSERT INTO closures (spot_id, start_time, end_time, reason, created_by) VALUES ($1, $2, $3, 'x', $4)",
        spot_ids[4], slot.start, slot.end, user_ids[ADMIN],
    )
    booking = asyncio.create_task(
        repository.reservations.book(
            pool,
            spot_id=spot_ids[4],
            slot=slot,
            lot_today=tomorrow() - timedelta(days=1),
            user_id=user_ids[DRIVER1],
            created_by=user_ids[DRIVER1],
        )
    )
    # The booking's trigger waits for the closure's lock, then sees the closure.
    await wait_until_blocked_on_a_lock(db_conn)
    assert not booking.done()
    await transaction.commit()
    await pool.release(closer)
    with pytest.raises(SpotClosed):
        await booking
