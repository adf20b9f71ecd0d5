"""Users: who can sign in, and whether a token's subject still exists."""

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
