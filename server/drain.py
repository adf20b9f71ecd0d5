"""Stopping behind a load balancer: draining, requests in flight, and lifecycle tasks' last step."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiohttp import web

from .errors import Draining, Handler

log = logging.getLogger(__name__)

# How long SIGTERM keeps an instance serving while /readyz says "draining", when
# DRAIN_SECONDS is unset: longer than a load balancer needs to notice (HAProxy
# as configured in server/haproxy.cfg: two failed checks 2 s apart).
DEFAULT_DRAIN_SECONDS = 5.0
# Then requests in flight get this long to finish before they are cancelled.
IN_FLIGHT_SECONDS = 10.0
# And a lifecycle task (the sweeper, a delivery task) this long to end its step.
STEP_SECONDS = 10.0
# Sent with close code 1001: clients reconnect at once, through the load balancer.
CLOSE_REASON = "server restarting"


class Drain:
    """Whether this instance is stopping, and what a second signal cuts short.

    SIGTERM begins it: /readyz answers 503 "draining" at once while everything
    else is served as usual. A second signal hurries it: every wait ends, and
    the requests still in flight are cancelled.
    """

    def __init__(self) -> None:
        self.draining = False
        self.hurried = asyncio.Event()
        self._in_flight: set[asyncio.Task[Any]] = set()

    def begin(self) -> None:
        self.draining = True

    async def pause(self, seconds: float) -> None:
        """Keep serving for `seconds`, so that load balancers see /readyz fail; or until hurried."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.hurried.wait()

    def hurry(self) -> None:
        self.hurried.set()
        for task in list(self._in_flight):
            task.cancel()

    async def finish(self, task: asyncio.Task[None], timeout: float = STEP_SECONDS) -> None:
        """Let a task told to stop end its step; cancel it after `timeout`, or if hurried."""
        hurried = asyncio.ensure_future(self.hurried.wait())
        try:
            await asyncio.wait(
                {task, hurried}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            hurried.cancel()
        if not task.done():
            log.warning("%s did not finish its step in time; cancelling it", task.get_name())
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Remembers the request's task while it runs, so that hurry() can cancel it."""
        task = request.task
        self._in_flight.add(task)
        try:
            return await handler(request)
        finally:
            self._in_flight.discard(task)

    def check_ready(self) -> None:
        """For /readyz: raise Draining once the drain has begun."""
        if self.draining:
            raise Draining()


DRAIN = web.AppKey("drain", Drain)
