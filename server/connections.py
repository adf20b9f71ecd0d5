"""Limits on client connections: a cap with a JSON 503, JSON parser errors, accept-error logging."""

from __future__ import annotations

import asyncio
import logging
import resource
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMethod, LineTooLong

from .responses import error_response, json_dumps
from .settings import Settings

log = logging.getLogger(__name__)

# The listen backlog; asyncio also accepts up to this many connections at a time,
# each with its descriptor, before the cap can look at any of them.
ACCEPT_BACKLOG = 128
# Descriptors the process needs besides client connections and its pool: the
# LISTEN connection, static files being sent, logs, pipes, asyncio's own.
SPARE_DESCRIPTORS = 64
# Connections over the cap that may linger to deliver their 503 at the same time;
# beyond these one is closed at once (a reset may beat its 503), so refusing
# cannot run out of descriptors either.
REFUSING_AT_ONCE = 32
REFUSAL_LINGER_SECONDS = 2.0
RETRY_AFTER_SECONDS = 5
LOG_INTERVAL_SECONDS = 60.0
# asyncio's message when accept() fails for lack of descriptors or memory.
ACCEPT_EXHAUSTED = "socket.accept() out of system resource"


def connection_limit(settings: Settings) -> int:
    """MAX_CONNECTIONS, or fewer if the descriptor limit (RLIMIT_NOFILE) would run out first.

    The soft limit is raised towards the hard one as far as the setting needs:
    any process may, and the usual soft 1,024 would otherwise be the real cap.
    """
    wanted = settings.max_connections
    reserved = settings.database_pool_size + SPARE_DESCRIPTORS + REFUSING_AT_ONCE + ACCEPT_BACKLOG
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    needed = wanted + reserved
    raised = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft < raised:
        resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
        soft = raised
    limit = max(1, min(wanted, soft - reserved))
    if limit < wanted:
        log.warning(
            "MAX_CONNECTIONS=%d does not fit the descriptor limit (ulimit -n %d): at most %d",
            wanted, soft, limit,
        )
    return limit


class ConnectionCap:
    """The listener's protocol factory: aiohttp's handler under `limit` connections, else a 503.

    It counts the handlers it hands out itself: asyncio creates the protocols of
    a burst of accepts before any of them is connected, so aiohttp's own list of
    connections can lag behind by up to a backlog.
    """

    def __init__(self, runner: web.AppRunner, limit: int) -> None:
        self._runner = runner
        self.limit = limit
        self.open = 0
        self.refusing = 0
        self._refusals = EveryInterval(LOG_INTERVAL_SECONDS)
        self._handler_class = _handler_counted_by(self)

    def __call__(self) -> asyncio.BaseProtocol:
        if self.open < self.limit:
            server = self._runner.server
            assert server is not None, "the listener serves only once the runner is set up"
            handler = server()
            # aiohttp takes no handler class; a subclass without new slots may stand in.
            handler.__class__ = self._handler_class
            self.open += 1
            return handler
        if (refused := self._refusals.due(asyncio.get_running_loop().time())) is not None:
            log.warning(
                "At the cap of %d connections: %d refused with 503 since the last report "
                "(MAX_CONNECTIONS, HTTP_IDLE_TIMEOUT_SECONDS)",
                self.limit, refused,
            )
        linger = REFUSAL_LINGER_SECONDS if self.refusing < REFUSING_AT_ONCE else 0.0
        self.refusing += 1
        return _Refusal(self, linger)


def _handler_counted_by(cap: ConnectionCap) -> type[web.RequestHandler]:
    """aiohttp's handler (answering in JSON), made to tell the cap when its connection ends."""

    class CountedRequestHandler(JsonErrorsRequestHandler):
        __slots__ = ()

        def connection_lost(self, exc: BaseException | None) -> None:
            super().connection_lost(exc)
            cap.open -= 1

    return CountedRequestHandler


