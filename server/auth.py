"""Authentication: authenticators, JWT issuing and checking, login throttling."""

from __future__ import annotations

import asyncio
import os
import time
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import bcrypt
import jwt
from aiohttp import web
from aiohttp_jwt import JWTMiddleware

from . import repository
from .errors import Handler, InvalidCredentials, TooManyAttempts, Unauthorized
from .repository import User

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

# bcrypt at cost 12 takes ~0.25 s of CPU. It runs in its own threads (bcrypt
# releases the GIL), capped below the core count so logins never starve the
# event loop of a core.
_bcrypt_executor = ThreadPoolExecutor(
    max_workers=max(1, (os.cpu_count() or 2) - 1), thread_name_prefix="bcrypt"
)
# Checked against when the email is unknown, so both failures cost the same.
_DUMMY_HASH = b"$2b$12$pGaFwOarCKXA5yRZLuEbSOpyxzE.InJbZVSosJnfrHwf/S/8LgjtC"
_BCRYPT_MAX_BYTES = 72


class Authenticator(Protocol):
    """Resolves some proof of identity to a local user, or raises InvalidCredentials.

    An OIDC provider is one more implementation: it verifies the provider's ID
    token and maps (issuer, subject) to a user through the user_identities
    table. Token issuing, the handlers and the users table stay as they are.
    """

    async def authenticate(self, credentials: Mapping[str, str]) -> User: ...


class PasswordAuthenticator:
    """Email and password checked against the bcrypt hash in users."""

    def __init__(self, pool: repository.Db) -> None:
        self._pool = pool

    async def authenticate(self, credentials: Mapping[str, str]) -> User:
        found = await repository.find_password_user(self._pool, email=credentials["email"])
        password = credentials["password"].encode()
        stored = found[1].encode() if found and found[1] else None
        usable = stored is not None and len(password) <= _BCRYPT_MAX_BYTES
        loop = asyncio.get_running_loop()
        matches = await loop.run_in_executor(
            _bcrypt_executor,
            bcrypt.checkpw,
            password[:_BCRYPT_MAX_BYTES],
            stored if usable else _DUMMY_HASH,
        )
        if not (usable and matches and found):
            raise InvalidCredentials()
        return found[0]


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

    async def require(self, db: repository.Db, user_id: int) -> None:
        now = time.monotonic()
        if now - self._checked.get(user_id, -self._ttl) < self._ttl:
            return
        if not await repository.user_exists(db, user_id=user_id):
            raise Unauthorized("Invalid token: unknown user.")
        self._checked[user_id] = now


def identity_middleware(known_users: KnownUsers, pool_key: web.AppKey) -> Handler:
    """Turns verified claims into request[USER_ID], refusing unknown users."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        claims = request.get(CLAIMS_KEY)
        if claims is not None:
            user_id = user_id_from_claims(claims)
            await known_users.require(request.app[pool_key], user_id)
            request[USER_ID] = user_id
        return await handler(request)

    return middleware


class LoginThrottle:
    """Counts failed logins per (email, client) in a sliding window, in memory."""

    def __init__(self, max_failures: int, window_seconds: float, max_keys: int = 10_000) -> None:
        self._max = max_failures
        self._window = window_seconds
        self._max_keys = max_keys
        self._failures: OrderedDict[tuple[str, str], list[float]] = OrderedDict()

    def check(self, key: tuple[str, str]) -> None:
        now = time.monotonic()
        recent = [t for t in self._failures.get(key, ()) if now - t < self._window]
        if len(recent) >= self._max:
            retry_after = max(1, int(self._window - (now - recent[0])) + 1)
            raise TooManyAttempts(
                "Too many failed sign-in attempts. Please wait and try again.",
                headers={"Retry-After": str(retry_after)},
            )

    def record_failure(self, key: tuple[str, str]) -> None:
        now = time.monotonic()
        recent = [t for t in self._failures.pop(key, ()) if now - t < self._window]
        self._failures[key] = [*recent, now]
        # Bounded memory: forget the least recently failing keys first.
        while len(self._failures) > self._max_keys:
            self._failures.popitem(last=False)

    def reset(self, key: tuple[str, str]) -> None:
        self._failures.pop(key, None)
