"""The booking-write rate limit: a guard for the handlers that add to a driver's history."""

from __future__ import annotations

import functools
import math
from datetime import timedelta

from aiohttp import web

from . import repository
from .auth import IDENTITY, Identity
from .db import POOL, Db
from .errors import Handler, TooManyRequests


class BookingWriteLimit:
    """At most `per_minute` booking writes per driver, counted in PostgreSQL for every server.

    Each write is counted before it runs, refused or not, so a flood of
    parallel writes gets `per_minute` through and no more. The attendant is
    exempt: the desk books, releases and checks in for everyone.
    """

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.window = timedelta(minutes=1)

    async def reserve(self, db: Db, identity: Identity) -> None:
        if identity.is_admin:
            return
        writes, seconds_left = await repository.write_limits.reserve_write(
            db, user_id=identity.user_id, window=self.window
        )
        if writes > self.per_minute:
            wait = max(1, math.ceil(seconds_left))
            raise TooManyRequests(
                f"Too many booking changes: at most {self.per_minute} a minute. "
                f"Please wait {wait} seconds and try again.",
                headers={"Retry-After": str(wait)},
            )


def booking_write(handler: Handler) -> Handler:
    """Mark a handler as a booking write: it counts against the caller's limit first."""

    @functools.wraps(handler)
    async def limited(request: web.Request) -> web.StreamResponse:
        await request.app[BOOKING_WRITE_LIMIT].reserve(request.app[POOL], request[IDENTITY])
        return await handler(request)

    return limited


BOOKING_WRITE_LIMIT = web.AppKey("booking_write_limit", BookingWriteLimit)
