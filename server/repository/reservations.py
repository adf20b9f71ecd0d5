"""Reservations: booking a slot, releasing it, and reading them (the sweeps: arrivals.py).

None of these functions announces its change. The triggers on `reservations`
(db/migrations/*_notify_reservation_changes.sql, *_publish_lot_changes.sql and
*_publish_check_ins_and_index_no_shows.sql) publish every insert and every
status change with pg_notify, in the same transaction, on the channel named by
parking_events_channel(); listener.EventListener listens there and hands each
message to the hub, which fans it out to the WebSockets. In the same
transaction they queue webhook calls and write the driver's notification and
its mail to the outbox (*_create_notifications_and_outbox.sql).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import asyncpg

from .. import refusals
from ..db import Db
from ..errors import ReservationNotFound, SpotNotFound, Unauthorized
from ..slots import Slot
from .audit import acting_as

MAX_ID = 2**63 - 1  # bigint's largest: a cursor before every id

# Every reservation answer carries these columns: the row, its spot, its
# holder (a driver, or a walk-in's name and plate), the driver's vehicle if
# the booking names one, and who created it.
RESERVATION_COLUMNS = """
    r.id, r.user_id, r.spot_id, s.spot_number, s.floor_number, r.start_time,
    r.end_time, r.status, r.created_at, r.completed_at, r.released_by,
    r.release_reason, r.checked_in_at, r.guest_name, r.licence_plate, r.from_waitlist,
    h.display_name AS holder_name, h.email AS holder_email,
    r.vehicle_id, v.licence_plate AS vehicle_plate, v.label AS vehicle_label,
    r.created_by, c.display_name AS created_by_name, c.role AS created_by_role, r.series_id
"""
# `r` is the reservations table or a CTE of rows an INSERT/UPDATE returned
# (a statement cannot see its own writes through a second scan of the table).
RESERVATION_JOINS = """
JOIN spots s ON s.id = r.spot_id
LEFT JOIN users h ON h.id = r.user_id
LEFT JOIN vehicles v ON v.id = r.vehicle_id
JOIN users c ON c.id = r.created_by
"""

# One round trip, and every rule is the database's:
# - ON CONFLICT without a target covers both partial unique indexes (spot per
#   slot, driver per slot): the loser of a race gets no row, never an error;
# - the horizon is read from lot_rules in this same statement ($8 is the
#   slot's day in the lot, $9 the lot's today);
# - triggers refuse a driver over their booking limit
#   (reservations_enforce_booking_limit) and a closed slot
#   (reservations_refuse_closed_slots), racing bookings and closures included.
# - the vehicle ($10) must be the driver's own (the (vehicle_id, user_id)
#   foreign key), and a driver with one vehicle books with it when $10 is
#   NULL (reservations_default_vehicle);
# - $11 is the weekly series the booking is a date of, or NULL.
# Nothing is checked in Python beforehand. The insert trigger publishes
# reservation.booked; the audit trigger records a booking for someone else.
BOOK = f"""
WITH r AS (
    INSERT INTO reservations
        (user_id, spot_id, start_time, end_time, created_by, guest_name, licence_plate,
         vehicle_id, series_id)
    SELECT $1, $2, $3, $4, $5, $6, $7, $10, $11
    FROM lot_rules
    WHERE $8::date <= $9::date + booking_horizon_days
    ON CONFLICT DO NOTHING
    RETURNING *
)
SELECT {RESERVATION_COLUMNS} FROM r {RESERVATION_JOINS}
"""

# Only run when no row came back, in a new snapshot, to tell the caller why.
WHY_NOT_BOOKED = """
SELECT l.booking_horizon_days, s.spot_number,
       (SELECT r.user_id FROM reservations r
        WHERE r.spot_id = s.id AND r.start_time = $2 AND r.status = 'booked') AS holder_id,
       (SELECT o.spot_number FROM reservations r JOIN spots o ON o.id = r.spot_id
        WHERE r.user_id = $3 AND r.start_time = $2 AND r.status = 'booked') AS own_spot_number
