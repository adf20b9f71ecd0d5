"""Real parallel requests: exactly one winner per slot, within one app and across two."""

from __future__ import annotations

import asyncio
from collections import Counter

import aiohttp
import asyncpg

from tests.support import DRIVER1, DRIVER2, slot_body, tomorrow

RACERS = 60


async def _booked_rows(url: str, spot_id: int) -> int:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM reservations WHERE spot_id = $1 AND status = 'booked'", spot_id
        )
    finally:
        await conn.close()


async def test_two_drivers_racing_for_one_slot_get_one_booking(client, auth, spot_ids, reset_db):
    body = slot_body(spot_ids[5], tomorrow())
    headers = [auth(DRIVER1), auth(DRIVER2)]
    responses = await asyncio.gather(
        *(client.post("/reservations", json=body, headers=headers[i % 2]) for i in range(RACERS))
    )
    statuses = Counter(r.status for r in responses)
    assert statuses == {201: 1, 409: RACERS - 1}
    codes = Counter([(await r.json()).get("error", {}).get("code") for r in responses if r.status == 409])
    assert codes == {"slot_taken": RACERS - 1}
    assert await _booked_rows(reset_db, spot_ids[5]) == 1


async def test_one_driver_racing_for_two_spots_in_one_slot_gets_one(client, auth, spot_ids, reset_db):
    day = tomorrow()
    bodies = [slot_body(spot_ids[n], day, 1) for n in (2, 3)]
    responses = await asyncio.gather(
        *(client.post("/reservations", json=bodies[i % 2], headers=auth()) for i in range(20))
    )
    assert Counter(r.status for r in responses) == {201: 1, 409: 19}
    codes = Counter([(await r.json())["error"]["code"] for r in responses if r.status == 409])
    # Requests for the winning spot see it taken; those for the other spot see the driver's own booking.
    assert set(codes) == {"slot_taken", "already_booked_in_slot"}


async def test_concurrent_bookings_of_different_slots_all_succeed(client, auth, spot_ids):
    day = tomorrow()
    # Six distinct (spot, slot) pairs; each driver holds one spot per slot.
    bodies = [
        (auth(DRIVER1 if n % 2 else DRIVER2), slot_body(spot_ids[n], day, index))
        for index in range(3)
        for n in (1, 2)
    ]
    responses = await asyncio.gather(
        *(client.post("/reservations", json=body, headers=h) for h, body in bodies)
    )
    assert [r.status for r in responses] == [201] * len(bodies)


async def test_racing_through_two_app_instances_still_has_one_winner(start_server, auth, spot_ids, reset_db):
    first, second = start_server(), start_server()
    body = slot_body(spot_ids[4], tomorrow(), 2)
    headers = [auth(DRIVER1), auth(DRIVER2)]
    async with aiohttp.ClientSession() as session:

        async def post(i: int) -> int:
            base = (first, second)[i % 2]
            async with session.post(base + "/reservations", json=body, headers=headers[(i // 2) % 2]) as r:
                return r.status

        statuses = Counter(await asyncio.gather(*(post(i) for i in range(RACERS))))
    assert statuses == {201: 1, 409: RACERS - 1}
    assert await _booked_rows(reset_db, spot_ids[4]) == 1
