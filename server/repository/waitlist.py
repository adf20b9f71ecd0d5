"""The waitlist: drivers in line for a full slot, and their places.

Handing a freed spot to the first in line is not here: the database does it
in the release's own transaction (reservations_assign_from_waitlist in
db/migrations/*_create_the_waitlist.sql). The trigger on waitlist_entries
publishes every join, leave, assignment and expiry as waitlist.changed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from .. import refusals
from ..db import Db, Pool
from ..errors import SpotNotFound, WaitlistEntryNotFound
from ..slots import Slot

# A place in line: 1 + the entries of the same slot and spot type that joined
# earlier and are still waiting. (An entry for a named spot has that spot's type.)
ENTRY_COLUMNS = """
    w.id, w.user_id, w.start_time, w.end_time, w.spot_id, w.spot_type, w.status,
    w.reservation_id, w.created_at, w.assigned_at,
    CASE WHEN w.status = 'waiting' THEN 1 + (
        SELECT count(*) FROM waitlist_entries e
        WHERE e.status = 'waiting' AND e.start_time = w.start_time
          AND e.spot_type = w.spot_type AND (e.created_at, e.id) < (w.created_at, w.id)
    ) END AS position
"""

# A spot that the entry would match, free and open in the slot right now.
FREE_MATCHING_SPOT = """
    SELECT 1 FROM spots s
    WHERE (s.id = $4::integer OR ($4::integer IS NULL AND s.type = $5::text))
      AND NOT EXISTS (SELECT 1 FROM reservations r
                      WHERE r.spot_id = s.id AND r.start_time = $2 AND r.status = 'booked')
      AND NOT EXISTS (SELECT 1 FROM closures c
                      WHERE c.spot_id = s.id AND c.start_time < $3 AND c.end_time > $2)
"""

LOCK_SLOT = "SELECT waitlist_lock_slot($1)"

# Run after LOCK_SLOT, in the same transaction, so that a release of this
# slot either committed before (and this statement sees the free spot) or
# waits for this entry and then considers it. The spot's type is the named
# spot's own. The horizon is read here, as a booking reads it ($6 is the
# slot's day in the lot, $7 the lot's today).
JOIN = f"""
WITH w AS (
    INSERT INTO waitlist_entries
        (user_id, start_time, end_time, spot_id, spot_type, slot_date, lot_timezone)
    SELECT $1, $2, $3, $4, COALESCE((SELECT type FROM spots WHERE id = $4), $5), $6, $8
    FROM lot_rules
    WHERE $6::date <= $7::date + booking_horizon_days
      AND ($4 IS NULL OR EXISTS (SELECT 1 FROM spots WHERE id = $4))
      AND NOT EXISTS ({FREE_MATCHING_SPOT})
      AND NOT EXISTS (SELECT 1 FROM reservations
                      WHERE user_id = $1 AND start_time = $2 AND status = 'booked')
    ON CONFLICT DO NOTHING
    RETURNING *
)
SELECT {ENTRY_COLUMNS} FROM w
"""

# Only run when JOIN inserted nothing, to tell the caller why.
WHY_NOT_JOINED = f"""
SELECT l.booking_horizon_days,
       $4::integer IS NOT NULL AND NOT EXISTS (SELECT 1 FROM spots WHERE id = $4) AS no_such_spot,
       EXISTS ({FREE_MATCHING_SPOT}) AS spot_free,
       (SELECT o.spot_number FROM reservations r JOIN spots o ON o.id = r.spot_id
        WHERE r.user_id = $1 AND r.start_time = $2 AND r.status = 'booked') AS own_spot_number
FROM lot_rules l
"""

LIST_OWN = f"""
SELECT {ENTRY_COLUMNS} FROM waitlist_entries w
WHERE w.user_id = $1 AND w.end_time > now() - interval '1 day'
ORDER BY w.start_time, w.created_at
LIMIT 100
"""

LEAVE = "DELETE FROM waitlist_entries WHERE id = $1 AND user_id = $2 RETURNING id"

# The attendant's view of the lines of a day, in order, with the drivers' names.
LINES_OF_DAY = f"""
SELECT {ENTRY_COLUMNS}, u.display_name, u.email
FROM waitlist_entries w JOIN users u ON u.id = w.user_id
WHERE w.status = 'waiting' AND w.start_time >= $1 AND w.start_time < $2
ORDER BY w.start_time, w.created_at, w.id
"""

WAITING_IN_SLOT = "SELECT count(*) FROM waitlist_entries WHERE status = 'waiting' AND start_time = $1"

WAITING_BY_SLOT = """
SELECT start_time, end_time, count(*) AS waiting FROM waitlist_entries
WHERE status = 'waiting' AND start_time >= $1 AND start_time < $2
GROUP BY start_time, end_time ORDER BY start_time
"""

# The sweeper's: a line whose slot has ended is over; nothing is assigned.
EXPIRE = """
UPDATE waitlist_entries SET status = 'expired'
WHERE status = 'waiting' AND end_time <= now()
"""


async def join(
    pool: Pool,
    *,
    user_id: int,
    slot: Slot,
    spot_id: int | None,
    spot_type: str,
    lot_today: date,
    lot_timezone: str,
) -> dict[str, Any]:
    """Put the driver in line for the slot, or raise why not."""
    args = (user_id, slot.start, slot.end, spot_id, spot_type, slot.start.date(), lot_today)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(LOCK_SLOT, slot.start)
        row = await conn.fetchrow(JOIN, *args, lot_timezone)
        if row is not None:
            return dict(row)
        why = await conn.fetchrow(WHY_NOT_JOINED, *args[:5])
    last_day = lot_today + timedelta(days=why["booking_horizon_days"])
    if slot.start.date() > last_day:
        raise refusals.beyond_horizon(why["booking_horizon_days"], last_day)
    if why["no_such_spot"]:
        raise SpotNotFound(f"Spot {spot_id} does not exist.")
    if why["own_spot_number"] is not None:
        raise refusals.already_booked_so_no_wait(why["own_spot_number"], slot.describe())
    if why["spot_free"]:
        raise refusals.slot_available(spot_type, spot_id is not None, slot.describe())
    raise refusals.already_waiting(slot.describe())


async def list_own(db: Db, *, user_id: int) -> list[dict[str, Any]]:
    """The driver's entries whose slot has not ended (or ended within a day), soonest first."""
    return [dict(r) for r in await db.fetch(LIST_OWN, user_id)]


async def leave(db: Db, *, entry_id: int, user_id: int) -> None:
    if await db.fetchval(LEAVE, entry_id, user_id) is None:
        raise WaitlistEntryNotFound(f"Waitlist entry {entry_id} was not found.")


async def lines_of_day(db: Db, *, start: datetime, end: datetime) -> list[dict[str, Any]]:
    return [dict(r) for r in await db.fetch(LINES_OF_DAY, start, end)]


async def waiting_in_slot(db: Db, *, start: datetime) -> int:
    return int(await db.fetchval(WAITING_IN_SLOT, start))


async def waiting_by_slot(db: Db, *, start: datetime, end: datetime) -> list[dict[str, Any]]:
    return [dict(r) for r in await db.fetch(WAITING_BY_SLOT, start, end)]


async def expire_ended(db: Db) -> int:
    """Mark the entries of ended slots expired; returns how many."""
    status = await db.execute(EXPIRE)
    return int(status.split()[-1])
