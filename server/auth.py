"""Who is calling: session JWTs issued and checked, and the identity behind each request."""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from aiohttp import web
from aiohttp_jwt import JWTMiddleware

from . import repository
from .db import POOL, Db
from .errors import Forbidden, Handler, InvalidToken, Unauthorized
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
    # Prometheus scrapes with its own token, METRICS_TOKEN (see metrics.py).
    r"^/metrics$",
    r"^/openapi\.yaml$",
    r"^/docs$",
    r"^/static/.*$",
    # The service worker (server/offline.py): the app shell, no data.
    r"^/sw\.js$",
    # A calendar feed: its secret key is the credential (calendar apps send no headers).
    r"^/calendar/[A-Za-z0-9_-]+\.ics$",
    # The lobby screen and its board: the key in the query is the credential.
    r"^/lobby$",
    r"^/lobby/board$",
    # The socket authenticates with its first message (see realtime.py).
    r"^/ws$",
)
# aiohttp-jwt stores the decoded claims here; identity_middleware reads them.
CLAIMS_KEY = "jwt_claims"


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
            claims = jwt.decode(checked_token(token), self.secret, algorithms=[ALGORITHM])
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(f"Invalid token: {exc}") from None
        user_id_from_claims(claims)
        return claims

    def middleware(self) -> Handler:
        # aiohttp-jwt checks session JWTs. It is not told to require one
        # (credentials_required=False): an API token is not a JWT, and
        # identity_middleware refuses any non-public request left without an
        # identity, the same 401 for every method.
        return JWTMiddleware(
            self.secret,
            request_property=CLAIMS_KEY,
            whitelist=PUBLIC_PATHS,
            credentials_required=False,
            token_getter=session_token,
            algorithms=[ALGORITHM],
        )


# What a token this server issues looks like: a JWT's three base64url parts,
# or an API token. Anything else (other bytes, odd unicode) is refused before
# a library has to encode it.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*|spk_[A-Za-z0-9_-]+")


def checked_token(token: str) -> str:
    if len(token) > 4096 or not _TOKEN_SHAPE.fullmatch(token):
        raise InvalidToken("Invalid token: not a token this server issues.")
    return token


def bearer_token(request: web.Request) -> str | None:
    # Parsed here rather than by aiohttp-jwt, which answers a wrong scheme with 403.
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("The Authorization header must be 'Bearer <token>'.")
    return checked_token(token.strip())


def session_token(request: web.Request) -> str | None:
    """The bearer token for aiohttp-jwt to verify: a JWT, not an API token."""
    token = bearer_token(request)
    return None if token is None or is_api_token(token) else token


# A user id fits PostgreSQL's bigint; an expiry is a plausible Unix time.
_SUBJECT = re.compile(r"[0-9]{1,18}")
_LATEST_EXPIRY = 2**40


def user_id_from_claims(claims: Mapping[str, Any]) -> int:
    """The subject's user id, refusing tokens whose claims this server never issues."""
    # aiohttp-jwt verifies exp only when present; a token without one never expires.
    sub, exp = claims.get("sub"), claims.get("exp")
    if not isinstance(sub, str) or not _SUBJECT.fullmatch(sub):  # "²" is a digit to str.isdigit
        raise InvalidToken("Invalid token: required claims are missing or malformed.")
    if not isinstance(exp, int | float) or isinstance(exp, bool) or not 0 < exp < _LATEST_EXPIRY:
        raise InvalidToken("Invalid token: required claims are missing or malformed.")
    return int(sub)


