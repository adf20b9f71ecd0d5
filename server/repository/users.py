"""Users: who can sign in (and how often they failed), their role, the attendant's list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ..db import Db


@dataclass(frozen=True)
class User:
    id: int
    email: str
    display_name: str
    role: str


FIND_PASSWORD_USER = """
SELECT id, email, display_name, role, password_hash
FROM users
WHERE lower(email) = lower($1)
"""

ROLE_OF = "SELECT role FROM users WHERE id = $1"

GET_USER = "SELECT id, email, display_name, role FROM users WHERE id = $1"

# Upcoming: booked and not yet ended, the same count a booking limit uses.
LIST_USERS = """
SELECT u.id, u.email, u.display_name, u.role,
       (SELECT count(*) FROM reservations r
        WHERE r.user_id = u.id AND r.status = 'booked' AND r.end_time > now()) AS upcoming_bookings
FROM users u
ORDER BY u.role, u.display_name, u.id
"""


async def find_password_user(db: Db, *, email: str) -> tuple[User, str | None] | None:
    """The user with this email and their password hash (None for OIDC-only users)."""
    row = await db.fetchrow(FIND_PASSWORD_USER, email)
    if row is None:
        return None
    user = User(row["id"], row["email"], row["display_name"], row["role"])
    return user, row["password_hash"]


async def role_of(db: Db, *, user_id: int) -> str | None:
    """The user's role now, or None if there is no such user."""
    return await db.fetchval(ROLE_OF, user_id)


async def get_user(db: Db, *, user_id: int) -> User | None:
    row = await db.fetchrow(GET_USER, user_id)
    return None if row is None else User(row["id"], row["email"], row["display_name"], row["role"])


async def list_users(db: Db) -> list[dict[str, Any]]:
    return [dict(r) for r in await db.fetch(LIST_USERS)]


# --- the sign-in throttle ----------------------------------------------------

# Count this attempt, in a window that starts at the first attempt: the row
# lock of the upsert serialises parallel attempts for one key. Returns the
# attempts so far in the window and the seconds until it ends.
RESERVE_ATTEMPT = """
INSERT INTO login_attempts AS a (email_key, client, window_start, attempts)
VALUES (lower($1), $2, now(), 1)
ON CONFLICT (email_key, client) DO UPDATE
SET (attempts, window_start) = (
    SELECT CASE WHEN ended THEN 1 ELSE a.attempts + 1 END,
           CASE WHEN ended THEN now() ELSE a.window_start END
    FROM (SELECT a.window_start <= now() - $3::interval AS ended) AS w
)
RETURNING attempts, extract(epoch FROM window_start + $3::interval - now())::float8 AS seconds_left
"""

CLEAR_ATTEMPTS = "DELETE FROM login_attempts WHERE email_key = lower($1) AND client = $2"

FORGET_ENDED_WINDOWS = "DELETE FROM login_attempts WHERE window_start <= now() - $1::interval"


async def reserve_login_attempt(
    db: Db, *, email: str, client: str, window: timedelta
) -> tuple[int, float]:
    """Count one attempt; (attempts in the current window, seconds until it ends)."""
    row = await db.fetchrow(RESERVE_ATTEMPT, email, client, window)
    return row["attempts"], row["seconds_left"]


async def clear_login_attempts(db: Db, *, email: str, client: str) -> None:
    await db.execute(CLEAR_ATTEMPTS, email, client)


async def forget_ended_login_windows(db: Db, *, window: timedelta) -> None:
    await db.execute(FORGET_ENDED_WINDOWS, window)
