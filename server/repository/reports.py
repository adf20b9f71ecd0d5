"""Read-only reports: reservation histories as cursors, and occupancy by hour of day."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any

from asyncpg.cursor import Cursor

from ..db import Db, Pool

EXPORT_OWN = """
SELECT r.id, s.spot_number, s.floor_number, r.start_time, r.end_time, r.status,
       r.created_at, r.checked_in_at, r.completed_at, r.released_by, r.release_reason
FROM reservations r JOIN spots s ON s.id = r.spot_id
WHERE r.user_id = $1
ORDER BY r.start_time, r.id
"""

# Everyone's reservations starting in [start, end), for the attendant.
EXPORT_ALL = """
SELECT r.id, s.spot_number, s.floor_number, r.start_time, r.end_time, r.status,
       COALESCE(h.display_name, r.guest_name) AS holder, h.email AS holder_email,
       r.licence_plate, c.display_name AS created_by, r.created_at, r.checked_in_at,
       r.completed_at, r.released_by, r.release_reason
FROM reservations r
JOIN spots s ON s.id = r.spot_id
LEFT JOIN users h ON h.id = r.user_id
JOIN users c ON c.id = r.created_by
WHERE r.start_time >= $1 AND r.start_time < $2
ORDER BY r.start_time, s.spot_number, r.id
"""


@asynccontextmanager
async def _cursor(pool: Pool, query: str, *args: Any) -> AsyncIterator[Cursor]:
    """A server-side cursor over the query's rows: fetch it in batches.

    The query has already run when this yields, so a database failure happens
    before the caller starts its response.
    """
    async with pool.acquire() as conn, conn.transaction():
        yield await conn.cursor(query, *args)


def export_own(pool: Pool, *, user_id: int) -> AbstractAsyncContextManager[Cursor]:
    """A driver's whole history, oldest first."""
    return _cursor(pool, EXPORT_OWN, user_id)


def export_all(
    pool: Pool, *, start: datetime, end: datetime
) -> AbstractAsyncContextManager[Cursor]:
    """Everyone's reservations that start in [start, end)."""
    return _cursor(pool, EXPORT_ALL, start, end)


# Per hour of the day (lot time), the average number of spots occupied, over
# the hour-long buckets between two instants. Buckets are UTC hours labelled
# with their local hour, so a DST day contributes 23 or 25 buckets, each real.
# A booking occupies its spot from start_time until end_time, or until
# completed_at if released early; one released before its start occupies nothing,
# and nothing after now counts: a booking for later today has not happened yet.
OCCUPANCY_BY_HOUR = """
WITH buckets AS (
    SELECT t AS bucket_start, t + interval '1 hour' AS bucket_end,
           extract(hour FROM t AT TIME ZONE $3)::int AS hour
    FROM generate_series($1::timestamptz, $2::timestamptz - interval '1 hour',
                         interval '1 hour') AS t
),
occupancy AS (
    SELECT start_time, LEAST(end_time, COALESCE(completed_at, end_time), $4) AS occupied_until
    FROM reservations
    WHERE start_time < $2 AND end_time > $1
),
per_bucket AS (
    -- Spot-hours occupied within each bucket, i.e. the average spots occupied in it.
    SELECT k.hour,
           COALESCE((
               SELECT sum(extract(epoch FROM LEAST(o.occupied_until, k.bucket_end)
                                          - GREATEST(o.start_time, k.bucket_start)))
               FROM occupancy o
               WHERE o.occupied_until > o.start_time
                 AND o.start_time < k.bucket_end AND o.occupied_until > k.bucket_start
           ), 0) / 3600.0 AS occupied
    FROM buckets k
)
SELECT h.hour, COALESCE(avg(p.occupied), 0)::float8 AS average_occupied,
       (SELECT count(*) FROM spots) AS spot_count
FROM generate_series(0, 23) AS h (hour)
LEFT JOIN per_bucket p ON p.hour = h.hour
GROUP BY h.hour
ORDER BY h.hour
"""


async def occupancy_by_hour(
    db: Db, *, start: datetime, end: datetime, timezone: str, now: datetime
) -> list[dict[str, Any]]:
    return [dict(r) for r in await db.fetch(OCCUPANCY_BY_HOUR, start, end, timezone, now)]


# Of the reservations whose slot started in [start, min(end, now)) while still
# held (not released before the start), the share released as no-shows;
# NULL when none started.
NO_SHOW_RATE = """
SELECT (count(*) FILTER (WHERE released_by = 'no_show'))::float8 / NULLIF(count(*), 0)
FROM reservations
WHERE start_time >= $1 AND start_time < LEAST($2::timestamptz, $3::timestamptz)
  AND (completed_at IS NULL OR completed_at > start_time)
"""


async def no_show_rate(db: Db, *, start: datetime, end: datetime, now: datetime) -> float | None:
    return await db.fetchval(NO_SHOW_RATE, start, end, now)
