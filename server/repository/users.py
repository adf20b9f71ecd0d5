"""Users: who can sign in, their current role, and the attendant's list of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..db import Db


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
