"""Booking any free spot of a type in a slot: the database chooses the spot as it inserts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import asyncpg

from .. import refusals
from ..db import Db
from ..errors import Unauthorized
from ..slots import Slot
from .reservations import RESERVATION_COLUMNS, RESERVATION_JOINS, fetchrow_in_savepoint

# book_any_spot (db/migrations/*_book_any_free_spot.sql) tries the open spots
# of the type in order, lowest floor then lowest number, each with an ordinary
# INSERT: the unique indexes, the booking-limit trigger and the closures
# trigger decide, under any race, on any number of instances. The horizon is
# read from lot_rules in the same statement ($6 the slot's day, $7 the lot's
# today); beyond it the function is not called. The insert trigger publishes
# reservation.booked.
BOOK_ANY = f"""
WITH r AS (
    SELECT b.*
    FROM book_any_spot($1, $2, $3, $4, $5) b
    WHERE EXISTS (SELECT 1 FROM lot_rules WHERE $6::date <= $7::date + booking_horizon_days)
)
SELECT {RESERVATION_COLUMNS} FROM r {RESERVATION_JOINS}
"""

# Only run when no row came back, in a new snapshot, to tell the caller why.
WHY_NONE_FREE = """
SELECT l.booking_horizon_days,
       (SELECT s.spot_number FROM reservations r JOIN spots s ON s.id = r.spot_id
        WHERE r.user_id = $1 AND r.start_time = $2 AND r.status = 'booked') AS own_spot_number
FROM lot_rules l
"""


async def book_any(
    db: Db,
    *,
    user_id: int,
    slot: Slot,
    spot_type: str,
    lot_today: date,
    series_id: int | None = None,
) -> dict[str, Any]:
    """Book the first free spot of `spot_type` in the slot for the driver, or raise why not.

    Raises LotFull, AlreadyBookedInSlot, BookingLimitReached, or
    ValidationFailed beyond the horizon.
    """
    try:
        row = await fetchrow_in_savepoint(
            db,
            BOOK_ANY,
            user_id,
            slot.start,
            slot.end,
            spot_type,
            series_id,
            slot.start.date(),
            lot_today,
        )
    except asyncpg.ForeignKeyViolationError:
        raise Unauthorized("Your account no longer exists.") from None
    except asyncpg.CheckViolationError as exc:
        if exc.constraint_name == "reservations_booking_limit":
            raise refusals.booking_limit_reached(int(exc.detail)) from None
        raise
    if row is not None:
        return dict(row)
    why = await db.fetchrow(WHY_NONE_FREE, user_id, slot.start)
    last_day = lot_today + timedelta(days=why["booking_horizon_days"])
    if slot.start.date() > last_day:
        raise refusals.beyond_horizon(why["booking_horizon_days"], last_day)
    if why["own_spot_number"] is not None:
        raise refusals.one_spot_per_slot(why["own_spot_number"], slot.describe(), None)
    raise refusals.lot_full(spot_type, slot.describe())
