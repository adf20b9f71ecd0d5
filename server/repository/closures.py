"""Closures: taking a spot out of service for whole slots, releasing what was booked there."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..db import Db, Pool
from ..errors import ClosureNotFound, SpotNotFound
from .audit import acting_as

_CLOSURE = "c.id, c.spot_id, s.spot_number, c.start_time, c.end_time, c.reason, c.created_at"

# FOR UPDATE conflicts with the FOR KEY SHARE that every booking's trigger
# takes on its spot (reservations_refuse_closed_slots): a booking in flight
# finishes first and the release below sees it; a later one waits for this
# transaction and then sees the closure.
LOCK_SPOT = "SELECT spot_number FROM spots WHERE id = $1 FOR UPDATE"

# The insert trigger publishes closure.created.
INSERT_CLOSURE = """
INSERT INTO closures (spot_id, start_time, end_time, reason, created_by)
VALUES ($1, $2, $3, $4, $5)
RETURNING id, spot_id, start_time, end_time, reason, created_at
"""

# A separate statement after the lock, so it runs in a snapshot that holds
# every booking committed before the lock was granted. The status-change
# trigger publishes each release, with the closure's reason, to its holder.
RELEASE_BOOKINGS_IN = """
UPDATE reservations
SET status = 'completed', completed_at = now(), released_by = 'admin', release_reason = $4
WHERE spot_id = $1 AND status = 'booked' AND start_time < $3 AND end_time > $2
RETURNING id
"""

# The delete trigger publishes closure.deleted.
DELETE_CLOSURE = "DELETE FROM closures WHERE id = $1 RETURNING id"

LIST_CLOSURES = f"""
SELECT {_CLOSURE}
FROM closures c JOIN spots s ON s.id = c.spot_id
WHERE c.start_time < $2 AND c.end_time > $1
ORDER BY c.start_time, s.spot_number, c.id
"""


async def create_closure(
    pool: Pool,
    *,
    spot_id: int,
    start: datetime,
    end: datetime,
    reason: str,
    created_by: int,
) -> tuple[dict[str, Any], list[int]]:
    """Close the spot and release its bookings in the window, in one transaction.

    Returns the closure and the ids of the reservations it released.
    """
    # The audit trigger records the closure and each release under it, with
    # the attendant as actor, in this transaction.
    async with acting_as(pool, created_by) as conn:
        spot_number = await conn.fetchval(LOCK_SPOT, spot_id)
        if spot_number is None:
            raise SpotNotFound(f"Spot {spot_id} does not exist.")
        closure = await conn.fetchrow(INSERT_CLOSURE, spot_id, start, end, reason, created_by)
        released = await conn.fetch(RELEASE_BOOKINGS_IN, spot_id, start, end, reason)
    return {**dict(closure), "spot_number": spot_number}, [row["id"] for row in released]


async def delete_closure(db: Db, *, closure_id: int, actor_id: int) -> None:
    async with acting_as(db, actor_id) as conn:
        deleted = await conn.fetchval(DELETE_CLOSURE, closure_id)
    if deleted is None:
        raise ClosureNotFound(f"Closure {closure_id} was not found.")


async def list_closures(db: Db, *, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Closures overlapping [start, end)."""
    return [dict(r) for r in await db.fetch(LIST_CLOSURES, start, end)]
