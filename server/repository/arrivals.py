"""Arrivals and departures: check-in, and the sweeper's releases of no-shows and ended bookings.

As in reservations.py, the triggers publish every change made here.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from .. import refusals
from ..db import Db
from ..slots import CHECK_IN_OPENS_BEFORE, check_in_window
from .audit import acting_as
from .reservations import RESERVATION_COLUMNS, RESERVATION_JOINS, get_reservation

# An arrival, only while the window is open ($3 before the start, until the
# end). If the sweeper releases the booking as a no-show at the same moment,
# one UPDATE waits for the other and re-checks status and checked_in_at after
# it commits: exactly one of the two happens. The check-in trigger publishes
# reservation.checked_in.
CHECK_IN = f"""
WITH r AS (
    UPDATE reservations
    SET checked_in_at = now()
    WHERE id = $1 AND ($2::bigint IS NULL OR user_id = $2)
      AND status = 'booked' AND checked_in_at IS NULL
      AND now() >= start_time - $3::interval AND now() < end_time
    RETURNING *
)
SELECT {RESERVATION_COLUMNS} FROM r {RESERVATION_JOINS}
"""


async def check_in(
    db: Db, *, reservation_id: int, user_id: int | None, actor_id: int, tz: ZoneInfo
) -> dict[str, Any]:
    """Record the holder's arrival; checking in twice returns the first arrival.

    user_id None is the attendant, for anyone's booking; actor_id is who
    asks (the audit trigger records a check-in by anyone but the holder).
    Raises CheckInClosed outside the window or once the booking was
    released, ReservationNotFound.
    """
    async with acting_as(db, actor_id) as conn:
        row = await conn.fetchrow(CHECK_IN, reservation_id, user_id, CHECK_IN_OPENS_BEFORE)
    if row is not None:
        return dict(row)
    # Not checked in by this call: already checked in, released, or outside the window.
    current = await get_reservation(db, reservation_id=reservation_id, user_id=user_id)
    if current["checked_in_at"] is not None:
        return current
    if current["status"] != "booked":
        raise refusals.check_in_after_release(current["released_by"])
    window = check_in_window(current["start_time"], current["end_time"], tz)
    raise refusals.check_in_outside_window(window)


# No-shows: booked, nobody checked in, and the grace period has passed since
# the start (or since the booking, if it was made during its slot). Off (no
# rows) while no_show_grace_minutes is 0. Bookings that began before the rule
# was switched on are included. Serves from reservations_awaiting_arrival_idx;
# at most $1 rows a statement, locked as for RELEASE_EXPIRED below; the
# status-change trigger publishes each release (reason "no_show").
RELEASE_NO_SHOWS = """
WITH grace AS (
    SELECT make_interval(mins => no_show_grace_minutes) AS period
    FROM lot_rules WHERE no_show_grace_minutes > 0
),
due AS (
    SELECT reservations.id
    FROM reservations, grace
    WHERE status = 'booked' AND checked_in_at IS NULL
      -- Booked at 09:00 for 08:00-12:00: the grace runs from 09:00.
      AND start_time <= now() - grace.period
      AND created_at <= now() - grace.period
    LIMIT $1
    FOR UPDATE OF reservations SKIP LOCKED
),
r AS (
    UPDATE reservations
    SET status = 'completed', completed_at = now(), released_by = 'no_show'
    FROM due
    WHERE reservations.id = due.id
    RETURNING reservations.id, reservations.spot_id
)
SELECT r.id, s.spot_number FROM r JOIN spots s ON s.id = r.spot_id ORDER BY r.id
"""


async def release_no_shows(db: Db, *, limit: int) -> list[dict[str, Any]]:
    """At most `limit` no-shows, released in one statement."""
    return [dict(r) for r in await db.fetch(RELEASE_NO_SHOWS, limit)]


# At most $1 rows a statement, so that a backlog (after an outage) is worked
# off in steps that each finish well within the statement timeout. Concurrent
# sweeps (several instances) are safe: SKIP LOCKED gives each its own rows,
# and a row is locked until its release commits, so none is released twice.
# Serves from reservations_booked_end_time_idx. The status-change trigger
# publishes each release (reason "expired").
RELEASE_EXPIRED = """
WITH due AS (
    SELECT id FROM reservations
    WHERE status = 'booked' AND end_time <= now()
    ORDER BY end_time
    LIMIT $1
    FOR UPDATE SKIP LOCKED
),
r AS (
    UPDATE reservations
    SET status = 'completed', completed_at = now(), released_by = 'expired'
    FROM due
    WHERE reservations.id = due.id
    RETURNING reservations.id, reservations.spot_id
)
SELECT r.id, s.spot_number FROM r JOIN spots s ON s.id = r.spot_id ORDER BY r.id
"""


async def release_expired(db: Db, *, limit: int) -> list[dict[str, Any]]:
    """At most `limit` ended bookings, the longest ended first, released in one statement."""
    return [dict(r) for r in await db.fetch(RELEASE_EXPIRED, limit)]
