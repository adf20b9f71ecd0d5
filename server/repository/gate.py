"""The gate: who holds a plate today and what they booked, and the spots free in a slot."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..db import Db

# Drivers with a vehicle of this plate (vehicles_plate_key_idx). $1 is the
# plate as typed; normalised_plate() is the one definition of a match.
DRIVERS_WITH_PLATE = """
SELECT v.user_id, u.display_name, u.email, v.id AS vehicle_id, v.licence_plate, v.label
FROM vehicles v JOIN users u ON u.id = v.user_id
WHERE v.plate_key = normalised_plate($1)
ORDER BY u.display_name, v.user_id
"""

_BOOKING = """
r.id, r.user_id, r.guest_name, r.licence_plate, r.spot_id, s.spot_number, s.floor_number,
r.start_time, r.end_time, r.status, r.checked_in_at
"""

# The day's reservations [$2, $3) of those drivers ($4) and of walk-ins with
# this plate (reservations_guest_plate_idx), in two branches so that each
# uses its index. Released ones too: a walk-in released this morning is
# still a holder the attendant may ask about.
DAYS_BOOKINGS = f"""
SELECT {_BOOKING}
FROM reservations r JOIN spots s ON s.id = r.spot_id
WHERE r.user_id = ANY($4::bigint[]) AND r.start_time >= $2 AND r.start_time < $3
UNION ALL
SELECT {_BOOKING}
FROM reservations r JOIN spots s ON s.id = r.spot_id
WHERE r.user_id IS NULL AND normalised_plate(r.licence_plate) = normalised_plate($1)
  AND r.start_time >= $2 AND r.start_time < $3
ORDER BY start_time, id
"""

# For each slot [$1[i], $2[i]), the spots neither booked nor closed in it:
# regular spots first, then by floor and number.
FREE_SPOTS = """
SELECT sl.position, s.id, s.spot_number, s.floor_number, s.type
FROM unnest($1::timestamptz[], $2::timestamptz[]) WITH ORDINALITY AS sl (start_time, end_time, position)
CROSS JOIN spots s
WHERE NOT EXISTS (
          SELECT 1 FROM reservations r
          WHERE r.spot_id = s.id AND r.start_time = sl.start_time AND r.status = 'booked')
  AND NOT EXISTS (
          SELECT 1 FROM closures c
          WHERE c.spot_id = s.id AND c.start_time < sl.end_time AND c.end_time > sl.start_time)
ORDER BY sl.position, s.type <> 'regular', s.floor_number, s.spot_number
"""


async def drivers_with_plate(db: Db, *, plate: str) -> list[dict[str, Any]]:
    return [dict(r) for r in await db.fetch(DRIVERS_WITH_PLATE, plate)]


async def days_bookings(
    db: Db, *, plate: str, user_ids: list[int], day_start: datetime, day_end: datetime
) -> list[dict[str, Any]]:
    rows = await db.fetch(DAYS_BOOKINGS, plate, day_start, day_end, user_ids)
    return [dict(r) for r in rows]


async def free_spots(
    db: Db, *, slots: list[tuple[datetime, datetime]]
) -> list[list[dict[str, Any]]]:
    """The free spots of each slot, in the order given."""
    rows = await db.fetch(FREE_SPOTS, [s for s, _ in slots], [e for _, e in slots])
    free: list[list[dict[str, Any]]] = [[] for _ in slots]
    for row in rows:
        free[row["position"] - 1].append(
            {k: row[k] for k in ("id", "spot_number", "floor_number", "type")}
        )
    return free