FROM lot_rules l
LEFT JOIN spots s ON s.id = $1
"""

SPOT_NUMBER = "SELECT spot_number FROM spots WHERE id = $1"

# The status-change trigger publishes reservation.released.
COMPLETE = f"""
WITH r AS (
    UPDATE reservations
    SET status = 'completed', completed_at = now(), released_by = 'user'
    WHERE id = $1 AND user_id = $2 AND status = 'booked'
    RETURNING *
)
SELECT {RESERVATION_COLUMNS} FROM r {RESERVATION_JOINS}
"""

# The attendant may release anyone's booking, and must say why. The
# status-change trigger publishes it, reason and all, to the holder.
ADMIN_RELEASE = f"""
WITH r AS (
    UPDATE reservations
    SET status = 'completed', completed_at = now(), released_by = 'admin', release_reason = $2
    WHERE id = $1 AND status = 'booked'
    RETURNING *
)
SELECT {RESERVATION_COLUMNS} FROM r {RESERVATION_JOINS}
"""

GET_OWN = f"""
SELECT {RESERVATION_COLUMNS}
FROM reservations r {RESERVATION_JOINS}
WHERE r.id = $1 AND r.user_id = $2
"""

GET_ANY = f"""
SELECT {RESERVATION_COLUMNS}
FROM reservations r {RESERVATION_JOINS}
WHERE r.id = $1
"""

# A page of the driver's reservations, newest first ($3 rows): by id, which
# follows the order they were made in. The next page starts below the last id
# shown ($4; keyset, never OFFSET), so however deep, a page is one short
# backward scan of reservations_user_id_id_idx.
LIST_OWN = f"""
SELECT {RESERVATION_COLUMNS}
FROM reservations r {RESERVATION_JOINS}
WHERE r.user_id = $1 AND ($2::text IS NULL OR r.status = $2) AND r.id < $4
ORDER BY r.id DESC
LIMIT $3
"""


async def fetchrow_in_savepoint(db: Db, query: str, *args: Any) -> asyncpg.Record | None:
    """fetchrow, in a savepoint when `db` is a connection inside a transaction.

    A trigger's refusal then leaves the caller's transaction usable, for the
    query that words the refusal and for recording it (repository/series.py).
    """
    if isinstance(db, asyncpg.Connection) and db.is_in_transaction():
        async with db.transaction():
            return await db.fetchrow(query, *args)
    return await db.fetchrow(query, *args)


async def book(
    db: Db,
    *,
    spot_id: int,
    slot: Slot,
    lot_today: date,
    created_by: int,
    user_id: int | None = None,
    guest_name: str | None = None,
    licence_plate: str | None = None,
    vehicle_id: int | None = None,
    driver_name: str | None = None,
    series_id: int | None = None,
) -> dict[str, Any]:
    """Book the slot for a driver (user_id) or a walk-in guest, or raise why not.

    driver_name is who the booking is for when that is not the caller (the
    attendant booking for a driver); conflict messages then name them. Raises
    SlotTaken, AlreadyBookedInSlot, SpotClosed, BookingLimitReached,
    SpotNotFound, VehicleNotFound, or ValidationFailed beyond the horizon.
    """
    try:
        row = await fetchrow_in_savepoint(
            db,
            BOOK,
            user_id,
            spot_id,
            slot.start,
            slot.end,
            created_by,
            guest_name,
            licence_plate,
            slot.start.date(),
            lot_today,
            vehicle_id,
            series_id,
        )
    except asyncpg.ForeignKeyViolationError as exc:
        if exc.constraint_name == "reservations_spot_id_fkey":
            raise SpotNotFound(f"Spot {spot_id} does not exist.") from None
        if exc.constraint_name == "reservations_vehicle_fkey":
            raise refusals.not_their_vehicle(vehicle_id, driver_name) from None
        raise Unauthorized("Your account no longer exists.") from None
    except asyncpg.CheckViolationError as exc:
        if exc.constraint_name == "reservations_booking_limit":
            raise refusals.booking_limit_reached(int(exc.detail)) from None
        if exc.constraint_name == "reservations_spot_closed":
            number = await db.fetchval(SPOT_NUMBER, spot_id)
            raise refusals.spot_closed(number, slot.describe()) from None
        raise
    if row is not None:
        return dict(row)
    why = await db.fetchrow(WHY_NOT_BOOKED, spot_id, slot.start, user_id)
    last_day = lot_today + timedelta(days=why["booking_horizon_days"])
    if slot.start.date() > last_day:
        raise refusals.beyond_horizon(why["booking_horizon_days"], last_day)
    if why["spot_number"] is None:
        # No such spot. (A driver's own booking in this slot can conflict
        # before the foreign key on spot_id is checked.)
        raise SpotNotFound(f"Spot {spot_id} does not exist.")
    if user_id is not None and why["holder_id"] == user_id:
        raise refusals.already_yours(why["spot_number"], slot.describe(), driver_name)
    if why["holder_id"] is None and why["own_spot_number"] is not None:
        raise refusals.one_spot_per_slot(why["own_spot_number"], slot.describe(), driver_name)
    # Held by someone else, or held a moment ago and released since: either way,
    # this request lost the race.
    raise refusals.slot_taken(why["spot_number"], slot.describe())


async def complete(db: Db, *, reservation_id: int, user_id: int) -> dict[str, Any]:
    """Release the driver's booking; completing a completed one returns it unchanged."""
    row = await db.fetchrow(COMPLETE, reservation_id, user_id)
    if row is None:
        # Not booked any more, or not this driver's: a fresh read tells which.
        row = await db.fetchrow(GET_OWN, reservation_id, user_id)
    if row is None:
        raise ReservationNotFound(f"Reservation {reservation_id} was not found.")
    return dict(row)


