"""Who is calling: session JWTs issued and checked, and the identity behind each request."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from aiohttp import web
from aiohttp_jwt import JWTMiddleware

from . import repository
from .db import POOL, Db
from .errors import Handler, Unauthorized
from .repository.users import User

ALGORITHM = "HS256"
# Requests under these paths need no token. Anchored: aiohttp-jwt uses re.match,
# which is a prefix match, so "^/login" would also let "/login-anything" through.
PUBLIC_PATHS = (
    r"^/$",
    r"^/login$",
    r"^/slots$",
    r"^/healthz$",
    r"^/readyz$",
    r"^/openapi\.yaml$",
    r"^/static/.*$",
    # The socket authenticates with its first message (see realtime.py).
    r"^/ws$",
)
# aiohttp-jwt stores the decoded claims here; identity_middleware reads them.
CLAIMS_KEY = "jwt_claims"
USER_ID = web.RequestKey("user_id", int)


@dataclass(frozen=True)
class TokenService:
    secret: str
    ttl_seconds: int

    def issue(self, user: User) -> str:
        now = int(time.time())
        claims = {
            "sub": str(user.id),
            "email": user.email,
            "role": user.role,
            "iat": now,
            "exp": now + self.ttl_seconds,
        }
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def decode(self, token: str) -> dict[str, Any]:
        """Verified claims of a token, for callers outside the HTTP middleware."""
        try:
            claims = jwt.decode(token, self.secret, algorithms=[ALGORITHM])
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"Invalid token: {exc}") from None
        user_id_from_claims(claims)
        return claims

    def middleware(self) -> Handler:
        return JWTMiddleware(
            self.secret,
            request_property=CLAIMS_KEY,
            whitelist=PUBLIC_PATHS,
            token_getter=bearer_token,
            algorithms=[ALGORITHM],
        )


def bearer_token(request: web.Request) -> str | None:
    # Parsed here rather than by aiohttp-jwt, which answers a wrong scheme with 403.
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("The Authorization header must be 'Bearer <token>'.")
    return token.strip()


def user_id_from_claims(claims: Mapping[str, Any]) -> int:
    # aiohttp-jwt verifies exp only when present; a token without one never expires.
    sub = claims.get("sub")
    if "exp" not in claims or not isinstance(sub, str) or not sub.isdigit():
        raise Unauthorized("Invalid token: required claims are missing.")
    return int(sub)


class KnownUsers:
    """Remembers for a minute which token subjects are real users."""

    def __init__(self, ttl_seconds: float = 60.0) -> None:
        self._ttl = ttl_seconds
        self._checked: dict[int, float] = {}

    async def require(self, db: Db, user_id: int) -> None:
        now = time.monotonic()
        if now - self._checked.get(user_id, -self._ttl) < self._ttl:
            return
        if not await repository.users.user_exists(db, user_id=user_id):
            raise Unauthorized("Invalid token: unknown user.")
        self._checked[user_id] = now


TOKENS = web.AppKey("tokens", TokenService)
KNOWN_USERS = web.AppKey("known_users", KnownUsers)


_PUBLIC = tuple(re.compile(pattern) for pattern in PUBLIC_PATHS)


def is_public(path: str) -> bool:
    return any(pattern.match(path) for pattern in _PUBLIC)


@web.middleware
async def identity_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turns verified claims into request[USER_ID], refusing unknown users.

    aiohttp-jwt lets OPTIONS through unchecked (for CORS preflights, which this
    same-origin API does not serve), so its token is checked here instead:
    OPTIONS cannot map the API anonymously.
    """
    claims = request.get(CLAIMS_KEY)
    if claims is None and not is_public(request.path):
        token = bearer_token(request)
        if token is None:
            raise Unauthorized("Missing authorization token")
        claims = request.app[TOKENS].decode(token)
    if claims is not None:
        user_id = user_id_from_claims(claims)
        await request.app[KNOWN_USERS].require(request.app[POOL], user_id)
        request[USER_ID] = user_id
    return await handler(request)
