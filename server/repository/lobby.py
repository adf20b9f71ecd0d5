"""The lobby screen's secret key, stored as a hash like a calendar feed's."""

from __future__ import annotations

from datetime import datetime

from ..db import Db

# Creating and rotating are one statement: the old key stops working at once,
# and the update trigger tells every server to close the old key's sockets.
ROTATE_KEY = """
INSERT INTO lobby_screen (key_hash, created_by) VALUES ($1, $2)
ON CONFLICT (id) DO UPDATE
SET key_hash = EXCLUDED.key_hash, created_by = EXCLUDED.created_by, created_at = now()
RETURNING created_at
"""

KEY_IS_CURRENT = "SELECT EXISTS (SELECT 1 FROM lobby_screen WHERE key_hash = $1)"


async def rotate_key(db: Db, *, key_hash: bytes, created_by: int) -> datetime:
    return await db.fetchval(ROTATE_KEY, key_hash, created_by)


async def key_is_current(db: Db, *, key_hash: bytes) -> bool:
    return await db.fetchval(KEY_IS_CURRENT, key_hash)
