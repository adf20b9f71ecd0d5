"""GET /stats (occupancy by hour) with exact numbers, and the CSV export of a driver's history."""

from __future__ import annotations

import asyncio
import csv
import io
import socket
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.slots import today
from tests.support import DRIVER1, DRIVER2, eventually, slot_body, tomorrow

UTC = ZoneInfo("UTC")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def insert(conn, user_id, spot_id, start, end, completed_at=None, released_by=None):
    status = "booked" if completed_at is None else "completed"
    return await conn.fetchval(
        "INSERT INTO reservations (user_id, spot_id, start_time, end_time, status, completed_at, released_by) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        user_id, spot_id, at(start), at(end), status,
        at(completed_at) if completed_at else None, released_by,
    )


async def test_stats_give_exact_average_occupancy_per_hour(client, auth, db_conn, user_ids, spot_ids):
    d1, d2 = user_ids[DRIVER1], user_ids[DRIVER2]
    # Over 2026-01-05..06 every hour of the day has two one-hour buckets.
    await insert(db_conn, d1, spot_ids[1], "2026-01-05 08:00", "2026-01-05 12:00")
    # Released early, at 09:30: occupies 08:00-09:30.
    await insert(db_conn, d2, spot_ids[2], "2026-01-05 08:00", "2026-01-05 12:00", "2026-01-05 09:30", "user")
    # Released before it started: occupies nothing.
    await insert(db_conn, d1, spot_ids[3], "2026-01-06 08:00", "2026-01-06 12:00", "2026-01-06 07:00", "user")
    # Auto-released after its end: occupies its whole slot, not until completed_at.
    await insert(db_conn, d2, spot_ids[4], "2026-01-06 16:00", "2026-01-06 20:00", "2026-01-06 20:01", "expired")
    # Crosses the start of the range: only 00:00-02:00 on the 5th counts.
    await insert(db_conn, d1, spot_ids[5], "2026-01-04 22:00", "2026-01-05 02:00")
    # Entirely outside the range.
    await insert(db_conn, d1, spot_ids[5], "2026-01-07 08:00", "2026-01-07 12:00")

    response = await client.get("/stats?from=2026-01-05&to=2026-01-06", headers=auth())
    assert response.status == 200
    body = await response.json()
    assert (body["from"], body["to"], body["timezone"], body["spot_count"]) == ("2026-01-05", "2026-01-06", "UTC", 5)
    expected = {0: 0.5, 1: 0.5, 8: 1.0, 9: 0.75, 10: 0.5, 11: 0.5, 16: 0.5, 17: 0.5, 18: 0.5, 19: 0.5}
    assert [h["hour"] for h in body["hours"]] == list(range(24))
    assert {h["hour"]: h["average_occupied"] for h in body["hours"]} == {h: expected.get(h, 0.0) for h in range(24)}
    assert body["hours"][8]["occupancy_ratio"] == 0.2
    assert body["hours"][9]["occupancy_ratio"] == 0.15
    assert body["peak_hours"] == [8]


async def test_stats_follow_the_lot_zone_and_report_tied_peaks(make_client, auth, db_conn, user_ids, spot_ids):
    client = await make_client(parking_timezone="Asia/Tokyo")  # UTC+9, no DST
    await insert(db_conn, user_ids[DRIVER1], spot_ids[1], "2026-01-04 23:00", "2026-01-05 01:00")
    body = await (await client.get("/stats?from=2026-01-05&to=2026-01-05", headers=auth())).json()
    # 23:00-01:00 UTC is 08:00-10:00 in Tokyo.
    assert {h["hour"]: h["average_occupied"] for h in body["hours"] if h["average_occupied"]} == {8: 1.0, 9: 1.0}
    assert body["peak_hours"] == [8, 9]


