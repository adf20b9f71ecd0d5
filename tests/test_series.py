"""Weekly series: partial success with each refusal's code, DST-safe dates, pending dates booked once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from server.db import POOL as POOL_KEY
from server.slots import slots_on, today
from server.sweeper import Sweeper
from tests.support import (
    ADMIN,
    DRIVER1,
    DRIVER2,
    afternoon_timezone,
    slot_body,
    tomorrow,
)

EVERY_DAY = [1, 2, 3, 4, 5, 6, 7]


def series_body(first: date, last: date, **extra) -> dict:
    return {"weekdays": EVERY_DAY, "slot": 0, "from": first.isoformat(), "until": last.isoformat(), **extra}


async def snapshot(db_conn) -> list[tuple]:
    rows = await db_conn.fetch(
        "SELECT id, user_id, spot_id, start_time, status, series_id FROM reservations ORDER BY id"
    )
    return [tuple(r) for r in rows]


async def test_a_series_that_partly_fails_books_every_other_date_and_names_each_refusal(
    client, auth, spot_ids, db_conn, user_ids
):
    days = [tomorrow() + timedelta(days=n) for n in range(7)]
    await db_conn.execute("UPDATE lot_rules SET max_upcoming_per_driver = 4")
    # Day 2: someone else holds Spot 3. Day 3: Spot 3 is closed. Day 5: the driver
    # already holds Spot 4 in that slot (one of their 4 allowed bookings).
    taken = await client.post("/reservations", json=slot_body(spot_ids[3], days[1]), headers=auth(DRIVER2))
    own = await client.post("/reservations", json=slot_body(spot_ids[4], days[4]), headers=auth(DRIVER1))
    assert (taken.status, own.status) == (201, 201)
    closed = slots_on(days[2], ZoneInfo("UTC"))[0]
    await db_conn.execute(
        "INSERT INTO closures (spot_id, start_time, end_time, reason, created_by) VALUES ($1, $2, $3, 'Repairs', $4)",
        spot_ids[3], closed.start, closed.end, user_ids[ADMIN],
    )
    before = await snapshot(db_conn)

    answer = await client.post(
        "/reservations/series", json=series_body(days[0], days[6], spot_id=spot_ids[3]), headers=auth()
    )
    assert answer.status == 201, await answer.text()
    body = await answer.json()
    series = body["series"]
    assert answer.headers["Location"] == f"/reservations/series/{series['id']}"
    assert (series["spot_number"], series["fallback"], series["stopped_at"]) == (3, "none", None)
    outcomes = [(o["date"], o["status"], o["error"] and o["error"]["code"]) for o in body["occurrences"]]
    assert outcomes == [
        (days[0].isoformat(), "booked", None),
        (days[1].isoformat(), "refused", "slot_taken"),
        (days[2].isoformat(), "refused", "spot_closed"),
        (days[3].isoformat(), "booked", None),
        (days[4].isoformat(), "refused", "already_booked_in_slot"),
        (days[5].isoformat(), "booked", None),
        (days[6].isoformat(), "refused", "booking_limit_reached"),
    ]
    for occurrence in body["occurrences"]:
        if occurrence["status"] == "booked":
            assert occurrence["reservation"]["spot_number"] == 3
            assert occurrence["reservation"]["series_id"] == series["id"]
            assert occurrence["error"] is None
        else:
            assert occurrence["reservation"] is None and occurrence["error"]["message"]
    # Nothing else changed: the earlier bookings stand, and only the three new ones were added.
    after = await snapshot(db_conn)
    assert after[: len(before)] == before
    assert len(after) == len(before) + 3
    assert {row[5] for row in after[len(before) :]} == {series["id"]}
    # The same outcomes, read back.
    again = await (await client.get(f"/reservations/series/{series['id']}", headers=auth())).json()
    assert [(o["date"], o["status"]) for o in again["occurrences"]] == [o[:2] for o in outcomes]


async def test_fallback_any_takes_another_spot_of_the_same_type_when_the_chosen_one_is_taken(
    client, auth, spot_ids, db_conn, user_ids
):
    days = [tomorrow() + timedelta(days=n) for n in range(3)]
    await client.post("/reservations", json=slot_body(spot_ids[4], days[1]), headers=auth(DRIVER2))
    closed = slots_on(days[2], ZoneInfo("UTC"))[0]
    await db_conn.execute(
        "INSERT INTO closures (spot_id, start_time, end_time, reason, created_by) VALUES ($1, $2, $3, 'Repairs', $4)",
        spot_ids[4], closed.start, closed.end, user_ids[ADMIN],
    )
    answer = await client.post(
        "/reservations/series",
        json=series_body(days[0], days[2], spot_id=spot_ids[4], fallback="any"),
        headers=auth(),
    )
    body = await answer.json()
    spots = [(o["status"], o["reservation"]["spot_number"]) for o in body["occurrences"]]
    # Spot 4 on day 1; then the first free regular spot (Spot 2), never the accessible Spot 1.
    assert spots == [("booked", 4), ("booked", 2), ("booked", 2)]


async def test_a_series_without_a_spot_books_any_spot_and_only_asked_weekdays(client, auth):
    first = tomorrow()
    weekday = first.isoweekday()
    body = {"weekdays": [weekday], "slot": 2, "from": first.isoformat(), "until": (first + timedelta(days=20)).isoformat()}
    answer = await (await client.post("/reservations/series", json=body, headers=auth())).json()
    dates = [date.fromisoformat(o["date"]) for o in answer["occurrences"]]
    assert dates == [first + timedelta(days=7 * n) for n in range(3)]
    assert {o["reservation"]["spot_number"] for o in answer["occurrences"]} == {2}
    assert all(o["reservation"]["start_time"].endswith("T16:00:00+00:00") for o in answer["occurrences"])


async def test_a_series_across_a_dst_change_starts_at_eight_local_every_time(make_client, auth, db_conn):
    client = await make_client(parking_timezone="Europe/Paris")
    await db_conn.execute("UPDATE lot_rules SET booking_horizon_days = 365")
    paris = ZoneInfo("Europe/Paris")
    # The next spring-forward in Paris (last Sunday of March), within the year's horizon.
    year = today(paris).year + 1
    change = max(date(year, 3, d) for d in range(25, 32) if date(year, 3, d).isoweekday() == 7)
    body = series_body(change - timedelta(days=3), change + timedelta(days=3), spot_id=None)
    answer = await client.post("/reservations/series", json=body, headers=auth())
    assert answer.status == 201, await answer.text()
    starts = [datetime.fromisoformat(o["reservation"]["start_time"]) for o in (await answer.json())["occurrences"]]
    assert len(starts) == 7
    assert {(s.astimezone(paris).hour, s.astimezone(paris).minute) for s in starts} == {(8, 0)}
    # The same wall-clock time is a different UTC instant on either side of the change.
    assert [s.astimezone(UTC).hour for s in starts] == [7, 7, 7, 6, 6, 6, 6]


async def test_pending_dates_are_booked_exactly_once_by_two_sweepers_as_the_horizon_moves(
    client, auth, reset_db, db_conn
):
    await db_conn.execute("UPDATE lot_rules SET booking_horizon_days = 2")
    first = tomorrow()
    answer = await client.post(
        "/reservations/series", json=series_body(first, first + timedelta(days=9)), headers=auth()
    )
    body = await answer.json()
    statuses = [o["status"] for o in body["occurrences"]]
    # Tomorrow and the day after are inside the horizon (today + 2); the rest wait.
    assert statuses == ["booked"] * 2 + ["pending"] * 8
    assert all(o["reservation"] is None and o["error"] is None for o in body["occurrences"][2:])

    pools = [await asyncpg.create_pool(reset_db, min_size=2, max_size=4) for _ in range(2)]
    try:
        sweepers = [Sweeper(pool, 60) for pool in pools]
        decided = 0
        for horizon in range(3, 12):
            await db_conn.execute("UPDATE lot_rules SET booking_horizon_days = $1", horizon)
            counts = await asyncio.gather(*(s.book_due_occurrences() for s in sweepers * 3))
            decided += sum(counts)
    finally:
        for pool in pools:
            await pool.close()
    assert decided == 8  # each pending date decided by exactly one sweep
    rows = await db_conn.fetch(
        "SELECT start_time FROM reservations WHERE series_id = $1 ORDER BY start_time", body["series"]["id"]
    )
    assert [r["start_time"].date() for r in rows] == [first + timedelta(days=n) for n in range(10)]
    read = await (await client.get(f"/reservations/series/{body['series']['id']}", headers=auth())).json()
    assert [o["status"] for o in read["occurrences"]] == ["booked"] * 10


async def test_stopping_a_series_releases_only_its_future_bookings_and_books_no_more(
    make_client, auth, db_conn, reset_db
):
    zone = afternoon_timezone()
    client = await make_client(parking_timezone=zone)
    await db_conn.execute("UPDATE lot_rules SET booking_horizon_days = 2")
    lot_today = today(ZoneInfo(zone))
    # Slot 1 (12:00–16:00) is in progress in this zone today.
    body = {**series_body(lot_today, lot_today + timedelta(days=5)), "slot": 1}
    made = await (await client.post("/reservations/series", json=body, headers=auth())).json()
    occurrences = made["occurrences"]
    assert [o["status"] for o in occurrences] == ["booked"] * 3 + ["pending"] * 3
    in_progress, *future = [o["reservation"]["id"] for o in occurrences[:3]]
    # Releasing one occurrence leaves the series alone.
    released_one = await client.put(f"/reservations/{future[0]}/complete", headers=auth())
    assert released_one.status == 200
    assert (await client.get(f"/reservations/series/{made['series']['id']}", headers=auth())).status == 200

    # Another driver cannot see or stop it.
    path = f"/reservations/series/{made['series']['id']}"
    for method in ("GET", "DELETE"):
        other = await client.request(method, path, headers=auth(DRIVER2))
        assert other.status == 404
        assert (await other.json())["error"]["code"] == "series_not_found"

    stopped = await client.delete(path, headers=auth())
    assert stopped.status == 200
    assert await stopped.json() == {"released": [future[1]]}
    status = dict(await db_conn.fetch("SELECT id, status FROM reservations WHERE series_id = $1", made["series"]["id"]))
    assert status[in_progress] == "booked"  # in progress: kept
    # The horizon moves on, and the sweeper books nothing of a stopped series.
    await db_conn.execute("UPDATE lot_rules SET booking_horizon_days = 30")
    assert await Sweeper(client.app[POOL_KEY], 60, tz=ZoneInfo(zone)).book_due_occurrences() == 0
    read = await (await client.get(path, headers=auth())).json()
    assert read["stopped_at"] is not None
    assert [o["status"] for o in read["occurrences"]] == ["booked"] * 3 + ["stopped"] * 3
    listed = await (await client.get("/reservations/series", headers=auth())).json()
    assert [s["id"] for s in listed["series"]] == [made["series"]["id"]]
    assert (await (await client.get("/reservations/series", headers=auth(DRIVER2))).json()) == {"series": []}


async def test_a_bad_series_is_refused_and_nothing_is_written(client, auth, db_conn):
    first = tomorrow()
    bad = [
        ({**series_body(first, first), "weekdays": []}, "'weekdays'"),
        ({**series_body(first, first), "weekdays": [0]}, "'weekdays'"),
        ({**series_body(first, first), "weekdays": [1, 1]}, "'weekdays'"),
        ({**series_body(first, first), "slot": 3}, "'slot' must be between 0 and 2"),
        (series_body(first, first + timedelta(days=367)), "at most a year"),
        (series_body(first, first - timedelta(days=1)), "'until' must be on or after 'from'"),
        (series_body(first - timedelta(days=2), first), "'from' must be today"),
        ({**series_body(first, first), "fallback": "maybe"}, "'fallback' must be one of: any, none"),
        ({**series_body(first, first), "from": "tomorrow"}, "'from' must be a date"),
        # A body's dates are read as strictly as the query's (?date=).
        ({**series_body(first, first), "from": first.strftime("%Y%m%d")}, "'from' must be a date"),
        ({**series_body(first, first), "until": 20261121}, "'until' must be a date"),
        ({**series_body(first, first), "until": "2101-01-01"}, "'until' must be between 2000-01-01 and 2100-12-31"),
    ]
    for body, message in bad:
        answer = await client.post("/reservations/series", json=body, headers=auth())
        assert answer.status == 422, body
        assert message in (await answer.json())["error"]["message"]
    missing = await client.post("/reservations/series", json=series_body(first, first, spot_id=999), headers=auth())
    assert missing.status == 404
    assert await db_conn.fetchval("SELECT count(*) FROM reservation_series") == 0
