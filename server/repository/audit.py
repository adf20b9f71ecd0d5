"""The audit trail: who acts in a transaction, and reading the records the triggers wrote.

The records themselves are written by triggers on the audited tables
(db/migrations/*_create_audit_log.sql), in the change's own transaction;
nothing here inserts one. The table refuses UPDATE, DELETE and TRUNCATE.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg

from ..db import Db, Pool

# SET LOCAL, with a parameter: the setting ends with the transaction, so a
# pooled connection never carries one actor into another's work.
SET_ACTOR = "SELECT set_config('parking.actor_id', $1::text, true)"

# Every record the triggers write is one of these (audit_log.action). Not the
# webhooks' EVENT_TYPES: this is who changed what, so it names a booking made for
# someone else and covers roles and webhooks; those are what the lot's changes
# tell a receiver, whoever made them.
ACTIONS = (
    "reservation.booked_for",
    "reservation.released",
    "reservation.checked_in",
    "closure.created",
    "closure.deleted",
    "spot.created",
    "spot.updated",
    "rules.changed",
    "user.role_changed",
    "webhook.created",
    "webhook.deleted",
)

# before/after as JSON text: the CSV writes it as is, the API parses it.
_RECORD = """
id, recorded_at, actor_id, actor_name, action, target_type, target_id, reason,
before::text AS before, after::text AS after
"""

# Newest first, over [$1, $2), optionally by one actor ($3) and action ($4).
# Serves from audit_log_recorded_idx (or audit_log_actor_idx for one actor).
_FILTERED = f"""
SELECT {_RECORD} FROM audit_log
WHERE recorded_at >= $1 AND recorded_at < $2
  AND ($3::bigint IS NULL OR actor_id = $3)
  AND ($4::text IS NULL OR action = $4)
ORDER BY recorded_at DESC, id DESC
"""
LIST_RECORDS = _FILTERED + "LIMIT $5"


@asynccontextmanager
async def acting_as(db: Db, actor_id: int) -> AsyncIterator[asyncpg.Connection]:
    """A connection in a transaction whose changes the audit triggers credit to `actor_id`.

    Given a connection (a test's, a caller's transaction), it runs on that one.
    """
    if not hasattr(db, "acquire"):  # a connection, or a pool's proxy of one
        async with db.transaction():
            await db.fetchval(SET_ACTOR, str(actor_id))
            yield db
        return
    async with db.acquire() as conn, conn.transaction():
        await conn.fetchval(SET_ACTOR, str(actor_id))
        yield conn


async def list_records(
    pool: Pool,
    *,
    start: datetime,
    end: datetime,
    actor_id: int | None,
    action: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    rows = await pool.fetch(LIST_RECORDS, start, end, actor_id, action, limit)
    return [
        {**row, "before": _parsed(row["before"]), "after": _parsed(row["after"])} for row in rows
    ]


# The same, a page at a time for the CSV export: the records before
# ($2, $5) = (recorded_at, id) of the previous page's last one, or before the
# range's end when $5 is 0 (ids are positive).
EXPORT_PAGE = f"""
SELECT {_RECORD} FROM audit_log
WHERE recorded_at >= $1 AND (recorded_at, id) < ($2, $5)
  AND ($3::bigint IS NULL OR actor_id = $3)
  AND ($4::text IS NULL OR action = $4)
ORDER BY recorded_at DESC, id DESC
LIMIT $6
"""


async def export_records_page(
    pool: Pool,
    *,
    start: datetime,
    end: datetime,
    actor_id: int | None,
    action: str | None,
    after: dict[str, Any] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Up to `limit` records, newest first, after the record `after` (None: from the end)."""
    before, last_id = (end, 0) if after is None else (after["recorded_at"], after["id"])
    rows = await pool.fetch(EXPORT_PAGE, start, before, actor_id, action, last_id, limit)
    return [dict(r) for r in rows]


def _parsed(text: str | None) -> Any:
    return None if text is None else json.loads(text)
