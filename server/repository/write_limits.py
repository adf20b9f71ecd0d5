"""Booking writes per driver in the current window: the rate limit's counter, shared by every server."""

from __future__ import annotations

from datetime import timedelta

from ..db import Db

# Count this write, in a window that starts at the first one (the same shape
# as users.RESERVE_ATTEMPT): the row lock of the upsert serialises parallel
# writes by one driver. Returns the writes so far in the window and the
# seconds until it ends.
RESERVE_WRITE = """
INSERT INTO booking_writes AS w (user_id, window_start, writes)
VALUES ($1, now(), 1)
ON CONFLICT (user_id) DO UPDATE
SET (writes, window_start) = (
    SELECT CASE WHEN ended THEN 1 ELSE w.writes + 1 END,
           CASE WHEN ended THEN now() ELSE w.window_start END
    FROM (SELECT w.window_start <= now() - $2::interval AS ended) AS e
)
RETURNING writes, extract(epoch FROM window_start + $2::interval - now())::float8 AS seconds_left
"""


async def reserve_write(db: Db, *, user_id: int, window: timedelta) -> tuple[int, float]:
    """Count one write; (writes in the current window, seconds until it ends)."""
    row = await db.fetchrow(RESERVE_WRITE, user_id, window)
    return row["writes"], row["seconds_left"]
