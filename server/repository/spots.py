"""Spots and the availability grid built from them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..db import Db

# The whole grid in one query: every spot, whether it is occupied right now,
# and its booked rows that start on the requested day (one row per booking,
# or one row with NULLs for a spot with none).
GRID = """
SELECT s.id AS spot_id, s.spot_number, s.floor_number, s.type,
       EXISTS (
           SELECT 1 FROM reservations n
           WHERE n.spot_id = s.id AND n.status = 'booked'
             AND n.start_time <= $3 AND n.end_time > $3
       ) AS occupied_now,
       r.id AS reservation_id, r.user_id, r.start_time
FROM spots s
LEFT JOIN reservations r
       ON r.spot_id = s.id AND r.status = 'booked'
      AND r.start_time >= $1 AND r.start_time < $2
ORDER BY s.floor_number, s.spot_number, r.start_time
"""


async def grid(
    db: Db, *, day_start: datetime, day_end: datetime, now: datetime
) -> list[dict[str, Any]]:
    return [dict(r) for r in await db.fetch(GRID, day_start, day_end, now)]
