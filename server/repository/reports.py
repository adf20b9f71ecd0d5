"""Read-only reports: reservation histories in keyset pages, and occupancy by hour of day."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..db import Db, Pool

# What both exports begin with: the booking, its spot and its time.
_EXPORT_BOOKING = "r.id, s.spot_number, s.floor_number, r.start_time, r.end_time, r.status"

# A driver's history in start order, one keyset page at a time: the rows after
# ($2, $3) = (start_time, id) of the previous page's last row. Each page is one
# short statement on reservations_user_start_idx, however long the history.
EXPORT_OWN_PAGE = f"""
SELECT {_EXPORT_BOOKING},
       r.checked_in_at, r.completed_at, r.released_by, r.release_reason
FROM reservations r JOIN spots s ON s.id = r.spot_id
WHERE r.user_id = $1 AND (r.start_time, r.id) > ($2, $3)
ORDER BY r.start_time, r.id
LIMIT $4
"""

# Everyone's reservations starting in [$1, $2), for the attendant, with the
# walk-in's plate or the driver's vehicle's, a page at a time after
# ($1, $3, $4) = (start_time, spot_number, id) of the previous page's last
# row: the start bound moves with the pages, so each reads from
# reservations_start_time_idx where the last one stopped.
EXPORT_ALL_PAGE = f"""
SELECT {_EXPORT_BOOKING},
       COALESCE(h.display_name, r.guest_name) AS holder, h.email AS holder_email,
       COALESCE(r.licence_plate, v.licence_plate) AS licence_plate,
       c.display_name AS created_by, r.created_at, r.checked_in_at,
       r.completed_at, r.released_by, r.release_reason
FROM reservations r
JOIN spots s ON s.id = r.spot_id
LEFT JOIN users h ON h.id = r.user_id
LEFT JOIN vehicles v ON v.id = r.vehicle_id
JOIN users c ON c.id = r.created_by
WHERE r.start_time >= $1 AND r.start_time < $2
  AND (r.start_time, s.spot_number, r.id) > ($1, $3, $4)
ORDER BY r.start_time, s.spot_number, r.id
LIMIT $5
"""

# Keys that sort before every row: ids and spot numbers are positive.
_BEFORE_ALL = 0


async def export_own_page(
    db: Db, *, user_id: int, after: dict[str, Any] | None, limit: int
) -> list[dict[str, Any]]:
    """Up to `limit` rows of a driver's history, oldest first, after the row `after`."""
    start = datetime.min.replace(tzinfo=UTC) if after is None else after["start_time"]
    last_id = _BEFORE_ALL if after is None else after["id"]
    return [dict(r) for r in await db.fetch(EXPORT_OWN_PAGE, user_id, start, last_id, limit)]


async def export_all_page(
    db: Db, *, start: datetime, end: datetime, after: dict[str, Any] | None, limit: int
) -> list[dict[str, Any]]:
    """Up to `limit` of everyone's reservations that start in [start, end), after the row `after`."""
    if after is None:
        args = (start, end, _BEFORE_ALL, _BEFORE_ALL)
    else:
        args = (after["start_time"], end, after["spot_number"], after["id"])
    return [dict(r) for r in await db.fetch(EXPORT_ALL_PAGE, *args, limit)]


# Per hour of the day (lot time), the average number of spots occupied over
# the range [$1, $2), and the number of spots.
#
# Its cost grows with the bookings, not with hours x bookings (one pass,
# float8 arithmetic). A booking occupies its spot from start_time until
# end_time, or until completed_at if released early; nothing outside the range
# or after now ($4) counts. Bookings are first counted per distinct span:
# most share their slot's start and end, so the time zone conversions run a
# tenth as often. In hours since local midnight, the spots occupied
# at time t of a day are (starts before t) - (ends before t), where a booking
# still going at midnight starts again at 00:00 of the next day. The time
# occupied within hour h is the integral of that over [h, h+1): an edge in an
# earlier hour counts whole, an edge inside hour h for the part of the hour
# after it. Spans are then counted per (start hour, end hour) pair, a few
# dozen rows. Each hour's total is divided by the number of hour-long buckets
# with that local hour in the range, so a DST day counts its 23 or 25 hours.
OCCUPANCY_BY_HOUR = """
WITH spans AS (
    SELECT GREATEST(start_time, $1) AS since,
           LEAST(end_time, COALESCE(completed_at, end_time), $4, $2) AS until, count(*) AS n
    FROM reservations
    WHERE start_time < $2 AND end_time > $1
    GROUP BY 1, 2
),
held AS (
    SELECT n, date_part('epoch', from_local::time) / 3600 AS starts_at,
           date_part('epoch', until_local::time) / 3600 AS ends_at,
           until_local::date - from_local::date AS midnights
    FROM (
        SELECT n, since AT TIME ZONE $3 AS from_local, until AT TIME ZONE $3 AS until_local
        FROM spans
        WHERE until > since
    ) AS occupied
),
pairs AS (
    SELECT floor(starts_at)::int AS start_hour, floor(ends_at)::int AS end_hour, sum(n) AS n,
           sum(n * (starts_at - floor(starts_at))) AS start_fraction,
           sum(n * (ends_at - floor(ends_at))) AS end_fraction, sum(n * midnights) AS midnights
    FROM held
    GROUP BY 1, 2
),
edges AS (
    SELECT start_hour AS hour, n AS edges, n - start_fraction AS inside FROM pairs
    UNION ALL
    SELECT end_hour, -n, -(n - end_fraction) FROM pairs
    UNION ALL
    SELECT 0, midnights, midnights FROM pairs
),
per_hour AS (
    SELECT hour, sum(edges) AS edges, sum(inside) AS inside FROM edges GROUP BY hour
),
buckets AS (
    SELECT extract(hour FROM t AT TIME ZONE $3)::int AS hour, count(*) AS buckets
    FROM generate_series($1::timestamptz, $2::timestamptz - interval '1 hour',
                         interval '1 hour') AS t
    GROUP BY 1
)
SELECT h.hour,
       COALESCE(
           (COALESCE(sum(p.edges) OVER earlier, 0) + COALESCE(p.inside, 0))::float8
               / NULLIF(b.buckets, 0),
           0
       ) AS average_occupied,
       (SELECT count(*) FROM spots) AS spot_count
FROM generate_series(0, 23) AS h (hour)
LEFT JOIN per_hour p ON p.hour = h.hour
LEFT JOIN buckets b ON b.hour = h.hour
WINDOW earlier AS (ORDER BY h.hour ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
ORDER BY h.hour
"""


# After five runs of a prepared statement PostgreSQL may switch to a generic
# plan, which treats the time zone as unknown and looks it up for every row:
# twice as slow here. This statement is planned afresh each time instead.
CUSTOM_PLAN = "SET LOCAL plan_cache_mode = force_custom_plan"


async def occupancy_by_hour(
    pool: Pool, *, start: datetime, end: datetime, timezone: str, now: datetime
) -> list[dict[str, Any]]:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(CUSTOM_PLAN)
        rows = await conn.fetch(OCCUPANCY_BY_HOUR, start, end, timezone, now)
    return [dict(r) for r in rows]


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