async def test_bookings_later_today_have_not_occupied_anything_yet(client, auth, db_conn, user_ids, spot_ids):
    now = datetime.now(UTC)
    await insert(db_conn, user_ids[DRIVER1], spot_ids[1], (now + timedelta(hours=1)).isoformat()[:16],
                 (now + timedelta(hours=3)).isoformat()[:16])
    body = await (await client.get(f"/stats?from={today(UTC)}&to={today(UTC)}", headers=auth())).json()
    assert len(body["hours"]) == 24
    assert all(h["average_occupied"] == 0 for h in body["hours"]) and body["peak_hours"] == []


async def test_stats_default_to_the_last_30_days_and_an_empty_lot_has_no_peak(client, auth):
    body = await (await client.get("/stats", headers=auth())).json()
    assert body["to"] == today(UTC).isoformat()
    assert body["from"] == (today(UTC) - timedelta(days=29)).isoformat()
    assert body["peak_hours"] == []


@pytest.mark.parametrize(
    "query, fragment",
    [
        ("from=2026-02-01&to=2026-01-01", "'from' must be on or before 'to'"),
        ("from=2025-01-01&to=2026-01-02", "at most 366 days"),
        ("from=2026-02-30", "'from' must be a date"),
        ("to=yesterday", "'to' must be a date"),
    ],
)
async def test_invalid_stats_ranges_are_422(client, auth, query, fragment):
    response = await client.get(f"/stats?{query}", headers=auth())
    assert response.status == 422
    assert fragment in (await response.json())["error"]["message"]


async def test_a_full_leap_year_range_is_allowed(client, auth):
    assert (await client.get("/stats?from=2028-01-01&to=2028-12-31", headers=auth())).status == 200


async def test_csv_export_holds_exactly_the_callers_rows(client, auth, spot_ids):
    day = tomorrow()
    mine = []
    for index in range(3):
        response = await client.post("/reservations", json=slot_body(spot_ids[2], day, index), headers=auth(DRIVER1))
        mine.append(await response.json())
    await client.put(f"/reservations/{mine[0]['id']}/complete", headers=auth(DRIVER1))
    await client.post("/reservations", json=slot_body(spot_ids[3], day), headers=auth(DRIVER2))

    response = await client.get("/reservations/export.csv", headers=auth(DRIVER1))
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="smart-parking-reservations-{today(UTC).isoformat()}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [int(r["id"]) for r in rows] == [r["id"] for r in mine]
    assert list(rows[0]) == [
        "id", "spot_number", "floor", "start", "end", "status",
        "completed_at", "released_by", "release_reason", "checked_in_at",
    ]  # fmt: skip
    first = rows[0]
    assert (first["spot_number"], first["floor"], first["status"], first["released_by"]) == ("2", "1", "completed", "user")
    assert datetime.fromisoformat(first["start"]) == datetime.fromisoformat(mine[0]["start_time"])
    assert datetime.fromisoformat(first["completed_at"]).utcoffset() is not None
    assert (rows[1]["status"], rows[1]["completed_at"], rows[1]["released_by"]) == ("booked", "", "")


async def test_csv_export_streams_a_long_history(client, auth, db_conn, user_ids, spot_ids):
    await db_conn.execute(
        "INSERT INTO reservations (user_id, spot_id, start_time, end_time) "
        "SELECT $1, $2, t, t + interval '4 hours' "
        "FROM generate_series(timestamptz '2020-01-01', timestamptz '2020-01-01' + interval '4 hours' * 4999, interval '4 hours') t",
        user_ids[DRIVER2], spot_ids[4],
    )
    response = await client.get("/reservations/export.csv", headers=auth(DRIVER2))
    assert response.headers.get("Transfer-Encoding") == "chunked"
    rows = list(csv.reader(io.StringIO(await response.text())))
    assert len(rows) == 1 + 5000


