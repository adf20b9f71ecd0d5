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

# book_any_spot (db/migrations/*_book_any_free_spot*.sql) tries the open spots
# of the type in order, lowest floor then lowest number, each with an ordinary
# INSERT: the unique indexes, the booking-limit trigger and the closures
# trigger decide, under any race, on any number of instances. The horizon is
# read from lot_rules in the same statement ($6 the slot's day, $7 the lot's
# today); beyond it the function is not called. $8 is who booked it (NULL:
# the driver), $9 and $10 a walk-in's name and plate, $11 the driver's
# vehicle (NULL: their only one, if they have one). The insert trigger
# publishes reservation.booked; the audit trigger records a booking for
# someone else.
BOOK_ANY = f"""
WITH r AS (
    SELECT b.*
    FROM book_any_spot($1, $2, $3, $4, $5, $8, $9, $10, $11) b
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
    slot: Slot,
    spot_type: str,
    lot_today: date,
    user_id: int | None = None,
    series_id: int | None = None,
    created_by: int | None = None,
    guest_name: str | None = None,
    licence_plate: str | None = None,
    vehicle_id: int | None = None,
    driver_name: str | None = None,
) -> dict[str, Any]:
    """Book the first free spot of `spot_type` in the slot, or raise why not.

    For a driver (user_id), booking for themselves or booked for by the
    attendant (created_by; driver_name then words the refusals), or for a
    walk-in (guest_name, licence_plate). Raises LotFull, AlreadyBookedInSlot,
    BookingLimitReached, VehicleNotFound, or ValidationFailed beyond the horizon.
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
            created_by,
            guest_name,
            licence_plate,
            vehicle_id,
        )
    except asyncpg.ForeignKeyViolationError as exc:
        if exc.constraint_name == "reservations_vehicle_fkey":
            raise refusals.not_their_vehicle(vehicle_id, driver_name) from None
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
        raise refusals.one_spot_per_slot(why["own_spot_number"], slot.describe(), driver_name)
    raise refusals.lot_full(spot_type, slot.describe())
