"""Reservations: booking a slot, releasing it, reading them, and the sweep.

None of these functions announces its change. The triggers on `reservations`
(db/migrations/*_notify_reservation_changes.sql) publish every insert and every
status change with pg_notify, in the same transaction, on the channel named by
parking_events_channel(); realtime.EventListener listens there and fans the
message out to the WebSockets.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from ..db import Db
from ..errors import (
    AlreadyBookedInSlot,
    ReservationNotFound,
    SlotTaken,
    SpotClosed,
    SpotNotFound,
    Unauthorized,
)
from ..slots import Slot

# Every reservation answer carries these columns: the row, its spot, its
# holder (a driver, or a walk-in's name and plate) and who created it.
_RESERVATION = """
    r.id, r.user_id, r.spot_id, s.spot_number, s.floor_number, r.start_time,
    r.end_time, r.status, r.created_at, r.completed_at, r.released_by,
    r.release_reason, r.checked_in_at, r.guest_name, r.licence_plate,
    h.display_name AS holder_name, h.email AS holder_email,
    r.created_by, c.display_name AS created_by_name, c.role AS created_by_role
"""
# `r` is the reservations table or a CTE of rows an INSERT/UPDATE returned
# (a statement cannot see its own writes through a second scan of the table).
_JOINS = """
JOIN spots s ON s.id = r.spot_id
LEFT JOIN users h ON h.id = r.user_id
JOIN users c ON c.id = r.created_by
"""

# One round trip. ON CONFLICT without a target covers both partial unique
# indexes (spot per slot, driver per slot): the loser of a race gets no row,
# never an error, and nothing is checked in Python beforehand. The trigger
# reservations_refuse_closed_slots refuses a closed slot, racing closures
# included. The insert trigger publishes reservation.booked.
BOOK = f"""
WITH r AS (
    INSERT INTO reservations
        (user_id, spot_id, start_time, end_time, created_by, guest_name, licence_plate)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT DO NOTHING
    RETURNING *
)
SELECT {_RESERVATION} FROM r {_JOINS}
"""

# Only run after a lost race, in a new snapshot, to tell the caller why.
SLOT_CONFLICT = """
SELECT s.spot_number,
       (SELECT r.user_id FROM reservations r
        WHERE r.spot_id = s.id AND r.start_time = $2 AND r.status = 'booked') AS holder_id,
       (SELECT o.spot_number FROM reservations r JOIN spots o ON o.id = r.spot_id
        WHERE r.user_id = $3 AND r.start_time = $2 AND r.status = 'booked') AS own_spot_number
FROM spots s
WHERE s.id = $1
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
SELECT {_RESERVATION} FROM r {_JOINS}
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
SELECT {_RESERVATION} FROM r {_JOINS}
"""

GET_OWN = f"""
SELECT {_RESERVATION}
FROM reservations r {_JOINS}
WHERE r.id = $1 AND r.user_id = $2
"""

GET_ANY = f"""
SELECT {_RESERVATION}
FROM reservations r {_JOINS}
WHERE r.id = $1
"""

LIST_OWN = f"""
SELECT {_RESERVATION}
FROM reservations r {_JOINS}
WHERE r.user_id = $1 AND ($2::text IS NULL OR r.status = $2)
ORDER BY r.created_at DESC, r.id DESC
"""


async def book(
    db: Db,
    *,
    spot_id: int,
    slot: Slot,
    created_by: int,
    user_id: int | None = None,
    guest_name: str | None = None,
    licence_plate: str | None = None,
    driver_name: str | None = None,
) -> dict[str, Any]:
    """Book the slot for a driver (user_id) or a walk-in guest, or raise why not.

    driver_name is who the booking is for when that is not the caller (the
    attendant booking for a driver); conflict messages then name them.
    Raises SlotTaken, AlreadyBookedInSlot, SpotClosed or SpotNotFound.
    """
    try:
        row = await db.fetchrow(
            BOOK, user_id, spot_id, slot.start, slot.end, created_by, guest_name, licence_plate
        )
    except asyncpg.ForeignKeyViolationError as exc:
        if exc.constraint_name == "reservations_spot_id_fkey":
            raise SpotNotFound(f"Spot {spot_id} does not exist.") from None
        raise Unauthorized("Your account no longer exists.") from None
    except asyncpg.CheckViolationError as exc:
        if exc.constraint_name != "reservations_spot_closed":
            raise
        number = await db.fetchval(SPOT_NUMBER, spot_id)
        raise SpotClosed(
            f"Spot #{number} is closed for {slot.describe()}. Please pick another spot or time."
        ) from None
    if row is not None:
        return dict(row)
    conflict = await db.fetchrow(SLOT_CONFLICT, spot_id, slot.start, user_id)
    if conflict is None:
        # The driver's own booking in this slot conflicted first, so the foreign
        # key on spot_id was never checked.
        raise SpotNotFound(f"Spot {spot_id} does not exist.")
    if user_id is not None and conflict["holder_id"] == user_id:
        who = "You have" if driver_name is None else f"{driver_name} has"
        raise SlotTaken(
            f"{who} already booked Spot #{conflict['spot_number']} for {slot.describe()}."
        )
    if conflict["holder_id"] is None and conflict["own_spot_number"] is not None:
        if driver_name is None:
            raise AlreadyBookedInSlot(
                f"You already have Spot #{conflict['own_spot_number']} booked for "
                f"{slot.describe()}. Release it first to book another spot."
            )
        raise AlreadyBookedInSlot(
            f"{driver_name} already has Spot #{conflict['own_spot_number']} booked for "
            f"{slot.describe()}; a driver holds one spot per slot."
        )
    # Held by someone else, or held a moment ago and released since: either way,
    # this request lost the race.
    raise SlotTaken(
        f"Spot #{conflict['spot_number']} is already booked for {slot.describe()}. "
        "Please pick another spot or time."
    )


async def complete(db: Db, *, reservation_id: int, user_id: int) -> dict[str, Any]:
    """Release the driver's booking; completing a completed one returns it unchanged."""
    row = await db.fetchrow(COMPLETE, reservation_id, user_id)
    if row is None:
        # Not booked any more, or not this driver's: a fresh read tells which.
        row = await db.fetchrow(GET_OWN, reservation_id, user_id)
    if row is None:
        raise ReservationNotFound(f"Reservation {reservation_id} was not found.")
    return dict(row)


async def admin_release(db: Db, *, reservation_id: int, reason: str) -> dict[str, Any]:
    """Release any booking with a reason; releasing a released one returns it unchanged."""
    row = await db.fetchrow(ADMIN_RELEASE, reservation_id, reason)
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


async def list_reservations(db: Db, *, user_id: int, status: str | None) -> list[dict[str, Any]]:
    return [dict(r) for r in await db.fetch(LIST_OWN, user_id, status)]


# Concurrent sweeps (several instances) are safe: a row locked by one UPDATE
# is re-checked by the other after commit, fails status = 'booked', and is skipped.
# The status-change trigger publishes each release (reason "expired").
RELEASE_EXPIRED = """
WITH r AS (
    UPDATE reservations
    SET status = 'completed', completed_at = now(), released_by = 'expired'
    WHERE status = 'booked' AND end_time <= now()
    RETURNING id, spot_id
)
SELECT r.id, s.spot_number FROM r JOIN spots s ON s.id = r.spot_id ORDER BY r.id
"""


async def release_expired(db: Db) -> list[dict[str, Any]]:
    return [dict(r) for r in await db.fetch(RELEASE_EXPIRED)]
