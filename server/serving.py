"""Serving the app: the listening socket, its runner, and a graceful stop (a drain) on a signal."""

from __future__ import annotations

import asyncio
import errno
import logging
import signal

from aiohttp import web

from .access_log import ACCESS_LOG_FORMAT, RedactingAccessLogger
from .connections import ACCEPT_BACKLOG, AcceptErrorLog, ConnectionCap, connection_limit
from .drain import DEFAULT_DRAIN_SECONDS, DRAIN, IN_FLIGHT_SECONDS, Drain
from .settings import Settings

log = logging.getLogger(__name__)


class ListenError(RuntimeError):
    """The server cannot listen on its address; the message says why, in one line."""


async def serve(app: web.Application, settings: Settings) -> None:
    """Serve until SIGINT or SIGTERM, then drain and stop gracefully: web.run_app, with limits.

    web.run_app gives no access to the listener's protocol factory, which is
    where the connection cap and the JSON answers to malformed requests live.

    The stop: /readyz fails at once and serving goes on for the drain, so that
    load balancers move traffic away; then the listener closes (new connections
    are refused), sockets close with 1001, requests in flight get
    IN_FLIGHT_SECONDS, and lifecycle tasks end their step. A second signal cuts
    every wait short.
    """
    asyncio.get_running_loop().set_exception_handler(AcceptErrorLog())
    drain = app[DRAIN]
    stop = _StopOnSignals(asyncio.current_task(), drain)
    # aiohttp's one timer for both the time a client has to send a complete request
    # head (from accept) and an idle keep-alive (from the end of the last answer).
    runner = web.AppRunner(
        app,
        access_log_class=RedactingAccessLogger,
        access_log_format=ACCESS_LOG_FORMAT,
        keepalive_timeout=settings.http_idle_timeout_seconds,
        shutdown_timeout=IN_FLIGHT_SECONDS,
    )
    cap = ConnectionCap(runner, connection_limit(settings))
    # Bound before the app starts: a busy port fails before the database is touched.
    listener = await _bind(cap, settings.host, settings.port)
    try:
        await runner.setup()  # cleanup_ctx: the database, the event listener, the sweeper
        await listener.start_serving()
        log.info(
            "Serving on http://%s:%d (at most %d connections); Ctrl+C stops",
            settings.host, settings.port, cap.limit,
        )
        await asyncio.Event().wait()  # until a signal cancels this task
    except asyncio.CancelledError:
        if stop.signal is None:
            raise
        stop.acknowledge()
        if listener.is_serving():  # a signal during startup stops at once
            await _drain(drain, stop.signal, settings.drain_seconds)
    finally:
        listener.close()
        # on_shutdown closes the sockets (GOING_AWAY), in-flight requests finish
        # (IN_FLIGHT_SECONDS at most), then cleanup_ctx stops the sweeper (after
        # its current step), the event listener and the database.
        await runner.cleanup()
        log.info("Stopped")


def drain_seconds(signum: signal.Signals, configured: float | None) -> float:
    """DRAIN_SECONDS if set; else the default on SIGTERM, none on SIGINT (Ctrl+C stays quick)."""
    if configured is not None:
        return configured
    return DEFAULT_DRAIN_SECONDS if signum == signal.SIGTERM else 0.0


async def _drain(drain: Drain, signum: signal.Signals, configured: float | None) -> None:
    drain.begin()
    seconds = drain_seconds(signum, configured)
    if seconds > 0:
        log.info("Draining: /readyz answers 503; serving %.1f s more, then stopping", seconds)
        await drain.pause(seconds)


class _StopOnSignals:
    """The first SIGINT or SIGTERM cancels the serving task (in startup too); the next hurries."""

    def __init__(self, task: asyncio.Task[None] | None, drain: Drain) -> None:
        assert task is not None
        self._task = task
        self._drain = drain
        self.signal: signal.Signals | None = None
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self._stop, signum)

    def _stop(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if self.signal is not None:
            log.info("%s: stopping at once", name)
            self._drain.hurry()
            return
        log.info("%s: stopping", name)
        self.signal = signal.Signals(signum)
        self._task.cancel()

    def acknowledge(self) -> None:
        # The cancellation was this object's: the task goes on through its shutdown.
        self._task.uncancel()


async def _bind(factory: ConnectionCap, host: str, port: int) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    try:
        return await loop.create_server(
            factory, host, port, backlog=ACCEPT_BACKLOG, start_serving=False
        )
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ListenError(
                f"Port {port} is already in use on {host}, perhaps by another `make run`: "
                f"stop that server, or choose another port with PORT, e.g. PORT={port + 1}"
            ) from None
        raise ListenError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}") from None
