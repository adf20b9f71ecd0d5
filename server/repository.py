"""All SQL of the application: named statements and the functions that run them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from asyncpg.cursor import Cursor

from .errors import (
    AlreadyBookedInSlot,
    ReservationNotFound,
    SlotTaken,
    SpotNotFound,
    Unauthorized,
)
from .slots import Slot

# A pool or a single connection: both run a statement on one connection.
Db = asyncpg.Pool | asyncpg.Connection


@dataclass(frozen=True)
class User:
    id: int
    email: str
    display_name: str
    role: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "email": self.email,
            "display_name": self.display_name,
            "role": self.role,
        }


# --- users -------------------------------------------------------------------

FIND_PASSWORD_USER = """
SELECT id, email, display_name, role, password_hash
FROM users
WHERE lower(email) = lower($1)
"""

USER_EXISTS = "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)"


async def find_password_user(db: Db, *, email: str) -> tuple[User, str | None] | None:
    """The user with this email and their password hash (None for OIDC-only users)."""
    row = await db.fetchrow(FIND_PASSWORD_USER, email)
    if row is None:
        return None
    user = User(row["id"], row["email"], row["display_name"], row["role"])
    return user, row["password_hash"]


async def user_exists(db: Db, *, user_id: int) -> bool:
    return await db.fetchval(USER_EXISTS, user_id)


# --- reservations ------------------------------------------------------------

# The columns every reservation answer carries, joined with its spot.
_RESERVATION = """
    r.id, r.user_id, r.spot_id, s.spot_number, s.floor_number, r.start_time,
    r.end_time, r.status, r.created_at, r.completed_at, r.released_by
"""

# One round trip. ON CONFLICT without a target covers both partial unique
# indexes (spot per slot, driver per slot): the loser of a race gets no row,
# never an error, and nothing is checked in Python beforehand.
BOOK = f"""
WITH r AS (
    INSERT INTO reservations (user_id, spot_id, start_time, end_time)
    VALUES ($1, $2, $3, $4)
    ON CONFLICT DO NOTHING
    RETURNING *
)
SELECT {_RESERVATION} FROM r JOIN spots s ON s.id = r.spot_id
"""

# Only run after a lost race, in a new snapshot, to tell the driver why.
SLOT_CONFLICT = """
SELECT s.spot_number,
       (SELECT r.user_id FROM reservations r
        WHERE r.spot_id = s.id AND r.start_time = $2 AND r.status = 'booked') AS holder_id,
       (SELECT o.spot_number FROM reservations r JOIN spots o ON o.id = r.spot_id
        WHERE r.user_id = $3 AND r.start_time = $2 AND r.status = 'booked') AS own_spot_number
FROM spots s
WHERE s.id = $1
"""

COMPLETE = f"""
WITH r AS (
    UPDATE reservations
    SET status = 'completed', completed_at = now(), released_by = 'user'
    WHERE id = $1 AND user_id = $2 AND status = 'booked'
    RETURNING *
)
SELECT {_RESERVATION} FROM r JOIN spots s ON s.id = r.spot_id
"""

GET_RESERVATION = f"""
SELECT {_RESERVATION}
FROM reservations r JOIN spots s ON s.id = r.spot_id
WHERE r.id = $1 AND r.user_id = $2
"""

LIST_RESERVATIONS = f"""
SELECT {_RESERVATION}
FROM reservations r JOIN spots s ON s.id = r.spot_id
WHERE r.user_id = $1 AND ($2::text IS NULL OR r.status = $2)
ORDER BY r.created_at DESC, r.id DESC
"""


async def book(db: Db, *, user_id: int, spot_id: int, slot: Slot) -> dict[str, Any]:
    """Book the slot, or raise why not (SlotTaken, AlreadyBookedInSlot, SpotNotFound)."""
    try:
        row = await db.fetchrow(BOOK, user_id, spot_id, slot.start, slot.end)
    except asyncpg.ForeignKeyViolationError as exc:
        if exc.constraint_name == "reservations_spot_id_fkey":
            raise SpotNotFound(f"Spot {spot_id} does not exist.") from None
        raise Unauthorized("Your account no longer exists.") from None
    if row is not None:
        return dict(row)
    conflict = await db.fetchrow(SLOT_CONFLICT, spot_id, slot.start, user_id)
    if conflict is None:
        # The driver's own booking in this slot conflicted first, so the foreign
        # key on spot_id was never checked.
        raise SpotNotFound(f"Spot {spot_id} does not exist.")
    if conflict["holder_id"] == user_id:
        raise SlotTaken(
            f"You have already booked Spot #{conflict['spot_number']} for {slot.describe()}."
        )
    if conflict["holder_id"] is None and conflict["own_spot_number"] is not None:
        raise AlreadyBookedInSlot(
            f"You already have Spot #{conflict['own_spot_number']} booked for "
            f"{slot.describe()}. Release it first to book another spot."
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
        row = await db.fetchrow(GET_RESERVATION, reservation_id, user_id)
    if row is None:
        raise ReservationNotFound(f"Reservation {reservation_id} was not found.")
    return dict(row)


async def get_reservation(db: Db, *, reservation_id: int, user_id: int) -> dict[str, Any]:
    row = await db.fetchrow(GET_RESERVATION, reservation_id, user_id)
    if row is None:
        raise ReservationNotFound(f"Reservation {reservation_id} was not found.")
    return dict(row)


async def list_reservations(db: Db, *, user_id: int, status: str | None) -> list[dict[str, Any]]:
    return [dict(r) for r in await db.fetch(LIST_RESERVATIONS, user_id, status)]


# Concurrent sweeps (several instances) are safe: a row locked by one UPDATE
# is re-checked by the other after commit, fails status = 'booked', and is skipped.
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


# --- availability grid -------------------------------------------------------

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


# --- history export ----------------------------------------------------------

EXPORT_RESERVATIONS = """
SELECT r.id, s.spot_number, s.floor_number, r.start_time, r.end_time, r.status,
       r.completed_at, r.released_by