async def admin_release(
    db: Db, *, reservation_id: int, reason: str, actor_id: int
) -> dict[str, Any]:
    """Release any booking with a reason; releasing a released one returns it unchanged.

    The audit trigger records the release, and its reason, in the same transaction.
    """
    async with acting_as(db, actor_id) as conn:
        row = await conn.fetchrow(ADMIN_RELEASE, reservation_id, reason)
    if row is None:
        row = await db.fetchrow(GET_ANY, reservation_id)
    if row is None:
        raise ReservationNotFound(f"Reservation {reservation_id} was not found.")
    return dict(row)


async def get_reservation(
    db: Db, *, reservation_id: int, user_id: int | None = None
) -> dict[str, Any]:
    """The driver's own reservation, or with user_id None (the attendant) anyone's."""
    if user_id is None:
        row = await db.fetchrow(GET_ANY, reservation_id)
    else:
        row = await db.fetchrow(GET_OWN, reservation_id, user_id)
    if row is None:
        raise ReservationNotFound(f"Reservation {reservation_id} was not found.")
    return dict(row)


async def list_reservations(
    db: Db, *, user_id: int, status: str | None, limit: int, before: int | None = None
) -> list[dict[str, Any]]:
    """Up to `limit` of the driver's reservations, newest first, older than `before` (an id)."""
    cursor = MAX_ID if before is None else before
    return [dict(r) for r in await db.fetch(LIST_OWN, user_id, status, limit, cursor)]


# The caller's bookings whose slot has not ended, soonest first: the page's
# "My bookings". Kept apart from LIST_OWN (the full history, which pages).
LIST_UPCOMING = f"""
SELECT {RESERVATION_COLUMNS}
FROM reservations r {RESERVATION_JOINS}
WHERE r.user_id = $1 AND r.status = 'booked' AND r.end_time > now()
ORDER BY r.start_time, r.id
"""


async def list_upcoming(db: Db, *, user_id: int) -> list[dict[str, Any]]:
    return [dict(r) for r in await db.fetch(LIST_UPCOMING, user_id)]
