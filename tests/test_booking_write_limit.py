"""A driver's booking writes are rate-limited across servers; the attendant's are not."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from tests.support import ADMIN, DRIVER1, DRIVER2, slot_body, tomorrow

LIMIT = 30  # Settings.booking_writes_per_minute's default


def writes(client, headers, spot_ids, count):
    """`count` booking writes of every kind: bookings, releases and check-ins."""
    requests = []
    for i in range(count):
        kind = i % 3
        if kind == 0:
            body = slot_body(spot_ids[1 + i % 5], tomorrow(), i % 3)
            requests.append(client.post("/reservations", json=body, headers=headers))
        elif kind == 1:
            requests.append(client.put(f"/reservations/{900000 + i}/complete", headers=headers))
        else:
            requests.append(client.put(f"/reservations/{900000 + i}/check-in", headers=headers))
    return requests


async def test_a_parallel_flood_through_two_servers_gets_exactly_the_limit_through(
    make_client, auth, spot_ids
):
    first, second = await make_client(), await make_client()
    headers = auth(DRIVER1)
    requests = writes(first, headers, spot_ids, 25) + writes(second, headers, spot_ids, 25)
    responses = await asyncio.gather(*requests)
    statuses = Counter(r.status for r in responses)
    assert statuses[429] == 50 - LIMIT, statuses
    refused = next(r for r in responses if r.status == 429)
    assert (await refused.json())["error"]["code"] == "too_many_requests"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


async def test_the_limit_is_per_driver_and_ends_with_its_window(client, auth, spot_ids, db_conn):
    for response in await asyncio.gather(*writes(client, auth(DRIVER1), spot_ids, LIMIT)):
        assert response.status != 429
    over = await client.put("/reservations/1/complete", headers=auth(DRIVER1))
    assert over.status == 429

    # A slot none of the writes above touched (they book tomorrow only).
    elsewhere = slot_body(spot_ids[2], tomorrow() + timedelta(days=2))
    other = await client.post("/reservations", json=elsewhere, headers=auth(DRIVER2))
    assert other.status == 201

    # A minute later (moved back in the table rather than waited for).
    await db_conn.execute("UPDATE booking_writes SET window_start = window_start - interval '61 seconds'")
    later = slot_body(spot_ids[3], tomorrow() + timedelta(days=1))
    again = await client.post("/reservations", json=later, headers=auth(DRIVER1))
    assert again.status == 201


async def test_the_attendants_own_writes_are_not_limited(client, auth, spot_ids, user_ids):
    headers = auth(ADMIN)
    responses = await asyncio.gather(*writes(client, headers, spot_ids, LIMIT + 10))
    assert 429 not in {r.status for r in responses}
    desk = []
    for i in range(LIMIT + 5):
        body = {**slot_body(spot_ids[1 + i % 5], tomorrow(), i % 3), "user_id": user_ids[DRIVER2]}
        desk.append(client.post("/admin/reservations", json=body, headers=headers))
        desk.append(client.put(f"/admin/reservations/{900000 + i}/check-in", headers=headers))
    assert 429 not in {r.status for r in await asyncio.gather(*desk)}


async def test_the_limit_is_a_setting(make_client, auth, spot_ids):
    client = await make_client(booking_writes_per_minute=2)
    responses = [await client.put(f"/reservations/{n}/complete", headers=auth(DRIVER1)) for n in (1, 2, 3)]
    assert [r.status for r in responses] == [404, 404, 429]


async def test_starting_and_stopping_a_series_count_as_booking_writes(client, auth, spot_ids):
    for response in await asyncio.gather(*writes(client, auth(DRIVER1), spot_ids, LIMIT)):
        assert response.status != 429
    series = {"weekdays": [1], "slot": 0, "from": str(tomorrow()), "until": str(tomorrow() + timedelta(days=14))}
    started = await client.post("/reservations/series", json=series, headers=auth(DRIVER1))
    assert started.status == 429 and (await started.json())["error"]["code"] == "too_many_requests"
    stopped = await client.delete("/reservations/series/1", headers=auth(DRIVER1))
    assert stopped.status == 429


async def test_joining_and_leaving_the_waitlist_count_as_booking_writes(client, auth, spot_ids, db_conn):
    for response in await asyncio.gather(*writes(client, auth(DRIVER1), spot_ids, LIMIT)):
        assert response.status != 429
    joined = await client.post("/waitlist", json=slot_body(spot_ids[1], tomorrow(), 2), headers=auth(DRIVER1))
    assert joined.status == 429 and (await joined.json())["error"]["code"] == "too_many_requests"
    left = await client.delete("/waitlist/1", headers=auth(DRIVER1))
    assert left.status == 429
    assert await db_conn.fetchval("SELECT count(*) FROM waitlist_entries") == 0
