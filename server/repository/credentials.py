"""Long-lived credentials: personal API tokens and calendar feed keys, stored as hashes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from ..db import Db, Pool
from ..errors import TokenLimitReached, TokenNotFound

# Who a live token belongs to, with their role now, and when it expires (an
# expired token is as unknown as a revoked one). last_used_at is written at most
# once a minute per token, so scripts do not turn every read into a write.
IDENTIFY_TOKEN = """
WITH t AS (
    SELECT id, user_id, last_used_at, expires_at FROM api_tokens
    WHERE token_hash = $1 AND (expires_at IS NULL OR expires_at > now())
),
touched AS (
    UPDATE api_tokens SET last_used_at = now()
    FROM t
    WHERE api_tokens.id = t.id
      AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute')
)
SELECT t.id AS token_id, t.user_id, u.role, t.expires_at FROM t JOIN users u ON u.id = t.user_id
"""

# The api_tokens_enforce_live_limit trigger refuses a user's 21st live token.
CREATE_TOKEN = """
INSERT INTO api_tokens (user_id, name, token_hash, expires_at)
VALUES ($1, $2, $3, now() + make_interval(days => $4))
RETURNING id, name, created_at, expires_at
"""

# A page of the user's tokens, newest first; the next starts below the last id shown.
LIST_TOKENS = """
SELECT id, name, created_at, last_used_at, expires_at FROM api_tokens
WHERE user_id = $1 AND id < $3
ORDER BY id DESC
LIMIT $2
"""

MAX_BIGINT = 2**63 - 1

# The delete trigger tells every server to close the token's sockets.
DELETE_TOKEN = "DELETE FROM api_tokens WHERE id = $1 AND user_id = $2 RETURNING id"

# Creating and rotating are one statement: the old key stops working at once.
ROTATE_FEED = """
INSERT INTO calendar_feeds (user_id, key_hash) VALUES ($1, $2)
ON CONFLICT (user_id) DO UPDATE SET key_hash = EXCLUDED.key_hash, created_at = now()
RETURNING created_at
"""

# The reservations a feed shows, for one driver ($1): every booked one, and
# those released whose slot started in the last 30 days; $2 at most, the booked
# ones and then the latest released.
# Each half reads at most $2 rows from an index (reservations_user_slot_key,
# reservations_user_start_idx), however long the history.
FEED_WINDOW = """
SELECT w.*, s.spot_number, s.floor_number
FROM (
    SELECT * FROM (
        (SELECT id, spot_id, start_time, end_time, created_at, completed_at, checked_in_at,
                released_by, release_reason
         FROM reservations WHERE user_id = $1 AND status = 'booked'
         ORDER BY start_time DESC LIMIT $2)
        UNION ALL
        (SELECT id, spot_id, start_time, end_time, created_at, completed_at, checked_in_at,
                released_by, release_reason
         FROM reservations
         WHERE user_id = $1 AND status = 'completed' AND start_time > now() - interval '30 days'
         ORDER BY start_time DESC LIMIT $2)
    ) AS candidates
    -- Booked ones first: however much churn, a driver's bookings are in the feed.
    ORDER BY completed_at IS NULL DESC, start_time DESC, id DESC
    LIMIT $2
) AS w
JOIN spots s ON s.id = w.spot_id
"""

# A digest of everything the feed renders from the window, computed in the
# database, so answering a poll with 304 needs no rows in Python. Epochs, not
# text: a timestamp's text would follow the session's TimeZone.
FEED_DIGEST = f"""
SELECT md5(COALESCE(string_agg(concat_ws(
    '|', id, spot_number, floor_number, extract(epoch FROM start_time),
    extract(epoch FROM end_time), extract(epoch FROM created_at),
    extract(epoch FROM completed_at), extract(epoch FROM checked_in_at), released_by,
    release_reason), ';' ORDER BY start_time, id), ''))
FROM ({FEED_WINDOW}) AS window_rows
"""

FEED_OWNER = """
SELECT f.user_id, u.display_name
FROM calendar_feeds f JOIN users u ON u.id = f.user_id
WHERE f.key_hash = $1
"""


async def identify_token(db: Db, *, token_hash: bytes) -> dict[str, Any] | None:
    row = await db.fetchrow(IDENTIFY_TOKEN, token_hash)
    return None if row is None else dict(row)


async def create_token(
    db: Db, *, user_id: int, name: str, token_hash: bytes, expires_in_days: int | None
) -> dict[str, Any]:
    """A new token, live for `expires_in_days` (None: until revoked); or TokenLimitReached."""
    try:
        return dict(await db.fetchrow(CREATE_TOKEN, user_id, name, token_hash, expires_in_days))
    except asyncpg.CheckViolationError as exc:
        if exc.constraint_name != "api_tokens_live_limit":
            raise
        raise TokenLimitReached(
            f"You already have {exc.detail} live API tokens, the most allowed. "
            "Revoke one you no longer use to create another."
        ) from None


async def list_tokens(
    db: Db, *, user_id: int, limit: int, before: int | None = None
) -> list[dict[str, Any]]:
    """Up to `limit` of the user's tokens, newest first, older than `before` (an id)."""
    rows = await db.fetch(LIST_TOKENS, user_id, limit, MAX_BIGINT if before is None else before)
    return [dict(r) for r in rows]


async def delete_token(db: Db, *, token_id: int, user_id: int) -> None:
    """Revoke one of the user's tokens; another user's is as unknown as a missing one."""
    if await db.fetchval(DELETE_TOKEN, token_id, user_id) is None:
        raise TokenNotFound(f"Token {token_id} was not found.")


async def rotate_feed(db: Db, *, user_id: int, key_hash: bytes) -> datetime:
    return await db.fetchval(ROTATE_FEED, user_id, key_hash)


async def feed_version(pool: Pool, *, key_hash: bytes, limit: int) -> dict[str, Any] | None:
    """The feed's owner (user_id, display_name) and the digest of its window; None if unknown."""
    async with pool.acquire() as conn:
        owner = await conn.fetchrow(FEED_OWNER, key_hash)
        if owner is None:
            return None
        return {**owner, "digest": await conn.fetchval(FEED_DIGEST, owner["user_id"], limit)}


async def feed(pool: Pool, *, user_id: int, limit: int) -> tuple[str, list[dict[str, Any]]]:
    """The digest of the feed's window and its rows, read from one snapshot."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        digest = await conn.fetchval(FEED_DIGEST, user_id, limit)
        rows = await conn.fetch(FEED_WINDOW, user_id, limit)
    return digest, [dict(r) for r in rows]