async def test_stats_equal_a_brute_force_count_over_random_history(make_client, auth, db_conn, user_ids, spot_ids):
    """The query's edge arithmetic against counting every occupied second, bucket by bucket."""
    import random
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    client = await make_client(parking_timezone="Europe/Berlin")
    rng = random.Random(16)
    first, last = date(2026, 3, 25), date(2026, 4, 3)  # across the spring DST change (29 Mar)
    rows = []
    for _ in range(300):
        day = first + timedelta(days=rng.randrange(-1, (last - first).days + 2))
        local_start = datetime.combine(day, time(6), berlin) + timedelta(minutes=rng.randrange(0, 14 * 60))
        start = local_start.astimezone(UTC)
        # Mostly within the day; some run past midnight (never across the DST night).
        hours = rng.choice([1, 2, 4, 4, 4]) if day != date(2026, 3, 28) else 4
        if rng.random() < 0.1 and day != date(2026, 3, 28):
            hours = rng.randrange(5, 30)
        end = start + timedelta(hours=hours)
        completed = None
        if rng.random() < 0.3:
            completed = start + (end - start) * rng.uniform(-0.5, 1.5)  # early, late, or before it began
        rows.append((start, end, completed))
    # All completed (those that ran their course just after their end), so that
    # overlapping random rows do not meet the booked-slot key.
    await db_conn.executemany(
        "INSERT INTO reservations (user_id, spot_id, start_time, end_time, status, completed_at, released_by) "
        "VALUES ($1, $2, $3, $4, 'completed', $5, 'user')",
        [
            (user_ids[DRIVER1], spot_ids[1], start, end, completed or end + timedelta(minutes=1))
            for start, end, completed in rows
        ],
    )

    range_start = datetime.combine(first, time(0), berlin).astimezone(UTC)
    range_end = datetime.combine(last + timedelta(days=1), time(0), berlin).astimezone(UTC)
    occupied_seconds = [0.0] * 24
    buckets = [0] * 24
    bucket = range_start
    while bucket < range_end:
        hour = bucket.astimezone(berlin).hour
        buckets[hour] += 1
        bucket_end = bucket + timedelta(hours=1)
        for start, end, completed in rows:
            until = min(end, completed or end)
            overlap = (min(until, bucket_end) - max(start, bucket)).total_seconds()
            occupied_seconds[hour] += max(0.0, overlap)
        bucket = bucket_end
    expected = [round(occupied_seconds[h] / 3600 / buckets[h], 4) for h in range(24)]

    body = await (await client.get(f"/stats?from={first}&to={last}", headers=auth())).json()
    assert [h["average_occupied"] for h in body["hours"]] == expected


async def test_a_client_that_leaves_mid_export_stops_it_without_blaming_the_database(
    client, auth, db_conn, user_ids, spot_ids, caplog
):
    caplog.set_level("INFO", logger="server.csv_export")
    await db_conn.execute(
        "INSERT INTO reservations (user_id, spot_id, start_time, end_time, status, completed_at, released_by) "
        "SELECT $1, $2, t, t + interval '4 hours', 'completed', t, 'user' "
        "FROM generate_series(timestamptz '2000-01-01', timestamptz '2000-01-01' + interval '4 hours' * 49999, interval '4 hours') t",
        user_ids[DRIVER2], spot_ids[4],
    )
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # no room to take it all in
    sock.connect((client.host, client.port))
    reader, writer = await asyncio.open_connection(sock=sock)
    token = auth(DRIVER2)["Authorization"]
    writer.write(f"GET /reservations/export.csv HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\n\r\n".encode())
    # Generous: the first batch follows the query, on a machine that may be busy.
    assert (await asyncio.wait_for(reader.readline(), 30)).startswith(b"HTTP/1.1 200")
    writer.transport.abort()  # unread data: the server's next writes fail
    await eventually(lambda: "CSV export stopped: the client went away" in caplog.messages, timeout=30)
    assert not [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")]
    assert (await client.get("/reservations/export.csv", headers=auth(DRIVER1))).status == 200