_BUSY = json_dumps(
    {"error": {"code": "server_busy", "message": "The server is too busy. Please retry shortly."}}
).encode()
BUSY_RESPONSE = (
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: application/json; charset=utf-8\r\n"
    f"Content-Length: {len(_BUSY)}\r\n"
    f"Retry-After: {RETRY_AFTER_SECONDS}\r\n"
    "Connection: close\r\n\r\n"
).encode() + _BUSY


class _Refusal(asyncio.Protocol):
    """A connection over the cap: a 503, then a close once the client has read it.

    Closing with the request unread makes the kernel send RST, which can destroy
    the 503 before the client reads it; so the request is drained until the
    client's EOF, for at most `linger` seconds.
    """

    def __init__(self, cap: ConnectionCap, linger: float) -> None:
        self._cap = cap
        self._linger = linger

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(BUSY_RESPONSE)
        transport.write_eof()
        self._timer = asyncio.get_running_loop().call_later(self._linger, transport.abort)

    def data_received(self, data: bytes) -> None:
        pass  # drained, never parsed

    def connection_lost(self, exc: Exception | None) -> None:
        self._cap.refusing -= 1
        self._timer.cancel()


class JsonErrorsRequestHandler(web.RequestHandler):
    """aiohttp's protocol, whose own answers (before any middleware runs) are JSON too.

    aiohttp answers what its HTTP parser refuses through handle_error, in plain
    text, and logs the offending bytes with a traceback; it offers no hook.
    """

    __slots__ = ()  # the same layout as aiohttp's, so a live handler's class may be swapped

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:
            # As aiohttp does: an answer is under way, so the connection is broken.
            raise ConnectionError("A response was already sent; cannot send another")
        if status == 400:  # the HTTP parser refused the request
            status, code, text = _refused_by_parser(exc)
            # One line, without the request's bytes: they may hold a token.
            log.info("Refused a malformed request from %s: %s", request.remote, type(exc).__name__)
        else:
            log.error("Unhandled error for a request from %s", request.remote, exc_info=exc)
            status, code, text = 500, "internal_error", "Something went wrong on our side."
        response = error_response(status, code, text)
        response.force_close()
        return response

    def log_exception(self, *args: Any, **kw: Any) -> None:
        # After an early answer aiohttp reads the rest of the body, to close cleanly;
        # a body that cannot be decoded fails that read too, yet it was answered (400).
        if isinstance(kw.get("exc_info"), web.RequestPayloadError):
            return
        super().log_exception(*args, **kw)


def _refused_by_parser(exc: BaseException | None) -> tuple[int, str, str]:
    if isinstance(exc, BadHttpMethod):
        return 501, "method_not_implemented", "The request method is not supported."
    if isinstance(exc, LineTooLong):
        # aiohttp does not say whether it was the request line or a header field.
        return 431, "request_header_too_large", "The request line or a header is over 8 KB."
    return 400, "bad_request", "The request is not valid HTTP/1.1."


class EveryInterval:
    """Counts occurrences and says when to report them: at most once per `interval` seconds."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._count = 0
        self._next_report = float("-inf")

    def due(self, now: float) -> int | None:
        """None, or how many occurred (this one included) since the last report."""
        self._count += 1
        if now < self._next_report:
            return None
        count, self._count = self._count, 0
        self._next_report = now + self._interval
        return count


class AcceptErrorLog:
    """Loop exception handler: accept() failing for lack of descriptors is logged once per interval.

    asyncio in Python 3.11 (before CPython gh-151615) reports it once per accept
    attempt, up to a backlog's worth per wake-up and each with a traceback:
    the log grew by megabytes a second.
    """

    def __init__(self, interval: float = LOG_INTERVAL_SECONDS) -> None:
        self._failures = EveryInterval(interval)

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") != ACCEPT_EXHAUSTED:
            loop.default_exception_handler(context)
            return
        if (failures := self._failures.due(loop.time())) is not None:
            log.error(
                "%s (%s), %d times since the last report; new connections wait in the backlog. "
                "Raise the descriptor limit (ulimit -n) or lower MAX_CONNECTIONS.",
                ACCEPT_EXHAUSTED, context.get("exception"), failures,
            )
