"""Signing in: authenticators that turn credentials into a user, and the failed-login throttle."""

from __future__ import annotations

import asyncio
import os
import time
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import bcrypt
from aiohttp import web

from . import repository
from .db import Db
from .errors import InvalidCredentials, TooManyAttempts
from .repository.users import User

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

    def __init__(self, pool: Db) -> None:
        self._pool = pool

    async def authenticate(self, credentials: Mapping[str, str]) -> User:
        found = await repository.users.find_password_user(self._pool, email=credentials["email"])
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


PASSWORD_AUTHENTICATOR = web.AppKey("password_authenticator", Authenticator)
LOGIN_THROTTLE = web.AppKey("login_throttle", LoginThrottle)
