"""Spots, and the day's grid of bookings and closures over them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from ..db import Db
from ..errors import SpotNotFound, SpotNumberTaken
from .audit import acting_as

# The whole day in one query and one snapshot: every spot, whether it is
# occupied right now, and the day's items on it, each a row: booked
# reservations starting that day (with their holder and plate) and closures overlapping
# it. A spot with neither gives one row with a NULL kind. Both the drivers'
# grid and the attendant's board are built from it (shapes.py decides what
# each may see).
GRID = """
WITH items AS (
    SELECT r.spot_id, 'booking' AS kind, r.id AS item_id, r.start_time, r.end_time,
           r.user_id, h.display_name AS holder_name, h.email AS holder_email,
           r.guest_name, COALESCE(r.licence_plate, v.licence_plate) AS licence_plate,
           r.checked_in_at, NULL AS reason
    FROM reservations r
    LEFT JOIN users h ON h.id = r.user_id
    LEFT JOIN vehicles v ON v.id = r.vehicle_id
    WHERE r.status = 'booked' AND r.start_time >= $1 AND r.start_time < $2
    UNION ALL
    SELECT c.spot_id, 'closure', c.id, c.start_time, c.end_time,
           NULL, NULL, NULL, NULL, NULL, NULL, c.reason
    FROM closures c
    WHERE c.start_time < $2 AND c.end_time > $1
)
SELECT s.id AS spot_id, s.spot_number, s.floor_number, s.type,
       EXISTS (
           SELECT 1 FROM reservations n
           WHERE n.spot_id = s.id AND n.status = 'booked'
             AND n.start_time <= $3 AND n.end_time > $3
       ) AS occupied_now,
       i.kind, i.item_id, i.start_time, i.end_time, i.user_id, i.holder_name,
       i.holder_email, i.guest_name, i.licence_plate, i.checked_in_at, i.reason
FROM spots s
LEFT JOIN items i ON i.spot_id = s.id
ORDER BY s.floor_number, s.spot_number, i.start_time
"""

_SPOT = "id, spot_number, floor_number, type"

# The insert and update triggers publish spot.created / spot.updated, and
# the audit triggers record them.
CREATE_SPOT = f"""
INSERT INTO spots (spot_number, floor_number, type) VALUES ($1, $2, $3)
RETURNING {_SPOT}
"""

# NULL leaves a field as it is.
UPDATE_SPOT = f"""
UPDATE spots
SET floor_number = COALESCE($2, floor_number), type = COALESCE($3, type)
WHERE id = $1
RETURNING {_SPOT}
"""


async def grid(
    db: Db, *, day_start: datetime, day_end: datetime, now: datetime
) -> list[dict[str, Any]]:
    return [dict(r) for r in await db.fetch(GRID, day_start, day_end, now)]


async def create_spot(
    db: Db, *, spot_number: int, floor_number: int, type: str, actor_id: int
) -> dict[str, Any]:
    try:
        async with acting_as(db, actor_id) as conn:
            return dict(await conn.fetchrow(CREATE_SPOT, spot_number, floor_number, type))
    except asyncpg.UniqueViolationError:
        raise SpotNumberTaken(f"There is already a Spot #{spot_number}.") from None


async def update_spot(
    db: Db, *, spot_id: int, floor_number: int | None, type: str | None, actor_id: int
) -> dict[str, Any]:
    async with acting_as(db, actor_id) as conn:
        row = await conn.fetchrow(UPDATE_SPOT, spot_id, floor_number, type)
    if row is None:
        raise SpotNotFound(f"Spot {spot_id} does not exist.")
    return dict(row)