@dataclass(frozen=True)
class Identity:
    """Who is calling, with the role the database gives them now."""

    user_id: int
    role: str
    # The personal API token the request came with; None for a signed-in session.
    token_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class Identities:
    """The current role of each token subject, remembered for at most `ttl_seconds`.

    A token's own role claim is never trusted: demoting or deleting a user in
    the database must take effect. The database publishes such changes
    (users_notify_* triggers), and every instance's listener calls forget(),
    so the minute-long memory only matters if an event was missed.
    """

    def __init__(self, ttl_seconds: float = 60.0) -> None:
        self._ttl = ttl_seconds
        self._known: dict[int, tuple[Identity, float]] = {}
        self._forgets = 0

    async def get(self, db: Db, user_id: int) -> Identity:
        now = time.monotonic()
        known = self._known.get(user_id)
        if known is not None and now - known[1] < self._ttl:
            return known[0]
        forgets = self._forgets
        role = await repository.users.role_of(db, user_id=user_id)
        if role is None:
            self._known.pop(user_id, None)
            raise Unauthorized("Invalid token: unknown user.")
        identity = Identity(user_id, role)
        if self._forgets == forgets:
            # Not if a change was published while the query ran: its answer
            # may predate the change, and would be served for a minute.
            self._known[user_id] = (identity, now)
        return identity

    def forget(self, user_id: int) -> None:
        self._forgets += 1
        self._known.pop(user_id, None)

    def forget_all(self) -> None:
        self._forgets += 1
        self._known.clear()


# --- personal API tokens and other long-lived secrets --------------------------

API_TOKEN_PREFIX = "spk_"


def new_secret(prefix: str = "") -> str:
    """256 random bits, URL-safe: a value nobody can guess or enumerate."""
    return prefix + secrets.token_urlsafe(32)


def secret_hash(value: str) -> bytes:
    """What the database stores instead of a secret. A fast hash is enough for
    256 random bits: there is no dictionary to try, and a slow one would slow
    every request."""
    return hashlib.sha256(value.encode()).digest()


def is_api_token(token: str) -> bool:
    return token.startswith(API_TOKEN_PREFIX)


async def identify_api_token(db: Db, token: str) -> Identity:
    """The token's owner with their current role; revoked, expired or unknown is a 401."""
    return (await identify_api_token_until(db, token))[0]


async def identify_api_token_until(db: Db, token: str) -> tuple[Identity, float]:
    """The token's owner, and when the token expires (a Unix time; inf: never)."""
    found = await repository.credentials.identify_token(db, token_hash=secret_hash(token))
    if found is None:
        raise InvalidToken("Invalid token: unknown, revoked or expired API token.")
    identity = Identity(found["user_id"], found["role"], token_id=found["token_id"])
    expires_at = found["expires_at"]
    return identity, math.inf if expires_at is None else expires_at.timestamp()


TOKENS = web.AppKey("tokens", TokenService)
IDENTITIES = web.AppKey("identities", Identities)
IDENTITY = web.RequestKey("identity", Identity)
ADMIN_PREFIX = "/admin/"


_PUBLIC = tuple(re.compile(pattern) for pattern in PUBLIC_PATHS)


def is_public(path: str) -> bool:
    return any(pattern.match(path) for pattern in _PUBLIC)


@web.middleware
async def identity_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turns verified claims into request[IDENTITY], refusing unknown users.

    A personal API token is resolved here, against the database on every
    request, so a revoked one fails at once on every instance. aiohttp-jwt
    also lets OPTIONS through unchecked (for CORS preflights, which this
    same-origin API does not serve), so its token is checked here too:
    OPTIONS cannot map the API anonymously.
    """
    claims = request.get(CLAIMS_KEY)
    if claims is None and not is_public(request.path):
        token = bearer_token(request)
        if token is None:
            raise Unauthorized("Missing authorization token")
        if is_api_token(token):
            request[IDENTITY] = await identify_api_token(request.app[POOL], token)
            return await handler(request)
        claims = request.app[TOKENS].decode(token)
    if claims is not None:
        user_id = user_id_from_claims(claims)
        request[IDENTITY] = await request.app[IDENTITIES].get(request.app[POOL], user_id)
    return await handler(request)


@web.middleware
async def admin_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every /admin/ route, known or not, is the attendant's alone."""
    if request.path.startswith(ADMIN_PREFIX) and not request[IDENTITY].is_admin:
        raise Forbidden("Only the attendant may do this.")
    return await handler(request)
