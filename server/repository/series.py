"""Weekly series: their dates (occurrences), booking each one once, and stopping a series.

An occurrence is booked by whoever holds its row locked while it is
'pending': the request that made the series (for dates inside the horizon)
or a sweeper on any instance (FOR UPDATE SKIP LOCKED), and the booking and
its outcome commit together. So a date is booked at most once, and a crash
between two dates leaves the rest pending for the sweeper.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from ..db import Db, Pool
from .. import refusals
from ..errors import ApiError, SeriesNotFound, SlotTaken, SpotClosed, SpotNotFound
from ..slots import Slot, slots_on
from .free_spots import book_any
from .reservations import RESERVATION_COLUMNS, RESERVATION_JOINS, book

_SERIES = """
    s.id, s.user_id, s.weekdays, s.slot_index, s.first_day, s.last_day, s.spot_id,
    p.spot_number, s.spot_type, s.fallback, s.created_at, s.stopped_at
"""

# The series' spot type is its spot's (the fallback takes the same type), or
# the type asked for. A spot_id that names no spot fails the foreign key.
INSERT_SERIES = """
INSERT INTO reservation_series
    (user_id, weekdays, slot_index, first_day, last_day, spot_id, spot_type, fallback)
SELECT $1, $2, $3, $4, $5, $6, COALESCE((SELECT type FROM spots WHERE id = $6), $7), $8
RETURNING id
"""

INSERT_OCCURRENCES = """
INSERT INTO series_occurrences (series_id, day)
SELECT $1, unnest($2::date[])
"""

GET_SERIES = f"""
SELECT {_SERIES}
FROM reservation_series s LEFT JOIN spots p ON p.id = s.spot_id
WHERE s.id = $1 AND s.user_id = $2
"""

LIST_SERIES = f"""
SELECT {_SERIES}
FROM reservation_series s LEFT JOIN spots p ON p.id = s.spot_id
WHERE s.user_id = $1
ORDER BY s.id DESC
"""

LIST_OCCURRENCES = """
SELECT series_id, day, status, reservation_id, error_code, error_message
FROM series_occurrences
WHERE series_id = ANY($1::bigint[])
ORDER BY series_id, day
"""

# The occurrences' bookings as they are now (some may have been released since).
RESERVATIONS_BY_ID = f"""
SELECT {RESERVATION_COLUMNS}
FROM reservations r {RESERVATION_JOINS}
WHERE r.id = ANY($1::bigint[])
"""

# One date of a series the caller just made, if the horizon ($3 the lot's
# today) has reached it, waiting for a sweeper that has claimed it first;
# after its commit the row is no longer pending (no row).
CLAIM_OCCURRENCE = """
SELECT o.day, s.id AS series_id, s.user_id, s.slot_index, s.spot_id, s.spot_type, s.fallback
FROM series_occurrences o JOIN reservation_series s ON s.id = o.series_id
WHERE o.series_id = $1 AND o.day = $2 AND o.status = 'pending' AND s.stopped_at IS NULL
  AND o.day <= $3::date + (SELECT booking_horizon_days FROM lot_rules)
FOR UPDATE OF o
"""

# The sweeper's: the next pending date the horizon has reached ($1 the lot's
# today), skipping dates another instance is booking right now.
CLAIM_DUE_OCCURRENCE = """
SELECT o.day, s.id AS series_id, s.user_id, s.slot_index, s.spot_id, s.spot_type, s.fallback
FROM series_occurrences o JOIN reservation_series s ON s.id = o.series_id
WHERE o.status = 'pending' AND s.stopped_at IS NULL
  AND o.day <= $1::date + (SELECT booking_horizon_days FROM lot_rules)
