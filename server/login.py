"""Signing in: authenticators that turn credentials into a user, and the failed-login throttle."""

from __future__ import annotations

import asyncio
import math
import os
from collections import Counter
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from typing import Protocol

import bcrypt
from aiohttp import web

from . import repository
from .db import Db
from .errors import InvalidCredentials, ServerBusy, TooManyAttempts, TooManySignIns
from .repository.users import User

# bcrypt at cost 12 takes ~0.25 s of CPU. It runs in its own threads (bcrypt
# releases the GIL), capped below the core count so logins never starve the
# event loop of a core.
_BCRYPT_THREADS = max(1, (os.cpu_count() or 2) - 1)
_bcrypt_executor = ThreadPoolExecutor(max_workers=_BCRYPT_THREADS, thread_name_prefix="bcrypt")
# In progress at once: one running per thread and up to three waiting each, so
# a refused sign-in never queues for more than about a second of bcrypt.
_DEFAULT_CAPACITY = 4 * _BCRYPT_THREADS
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


class PasswordChecks:
    """Admission to bcrypt: a short queue, a share of it per client, and a quick refusal.

    The thread pool's own queue is unbounded: behind a flood of bogus
    logins a real one would wait for every one of them. Here at most
    `capacity` sign-ins are in progress; the next is refused at once with
    503 and Retry-After.
    One client address holds at most `per_client` of those places (default:
    a quarter, at least one); its next is refused with 429. So a flood from
    one address waits behind itself, and a sign-in from anywhere else finds
    room and waits for at most the few checks that address has under way.
    """

    def __init__(self, capacity: int | None = None, per_client: int | None = None) -> None:
        self._capacity = capacity or _DEFAULT_CAPACITY
        self._per_client = per_client or max(1, self._capacity // 4)
        self._admitted = 0
        self._by_client: Counter[str] = Counter()

    @contextmanager
    def admit(self, client: str = "") -> Iterator[None]:
        if self._admitted >= self._capacity:
            raise ServerBusy(
                "Too many sign-ins at once. Please try again in a moment.",
                headers={"Retry-After": "1"},
            )
        if self._by_client[client] >= self._per_client:
            raise TooManySignIns(
                "Too many sign-ins from your address at once. Please try again in a moment.",
                headers={"Retry-After": "1"},
            )
        self._admitted += 1
        self._by_client[client] += 1
        try:
            yield
        finally:
            self._admitted -= 1
            self._by_client[client] -= 1
            if not self._by_client[client]:
                del self._by_client[client]


class LoginThrottle:
    """Failed sign-ins per (email, client address), counted in PostgreSQL for every server.

    An attempt is reserved before its password is checked, so N parallel
    guesses get at most `max_failures` password checks. The email is
    lower-cased by PostgreSQL, as the login lookup does, so spellings such
    as "drİver2@" count against the account they reach. A success clears it.
    """

    def __init__(self, max_failures: int, window_seconds: float) -> None:
        self._max = max_failures
        self.window = timedelta(seconds=window_seconds)

    async def reserve(self, db: Db, *, email: str, client: str) -> None:
        attempts, seconds_left = await repository.users.reserve_login_attempt(
            db, email=email, client=client, window=self.window
        )
        if attempts > self._max:
            wait = max(1, math.ceil(seconds_left))
            raise TooManyAttempts(
                f"Too many failed sign-in attempts. Please wait {_duration(wait)} and try again.",
                headers={"Retry-After": str(wait)},
            )

    async def clear(self, db: Db, *, email: str, client: str) -> None:
        await repository.users.clear_login_attempts(db, email=email, client=client)


def _duration(seconds: int) -> str:
    """E.g. "45 seconds", "4 minutes": how long to wait, as a person would say it."""
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{math.ceil(seconds / 60)} minutes"


PASSWORD_AUTHENTICATOR = web.AppKey("password_authenticator", Authenticator)
PASSWORD_CHECKS = web.AppKey("password_checks", PasswordChecks)
LOGIN_THROTTLE = web.AppKey("login_throttle", LoginThrottle)
