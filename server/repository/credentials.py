"""Long-lived credentials: personal API tokens and calendar feed keys, stored as hashes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..db import Db
from ..errors import TokenNotFound

# Who a token belongs to, with their role now. last_used_at is written at most
# once a minute per token, so scripts do not turn every read into a write.
IDENTIFY_TOKEN = """
WITH t AS (SELECT id, user_id, last_used_at FROM api_tokens WHERE token_hash = $1),
touched AS (
    UPDATE api_tokens SET last_used_at = now()
    FROM t
    WHERE api_tokens.id = t.id
      AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute')
)
SELECT t.id AS token_id, t.user_id, u.role FROM t JOIN users u ON u.id = t.user_id
"""

CREATE_TOKEN = """
INSERT INTO api_tokens (user_id, name, token_hash) VALUES ($1, $2, $3)
RETURNING id, name, created_at
"""

LIST_TOKENS = """
SELECT id, name, created_at, last_used_at FROM api_tokens WHERE user_id = $1 ORDER BY id
"""

# The delete trigger tells every server to close the token's sockets.
DELETE_TOKEN = "DELETE FROM api_tokens WHERE id = $1 AND user_id = $2 RETURNING id"

# Creating and rotating are one statement: the old key stops working at once.
ROTATE_FEED = """
INSERT INTO calendar_feeds (user_id, key_hash) VALUES ($1, $2)
ON CONFLICT (user_id) DO UPDATE SET key_hash = EXCLUDED.key_hash, created_at = now()
RETURNING created_at
"""

# The last 30 days and everything after, for one feed key.
FEED = """
SELECT f.user_id, u.display_name, r.id, s.spot_number, s.floor_number, r.start_time,
       r.end_time, r.created_at, r.completed_at, r.checked_in_at, r.released_by, r.release_reason
FROM calendar_feeds f
JOIN users u ON u.id = f.user_id
LEFT JOIN reservations r ON r.user_id = f.user_id AND r.end_time > now() - interval '30 days'
LEFT JOIN spots s ON s.id = r.spot_id
WHERE f.key_hash = $1
"""


async def identify_token(db: Db, *, token_hash: bytes) -> dict[str, Any] | None:
    row = await db.fetchrow(IDENTIFY_TOKEN, token_hash)
    return None if row is None else dict(row)


async def create_token(db: Db, *, user_id: int, name: str, token_hash: bytes) -> dict[str, Any]:
    return dict(await db.fetchrow(CREATE_TOKEN, user_id, name, token_hash))


async def list_tokens(db: Db, *, user_id: int) -> list[dict[str, Any]]:
    return [dict(r) for r in await db.fetch(LIST_TOKENS, user_id)]


async def delete_token(db: Db, *, token_id: int, user_id: int) -> None:
    """Revoke one of the user's tokens; another user's is as unknown as a missing one."""
    if await db.fetchval(DELETE_TOKEN, token_id, user_id) is None:
        raise TokenNotFound(f"Token {token_id} was not found.")


async def rotate_feed(db: Db, *, user_id: int, key_hash: bytes) -> datetime:
    return await db.fetchval(ROTATE_FEED, user_id, key_hash)


async def feed(db: Db, *, key_hash: bytes) -> tuple[str, list[dict[str, Any]]] | None:
    """The feed's owner's name and reservations, or None for an unknown key."""
    rows = await db.fetch(FEED, key_hash)
    if not rows:
        return None
    return rows[0]["display_name"], [dict(r) for r in rows if r["id"] is not None]