ORDER BY o.day, o.series_id
LIMIT 1
FOR UPDATE OF o SKIP LOCKED
"""

RECORD_OUTCOME = """
UPDATE series_occurrences
SET status = $3, reservation_id = $4, error_code = $5, error_message = $6, decided_at = now()
WHERE series_id = $1 AND day = $2
"""

# Stopping, in three statements of one transaction, in this order: the series
# (a sweeper that has not claimed a date yet sees it stopped), its pending
# dates (waiting for a sweeper booking one now, then skipping it: no longer
# pending), and then, in a snapshot that holds any such booking, its bookings
# that have not started. The status-change trigger publishes each release.
STOP_SERIES = """
UPDATE reservation_series SET stopped_at = COALESCE(stopped_at, now())
WHERE id = $1 AND user_id = $2
RETURNING id
"""

STOP_PENDING = """
UPDATE series_occurrences SET status = 'stopped', decided_at = now()
WHERE series_id = $1 AND status = 'pending'
"""

RELEASE_FUTURE_BOOKINGS = """
UPDATE reservations
SET status = 'completed', completed_at = now(), released_by = 'user'
WHERE series_id = $1 AND status = 'booked' AND start_time > now()
RETURNING id
"""


async def create_series(
    pool: Pool,
    *,
    user_id: int,
    weekdays: list[int],
    slot_index: int,
    first_day: date,
    last_day: date,
    spot_id: int | None,
    spot_type: str,
    fallback: str,
    days: list[date],
) -> int:
    """Record the series and its dates, every one pending; returns its id."""
    async with pool.acquire() as conn, conn.transaction():
        try:
            series_id = await conn.fetchval(
                INSERT_SERIES,
                user_id,
                weekdays,
                slot_index,
                first_day,
                last_day,
                spot_id,
                spot_type,
                fallback,
            )
        except asyncpg.ForeignKeyViolationError as exc:
            if exc.constraint_name == "reservation_series_spot_id_fkey":
                raise SpotNotFound(f"Spot {spot_id} does not exist.") from None
            raise
        await conn.execute(INSERT_OCCURRENCES, series_id, days)
    return series_id


async def book_occurrence(
    pool: Pool, *, series_id: int, day: date, tz: ZoneInfo, lot_today: date, now: datetime
) -> None:
    """Book one pending date of a series just made, unless a sweeper already has.

    A date beyond the horizon stays pending.
    """
    async with pool.acquire() as conn, conn.transaction():
        claimed = await conn.fetchrow(CLAIM_OCCURRENCE, series_id, day, lot_today)
        if claimed is not None:
            await _book_claimed(conn, dict(claimed), tz=tz, lot_today=lot_today, now=now)


async def book_next_due(pool: Pool, *, tz: ZoneInfo, lot_today: date, now: datetime) -> bool:
    """Book the next pending date the horizon has reached; False when there is none."""
    async with pool.acquire() as conn, conn.transaction():
        claimed = await conn.fetchrow(CLAIM_DUE_OCCURRENCE, lot_today)
        if claimed is None:
            return False
        await _book_claimed(conn, dict(claimed), tz=tz, lot_today=lot_today, now=now)
    return True


async def _book_claimed(
    conn: asyncpg.Connection,
    occurrence: dict[str, Any],
    *,
    tz: ZoneInfo,
    lot_today: date,
    now: datetime,
) -> None:
    """Book a claimed date by the rules of a single booking, and record the outcome."""
    day = occurrence["day"]
    slot = slots_on(day, tz)[occurrence["slot_index"]]
    try:
        # Each booking statement runs in a savepoint (fetchrow_in_savepoint): a
        # trigger's refusal leaves this claim's transaction usable.
        reservation = await _book_slot(conn, occurrence, slot, lot_today, now)
    except ApiError as refusal:
        outcome = ("refused", None, refusal.code, refusal.message)
    else:
        outcome = ("booked", reservation["id"], None, None)
    await conn.execute(RECORD_OUTCOME, occurrence["series_id"], day, *outcome)


async def _book_slot(
    conn: asyncpg.Connection, occurrence: dict[str, Any], slot: Slot, lot_today: date, now: datetime
) -> dict[str, Any]:
    if slot.end <= now:
        # The same refusal as a single booking's (slots.bookable_slot).
        raise refusals.slot_ended(slot.describe())
    user_id, series_id = occurrence["user_id"], occurrence["series_id"]
    if occurrence["spot_id"] is not None:
        try:
            return await book(
                conn,
                spot_id=occurrence["spot_id"],
                slot=slot,
                lot_today=lot_today,
                user_id=user_id,
                created_by=user_id,
                series_id=series_id,
            )
        except (SlotTaken, SpotClosed):
            if occurrence["fallback"] != "any":
                raise
    return await book_any(
        conn,
        user_id=user_id,
        slot=slot,
        spot_type=occurrence["spot_type"],
        lot_today=lot_today,
        series_id=series_id,
    )


async def stop_series(pool: Pool, *, series_id: int, user_id: int) -> list[int]:
    """Stop the series and release its bookings that have not started; their ids."""
    async with pool.acquire() as conn, conn.transaction():
        if await conn.fetchval(STOP_SERIES, series_id, user_id) is None:
            raise SeriesNotFound(f"Series {series_id} was not found.")
        await conn.execute(STOP_PENDING, series_id)
        released = await conn.fetch(RELEASE_FUTURE_BOOKINGS, series_id)
    return [row["id"] for row in released]


async def get_series(db: Db, *, series_id: int, user_id: int) -> dict[str, Any]:
    """The caller's series with its occurrences; another driver's is not found."""
    row = await db.fetchrow(GET_SERIES, series_id, user_id)
    if row is None:
        raise SeriesNotFound(f"Series {series_id} was not found.")
    series = dict(row)
    series["occurrences"] = await _occurrences(db, [series_id])
    return series


async def list_series(db: Db, *, user_id: int) -> list[dict[str, Any]]:
    series = [dict(row) for row in await db.fetch(LIST_SERIES, user_id)]
    occurrences = await _occurrences(db, [s["id"] for s in series])
    for item in series:
        item["occurrences"] = [o for o in occurrences if o["series_id"] == item["id"]]
    return series


async def _occurrences(db: Db, series_ids: list[int]) -> list[dict[str, Any]]:
    rows = [dict(r) for r in await db.fetch(LIST_OCCURRENCES, series_ids)]
    booked = [row["reservation_id"] for row in rows if row["reservation_id"] is not None]
    reservations = {r["id"]: dict(r) for r in await db.fetch(RESERVATIONS_BY_ID, booked)}
    for row in rows:
        row["reservation"] = reservations.get(row["reservation_id"])
    return rows
