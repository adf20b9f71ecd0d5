"""WebSockets: authenticated sockets, fan-out, and the PostgreSQL LISTEN bridge feeding them."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from typing import Any

import asyncpg
from aiohttp import WSCloseCode, WSMsgType, web

from . import repository
from .auth import KNOWN_USERS, TOKENS, KnownUsers, TokenService
from .db import POOL
from .errors import Forbidden, Unauthorized
from .settings import SETTINGS

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

LISTENER_NAME = "smart-parking-listener"
HEARTBEAT_SECONDS = 20.0
# Application-defined close code (4000-4999): "authenticate again".
CLOSE_UNAUTHORIZED = 4401
READY = json.dumps({"type": "ready"})
RESYNC = json.dumps({"type": "resync"})


class Hub:
    """The sockets connected to this process, and the fan-out of messages to them."""

    def __init__(self, send_timeout: float = 2.0) -> None:
        self._send_timeout = send_timeout
        self._sockets: set[web.WebSocketResponse] = set()
        self._broadcasts: set[asyncio.Task[None]] = set()

    def add(self, ws: web.WebSocketResponse) -> None:
        self._sockets.add(ws)

    def discard(self, ws: web.WebSocketResponse) -> None:
        self._sockets.discard(ws)

    def publish(self, message: str) -> None:
        """Send an already-serialised message to every socket, without waiting."""
        if not self._sockets:
            return
        task = asyncio.create_task(self._broadcast(message, list(self._sockets)))
        # The loop holds tasks weakly; keep each until it is done.
        self._broadcasts.add(task)
        task.add_done_callback(self._broadcasts.discard)

    async def _broadcast(self, message: str, sockets: list[web.WebSocketResponse]) -> None:
        # Concurrent sends under one shared deadline: a slow client costs only
        # itself. (One deadline for the batch rather than a timer per send: at
        # 1,000 sockets the per-send timers cost more than the sends.)
        sends = {asyncio.ensure_future(ws.send_str(message)): ws for ws in sockets}
        done, pending = await asyncio.wait(sends, timeout=self._send_timeout)
        for task in done:
            if task.exception() is not None:  # the client went away mid-send
                self.discard(sends[task])
        for task in pending:
            # Its buffers are full: it is not reading. Drop it rather than queue more.
            task.cancel()
            log.warning("Dropping a WebSocket client that stopped reading")
            self.discard(sends[task])
        await asyncio.gather(*(_abort(sends[task]) for task in pending))

    async def close_all(self) -> None:
        """Close every socket with GOING_AWAY, e.g. on shutdown."""
        sockets, self._sockets = list(self._sockets), set()
        await asyncio.gather(
            *(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown") for ws in sockets),
            return_exceptions=True,
        )


HUB = web.AppKey("hub", Hub)


async def _abort(ws: web.WebSocketResponse) -> None:
    try:
        async with asyncio.timeout(1):
            await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"too slow")
    except (TimeoutError, ConnectionError):
        pass


def check_origin(request: web.Request, allowed: tuple[str, ...]) -> None:
    """Refuse cross-site sockets: a browser always sends Origin, other clients need not."""
    origin = request.headers.get("Origin")
    if origin is None:
        return
    if origin.rstrip("/") not in (f"{request.scheme}://{request.host}", *allowed):
        raise Forbidden(f"WebSocket connections from origin {origin!r} are not allowed.")


@routes.get("/ws")
async def websocket(request: web.Request) -> web.WebSocketResponse:
    """Live slot events for one client; see the README for the protocol."""
    settings = request.app[SETTINGS]
    check_origin(request, settings.allowed_origins)
    return await serve_socket(
        request,
        hub=request.app[HUB],
        tokens=request.app[TOKENS],
        known_users=request.app[KNOWN_USERS],
        pool=request.app[POOL],
        auth_timeout=settings.ws_auth_timeout_seconds,
    )


async def serve_socket(
    request: web.Request,
    *,
    hub: Hub,
    tokens: TokenService,
    known_users: KnownUsers,
    pool: asyncpg.Pool,
    auth_timeout: float,
) -> web.WebSocketResponse:
    """One client: authenticate by first message, then stay registered until it leaves."""
    # No per-message compression: each event is serialised once and the same
    # bytes go to every socket; compressing would cost CPU per socket.
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS, compress=False)
    await ws.prepare(request)
    claims = await _authenticate(ws, tokens, known_users, pool, auth_timeout)
    if claims is None:
        return ws
    hub.add(ws)
    try:
        await ws.send_str(READY)
        # This task is the socket's only reader. Clients send nothing after auth;
        # reading still matters: it answers pings and notices the close.
        async with asyncio.timeout(max(0.0, claims["exp"] - time.time())):
            async for _ in ws:
                pass
    except TimeoutError:
        await ws.close(code=CLOSE_UNAUTHORIZED, message=b"token expired")
    finally:
        hub.discard(ws)
    return ws


async def _authenticate(
    ws: web.WebSocketResponse,
    tokens: TokenService,
    known_users: KnownUsers,
    pool: asyncpg.Pool,
    timeout: float,
) -> dict[str, Any] | None:
    # Browsers cannot set headers on a WebSocket, and a token in the URL would
    # end up in access logs: so the token is the first message.
    try:
        async with asyncio.timeout(timeout):
            message = await ws.receive()
        if message.type != WSMsgType.TEXT:
            raise Unauthorized("expected an auth message")
        try:
            data = json.loads(message.data)
        except ValueError:
            raise Unauthorized("the auth message is not JSON") from None
        if (
            not isinstance(data, dict)
            or data.get("type") != "auth"
            or not isinstance(data.get("token"), str)
        ):
            raise Unauthorized('expected {"type": "auth", "token": "<jwt>"}')
        claims = tokens.decode(data["token"])
        await known_users.require(pool, int(claims["sub"]))
        return claims
    except TimeoutError:
        reason = "authentication timed out"
    except Unauthorized as exc:
        reason = exc.message
    await ws.close(code=CLOSE_UNAUTHORIZED, message=reason.encode()[:120])
    return None


class EventListener:
    """This process's one LISTEN connection (never a pooled one), feeding the hub.

    If the connection dies it reconnects with backoff, then tells clients to
    resync, because events sent while it was away are lost for this process.
    """

    def __init__(
        self, url: str, hub: Hub, *, ping_interval: float = 10.0, max_backoff: float = 30.0
    ) -> None:
        self._url = url
        self._hub = hub
        self._ping_interval = ping_interval
        self._max_backoff = max_backoff
        self.listening = asyncio.Event()

    async def run(self) -> None:
        failures = 0
        connected_before = False
        while True:
            try:
                conn = await asyncpg.connect(
                    self._url, server_settings={"application_name": LISTENER_NAME}, timeout=5
                )
            except Exception as exc:  # whatever it is, keep trying: events must come back
                failures += 1
                delay = self._backoff(failures)
                log.warning("LISTEN connection failed (%r); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                continue
            lost = asyncio.Event()
            # Bound now: the next loop's event must not be set by this connection.
            conn.add_termination_listener(lambda _conn, lost=lost: lost.set())
            try:
                # The database names its channel; see repository/database.py.
                channel = await repository.database.event_channel(conn)
                await conn.add_listener(channel, self._forward)
                self.listening.set()
                failures = 0
                if connected_before:
                    log.info("LISTEN connection restored; asking clients to resync")
                    self._hub.publish(RESYNC)
                connected_before = True
                await self._watch(conn, lost)
                log.warning("LISTEN connection closed by the server")
            except Exception as exc:  # same: this loop must outlive any failure
                log.warning("LISTEN connection lost: %r", exc)
            finally:
                self.listening.clear()
                conn.terminate()
            failures += 1
            await asyncio.sleep(self._backoff(failures))

    def _forward(self, conn: object, pid: int, channel: str, payload: str) -> None:
        self._hub.publish(payload)

    async def _watch(self, conn: asyncpg.Connection, lost: asyncio.Event) -> None:
        """Return when the connection closes; a ping catches one that died silently."""
        while True:
            try:
                async with asyncio.timeout(self._ping_interval):
                    await lost.wait()
                return
            except TimeoutError:
                pass
            async with asyncio.timeout(self._ping_interval):
                await conn.execute("SELECT 1")

    def _backoff(self, failures: int) -> float:
        # Exponential with jitter, so several instances do not reconnect in lockstep.
        return min(self._max_backoff, 0.25 * 2**failures) * random.uniform(0.5, 1.0)
