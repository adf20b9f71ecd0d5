"""8: GET /stats over 365 days, with a year of booking history behind it."""

from __future__ import annotations

import json
from datetime import timedelta

import asyncpg

from server.slots import slots_on, today

from .load import LoadResult, closed_loop, http_session
from .report import BenchBroken, CpuMeter, Report, Row, at_most, ms
from .stack import TZ, Database, Server

HISTORY_DAYS = 365
# Per spot and slot of the past year: booked at all (most are), and of those,
# released by the driver partway through; the rest ran to their end and
# were released by the sweeper. Some slots were also booked and cancelled
# before they began (never occupied), so a spot has several bookings a day.
BOOKED_SHARE = 0.85
RELEASED_EARLY_SHARE = 0.10
CANCELLED_SHARE = 0.10
# One client asking again and again: the figure is a single request's latency.
REQUESTS = 50
PHASE_SECONDS = 20.0
CLIENT_TIMEOUT = 30.0
P99_TARGET_MS = 200.0

# Every (spot, slot) of the year once, each with its own dice. Driver i books
# spot i, so the rows would satisfy the one-car rule even if they were booked.
SEED_HISTORY = """
WITH cells AS (
    SELECT p.user_id, p.spot_id, s.start_time, s.end_time,
           random() AS booked, random() AS released, random() AS cancelled, random() AS part
    FROM unnest($1::bigint[], $2::int[]) AS p (user_id, spot_id)
    CROSS JOIN unnest($3::timestamptz[], $4::timestamptz[]) AS s (start_time, end_time)
)
INSERT INTO reservations
    (user_id, created_by, spot_id, start_time, end_time, status, created_at, completed_at,
     released_by)
SELECT user_id, user_id, spot_id, start_time, end_time, 'completed', start_time - interval '1 day',
       CASE WHEN released < $6 THEN start_time + (end_time - start_time) * part
            ELSE end_time + interval '30 seconds' END,
       CASE WHEN released < $6 THEN 'user' ELSE 'expired' END
FROM cells WHERE booked < $5
UNION ALL
SELECT user_id, user_id, spot_id, start_time, end_time, 'completed',
       start_time - interval '2 days', start_time - interval '1 day' * part, 'user'
FROM cells WHERE cancelled < $7
"""


async def stats_over_a_year(database: Database, server: Server, report: Report) -> None:
    rows = await _seed_history(database)
    last = today(TZ)
    first = last - timedelta(days=HISTORY_DAYS - 1)
    url = f"{server.base_url}/stats?from={first.isoformat()}&to={last.isoformat()}"
    headers = {"Authorization": f"Bearer {database.token(database.driver_ids[0])}"}
    answers: list[bytes] = []
    async with http_session(1) as session:

        async def stats() -> str:
            async with session.get(url, headers=headers) as response:
                body = await response.read()
                if response.status == 200 and not answers:
                    answers.append(body)
                return str(response.status)

        # The first request warms the server's and the database's caches.
        await closed_loop([stats], concurrency=1, max_seconds=CLIENT_TIMEOUT)
        cpu = CpuMeter(server.process.pid, database.postmaster_pid)
        cpu.start()
        result = await closed_loop(
            (stats for _ in range(REQUESTS)), concurrency=1, max_seconds=PHASE_SECONDS
        )
        usage = cpu.summary(result.count).replace("per operation", "per request")
    if answers and not json.loads(answers[0])["peak_hours"]:
        raise BenchBroken("/stats over the seeded year found no occupancy at all")
    _rows(report, result, rows)
    report.notes.append(
        f"/stats over {HISTORY_DAYS} days: one client, requests back to back; {result.count} in "
        f"{result.elapsed:.1f} s ({result.outcome_summary()}); history: {rows:,} reservations "
        f"on {len(database.spot_ids)} spots ({BOOKED_SHARE:.0%} of slots booked, "
        f"{RELEASED_EARLY_SHARE:.0%} of those released early, {CANCELLED_SHARE:.0%} of slots "
        f"also cancelled before they began); {usage}"
    )


def _rows(report: Report, result: LoadResult, history: int) -> None:
    p99 = result.percentile_ms(99)
    # Only 200s count: a fast 503 (a statement timeout) is no answer to the question.
    answered = result.outcomes["200"] == result.count
    report.rows += [
        Row(
            f"8. GET /stats over {HISTORY_DAYS} days ({history:,} bookings): p99",
            ms(p99) + ("" if answered else f" ({result.outcome_summary()})"),
            f"<= {P99_TARGET_MS:.0f} ms",
            at_most(p99, P99_TARGET_MS) and answered,
        ),
        Row("   latency p50", ms(result.percentile_ms(50))),
    ]


async def _seed_history(database: Database) -> int:
    """A year of finished bookings on every spot, up to yesterday; returns how many."""
    last = today(TZ) - timedelta(days=1)
    slots = [
        slot for offset in range(HISTORY_DAYS) for slot in slots_on(last - timedelta(days=offset), TZ)
    ]
    await database.reset()
    conn = await asyncpg.connect(database.url)
    try:
        # The history is already over: no trigger publishes it to sockets
        # (replica mode skips ordinary triggers for this session only, so the
        # rows name their creator themselves rather than through the
        # reservations_default_creator trigger).
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("SELECT setseed(0.16)")  # the same history every run
        status = await conn.execute(
            SEED_HISTORY,
            database.driver_ids,
            database.spot_ids,
            [slot.start for slot in slots],
            [slot.end for slot in slots],
            BOOKED_SHARE,
            RELEASED_EARLY_SHARE,
            CANCELLED_SHARE,
        )
        # As autovacuum would have long since on a real year's table.
        await conn.execute("ANALYZE reservations")
        await conn.execute("CHECKPOINT")  # so that flushing the rows stays out of the figure
    finally:
        await conn.close()
    return int(status.split()[-1])  # "INSERT 0 <rows>"
