"""The sweeper: releases stale bookings, ends lines, books series, queues reminders and summaries."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from . import repository, slots
from .db import Db
from .metrics import Metrics

log = logging.getLogger(__name__)

# Rows released by one statement: each finishes well within the statement
# timeout, even with a backlog of 100,000 after an outage.
BATCH_SIZE = 1000
# Batches follow each other within a sweep until none is left or this is spent;
# the rest waits for the next sweep, so one sweep never holds the database long.
BUDGET_SECONDS = 10.0
# Releases logged one line each per sweep; beyond them, one summary line.
LOGGED_RELEASES = 100

Release = Callable[..., Awaitable[list[dict[str, Any]]]]


class _Pass:
    """One sweep: its deadline, and how many releases it has logged."""

    def __init__(self, budget_seconds: float) -> None:
        self.deadline = asyncio.get_running_loop().time() + budget_seconds
        self.released = 0
        self.cut_short = False

    def log_release(self, line: str, row: dict[str, Any]) -> None:
        self.released += 1
        if self.released <= LOGGED_RELEASES:
            log.info(line, row["spot_number"], row["id"])

    def spent(self) -> bool:
        return asyncio.get_running_loop().time() >= self.deadline

UTC_ZONE = ZoneInfo("UTC")

# How long a driver's inbox keeps a notification, and the outbox a finished delivery.
NOTIFICATIONS_KEPT = timedelta(days=90)


class Sweeper:
    def __init__(
        self,
        pool: Db,
        interval_seconds: float,
        *,
        login_window: timedelta | None = None,
        metrics: Metrics | None = None,
        batch_size: int = BATCH_SIZE,
        budget_seconds: float = BUDGET_SECONDS,
        tz: ZoneInfo = UTC_ZONE,
    ) -> None:
        self._pool = pool
        self._metrics = metrics or Metrics.disabled()
        self._stopping = asyncio.Event()
        self._interval = interval_seconds
        self._login_window = login_window
        self._batch_size = batch_size
        self._budget = budget_seconds
        self._tz = tz

    async def release_no_shows(self, sweep: _Pass | None = None) -> list[dict[str, Any]]:
        """Bookings nobody checked in for within the lot's grace period (none while it is 0)."""
        return await self._in_batches(
            repository.arrivals.release_no_shows,
            "Released no-show Spot #%d (Reservation ID %d)",
            "no_show",
            sweep or _Pass(self._budget),
        )

    async def release_expired(self, sweep: _Pass | None = None) -> list[dict[str, Any]]:
        """Bookings whose slot has ended; concurrent sweeps never release one twice."""
        return await self._in_batches(
            repository.arrivals.release_expired,
            "Auto-released Spot #%d (Reservation ID %d)",
            "expired",
            sweep or _Pass(self._budget),
        )

    async def _in_batches(
        self, release: Release, line: str, reason: str, sweep: _Pass
    ) -> list[dict[str, Any]]:
        released: list[dict[str, Any]] = []
        while True:
            batch = await release(self._pool, limit=self._batch_size)
            for row in batch:
                sweep.log_release(line, row)
            self._metrics.sweeper_releases.labels(reason).inc(len(batch))
            released += batch
            if len(batch) < self._batch_size:
                return released
            if sweep.spent():
                sweep.cut_short = True
                return released
            if self._stopping.is_set():  # a drain: the next instance carries on
                return released

    async def sweep(self) -> None:
        """One pass. Each step fails on its own: a backlog that times out must not stop the rest."""
        sweep = _Pass(self._budget)
        # No-shows first: a booking that ended unclaimed while the rule
        # is on was a no-show, not a stay that ran its course.
        steps: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            ("releasing no-shows", lambda: self.release_no_shows(sweep)),
            ("releasing ended bookings", lambda: self.release_expired(sweep)),
            # A line whose slot has ended is over.
            ("ending the lines of ended slots", lambda: repository.waitlist.expire_ended(self._pool)),
            ("booking weekly series' due dates", self.book_due_occurrences),
            ("queueing reminders", self.queue_reminders),
            ("queueing monthly summaries", self.queue_monthly_summaries),
            ("forgetting old notifications", self.forget_old_notifications),
        ]
        if (window := self._login_window) is not None:
            # Housekeeping: failed sign-ins whose window has ended count for nothing.
            steps.append(
                (
                    "forgetting ended sign-in windows",
                    lambda: repository.users.forget_ended_login_windows(self._pool, window=window),
                )
            )
        for name, step in steps:
            try:
                await step()
            except Exception:
                # E.g. the database is down: the loop goes on, and so do the other steps.
                log.exception("Sweep failed at %s; retrying in %.0fs", name, self._interval)
        if sweep.released > LOGGED_RELEASES:
            log.info(
                "Released %d bookings in this sweep; the first %d are logged above",
                sweep.released, LOGGED_RELEASES,
            )
        if sweep.cut_short:
            log.info("The sweep used its %.0fs budget; the rest waits for the next", self._budget)

    def stop(self) -> None:
        """End run() after the current sweep, or at once if it is between sweeps."""
        self._stopping.set()

    async def book_due_occurrences(self) -> int:
        """Weekly series' pending dates the horizon has reached, each booked (or refused) once.

        Any number of instances may sweep at once: each date is claimed with
        FOR UPDATE SKIP LOCKED and leaves 'pending' in its booking's transaction.
        """
        now = datetime.now(UTC)
        lot_today = now.astimezone(self._tz).date()
        decided = 0
        while await repository.series.book_next_due(
            self._pool, tz=self._tz, lot_today=lot_today, now=now
        ):
            decided += 1
        if decided:
            log.info("Booked or refused %d due date(s) of weekly series", decided)
        return decided

    async def queue_reminders(self) -> int:
        """Reminders now due; the database's unique key sends each once, whoever sweeps."""
        queued = await repository.notifications.queue_reminders(self._pool)
        if queued:
            log.info("Queued %d booking reminder(s)", queued)
        return queued

    async def queue_monthly_summaries(self) -> int:
        """On the 1st (in the lot's zone), last month's summaries not yet queued."""
        today = slots.today(self._tz)
        if today.day != 1:
            return 0
        month = slots.previous_month(today)
        start, end = slots.month_bounds(month, self._tz)
        queued = await repository.notifications.queue_monthly_summaries(
            self._pool, month=month, start=start, end=end
        )
        if queued:
            log.info("Queued %d monthly summaries for %s", queued, f"{month:%Y-%m}")
        return queued

    async def forget_old_notifications(self) -> None:
        await repository.notifications.forget_old(self._pool, older_than=NOTIFICATIONS_KEPT)
        await repository.deliveries.forget_finished(self._pool, older_than=NOTIFICATIONS_KEPT)

    async def run(self) -> None:
        while not self._stopping.is_set():
            await self.sweep()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._stopping.wait()