FROM reservations r JOIN spots s ON s.id = r.spot_id
WHERE r.user_id = $1
ORDER BY r.start_time, r.id
"""


@asynccontextmanager
async def export_reservations(pool: asyncpg.Pool, *, user_id: int) -> AsyncIterator[Cursor]:
    """A server-side cursor over the driver's whole history: fetch it in batches.

    The query has already run when this yields, so a database failure happens
    before the caller starts its response.
    """
    async with pool.acquire() as conn, conn.transaction():
        yield await conn.cursor(EXPORT_RESERVATIONS, user_id)


# --- occupancy statistics ----------------------------------------------------

# Per hour of the day (lot time), the average number of spots occupied, over
# the hour-long buckets between two instants. Buckets are UTC hours labelled
# with their local hour, so a DST day contributes 23 or 25 buckets, each real.
# A booking occupies its spot from start_time until end_time, or until
# completed_at if released early; one released before its start occupies nothing,
# and nothing after now counts: a booking for later today has not happened yet.
OCCUPANCY_BY_HOUR = """
WITH buckets AS (
    SELECT t AS bucket_start, t + interval '1 hour' AS bucket_end,
           extract(hour FROM t AT TIME ZONE $3)::int AS hour
    FROM generate_series($1::timestamptz, $2::timestamptz - interval '1 hour',
                         interval '1 hour') AS t
),
occupancy AS (
    SELECT start_time, LEAST(end_time, COALESCE(completed_at, end_time), $4) AS occupied_until
    FROM reservations
    WHERE start_time < $2 AND end_time > $1
),
per_bucket AS (
    -- Spot-hours occupied within each bucket, i.e. the average spots occupied in it.
    SELECT k.hour,
           COALESCE((
               SELECT sum(extract(epoch FROM LEAST(o.occupied_until, k.bucket_end)
                                          - GREATEST(o.start_time, k.bucket_start)))
               FROM occupancy o
               WHERE o.occupied_until > o.start_time
                 AND o.start_time < k.bucket_end AND o.occupied_until > k.bucket_start
           ), 0) / 3600.0 AS occupied
    FROM buckets k
)
SELECT h.hour, COALESCE(avg(p.occupied), 0)::float8 AS average_occupied,
       (SELECT count(*) FROM spots) AS spot_count
FROM generate_series(0, 23) AS h (hour)
LEFT JOIN per_bucket p ON p.hour = h.hour
GROUP BY h.hour
ORDER BY h.hour
"""


async def occupancy_by_hour(
    db: Db, *, start: datetime, end: datetime, timezone: str, now: datetime
) -> list[dict[str, Any]]:
    return [dict(r) for r in await db.fetch(OCCUPANCY_BY_HOUR, start, end, timezone, now)]


# --- health ------------------------------------------------------------------


async def ping(db: Db) -> None:
    await db.fetchval("SELECT 1")
