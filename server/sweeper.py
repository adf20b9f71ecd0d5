"""The sweeper: every interval, releases no-shows (when that rule is on) and ended bookings, and ends their lines."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

from . import repository
from .db import Db
from .metrics import Metrics

log = logging.getLogger(__name__)


class Sweeper:
    def __init__(
        self,
        pool: Db,
        interval_seconds: float,
        *,
        login_window: timedelta | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._pool = pool
        self._metrics = metrics or Metrics.disabled()
        self._interval = interval_seconds
        self._login_window = login_window
        self._stopping = asyncio.Event()

    async def release_no_shows(self) -> list[dict[str, Any]]:
        """Bookings nobody checked in for within the lot's grace period (none while it is 0)."""
        released = await repository.arrivals.release_no_shows(self._pool)
        for row in released:
            log.info("Released no-show Spot #%d (Reservation ID %d)", row["spot_number"], row["id"])
        self._metrics.sweeper_releases.labels("no_show").inc(len(released))
        return released

    async def release_expired(self) -> list[dict[str, Any]]:
        """Bookings whose slot has ended; one UPDATE, so concurrent sweeps never release twice."""
        released = await repository.arrivals.release_expired(self._pool)
        for row in released:
            log.info("Auto-released Spot #%d (Reservation ID %d)", row["spot_number"], row["id"])
        self._metrics.sweeper_releases.labels("expired").inc(len(released))
        return released

    def stop(self) -> None:
        """End run() after the current sweep, or at once if it is between sweeps."""
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                # No-shows first: a booking that ended unclaimed while the rule
                # is on was a no-show, not a stay that ran its course.
                await self.release_no_shows()
                await self.release_expired()
                # A line whose slot has ended is over.
                await repository.waitlist.expire_ended(self._pool)
                if self._login_window is not None:
                    # Housekeeping: failed sign-ins whose window has ended count for nothing.
                    await repository.users.forget_ended_login_windows(
                        self._pool, window=self._login_window
                    )
            except Exception:
                # A failed sweep (e.g. the database is down) must not end the loop.
                log.exception("Sweep failed; retrying in %.0fs", self._interval)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._stopping.wait()
