"""The stale-booking sweeper: releases bookings whose slot has ended, every interval."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from . import repository
from .db import Db

log = logging.getLogger(__name__)


class Sweeper:
    def __init__(self, pool: Db, interval_seconds: float) -> None:
        self._pool = pool
        self._interval = interval_seconds

    async def release_expired(self) -> list[dict[str, Any]]:
        """One sweep. A single UPDATE, so concurrent sweeps never release a row twice."""
        released = await repository.reservations.release_expired(self._pool)
        for row in released:
            log.info("Auto-released Spot #%d (Reservation ID %d)", row["spot_number"], row["id"])
        return released

    async def run(self) -> None:
        while True:
            try:
                await self.release_expired()
            except Exception:
                # A failed sweep (e.g. the database is down) must not end the loop.
                log.exception("Stale-booking sweep failed; retrying in %.0fs", self._interval)
            await asyncio.sleep(self._interval)
