"""WebSockets: the /ws endpoint, its authenticated sockets, and the fan-out to them."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from . import events
from .auth import (
    IDENTITIES,
    TOKENS,
    Identities,
    TokenService,
    checked_token,
    identify_api_token,
    is_api_token,
)
from .db import POOL, Pool
from .errors import DATABASE_DOWN_ERRORS, Forbidden, Unauthorized
from .settings import SETTINGS

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

HEARTBEAT_SECONDS = 20.0
# Application-defined close code (4000-4999): "authenticate again".
CLOSE_UNAUTHORIZED = 4401
READY = json.dumps({"type": "ready"})
RESYNC = json.dumps({"type": "resync"})


@dataclass(frozen=True)
class Client:
    """Who a socket belongs to, as it was when the socket authenticated."""

    user_id: int
    is_admin: bool
    # The personal API token it authenticated with, if not a session JWT.
    token_id: int | None = None


class Hub:
    """The sockets connected to this process, and the fan-out of messages to them."""

    def __init__(self) -> None:
        self._clients: dict[web.WebSocketResponse, Client] = {}
        self._aborts: set[asyncio.Task[None]] = set()

    def add(self, ws: web.WebSocketResponse, client: Client) -> None:
        self._clients[ws] = client

    def discard(self, ws: web.WebSocketResponse) -> None:
        self._clients.pop(ws, None)

    def publish(self, message: events.Audiences) -> None:
        """Send each socket the form of the event its audience may see, without waiting."""
        deliveries = []
        for ws, client in self._clients.items():
            if client.is_admin:
                text = message.admin
            elif client.user_id == message.owner_id:
                text = message.owner
            else:
                text = message.public
            if text is not None:
                deliveries.append((ws, text))
        self._send_all(deliveries)

    def broadcast(self, text: str) -> None:
        """Send the same message to every socket, e.g. resync."""
        self._send_all([(ws, text) for ws in self._clients])

    def _send_all(self, deliveries: list[tuple[web.WebSocketResponse, str]]) -> None:
        # Every send runs now, to its end: with compression off, aiohttp writes
        # the frame to the transport at once and waits only when the transport
        # is paused, i.e. when the client has stopped reading. A task per socket
        # (as before) cost more than the sends themselves at thousands of sockets.
        stalled = []
        for ws, text in deliveries:
            try:
                _run_without_waiting(ws.send_str(text))
            except _WouldWait:
                stalled.append(ws)
            except Exception:  # the client went away mid-send
                self.discard(ws)
        for ws in stalled:
            # Its buffers are full: it is not reading. Drop it rather than queue more;
            # it reconnects and resyncs when it reads again.
            log.warning("Dropping a WebSocket client that stopped reading")
            self.discard(ws)
            task = asyncio.create_task(_abort(ws))
            self._aborts.add(task)  # the loop holds tasks weakly
            task.add_done_callback(self._aborts.discard)

    async def disconnect_user(self, user_id: int, reason: str) -> None:
        """Close a user's sockets (deleted or role changed); clients reconnect or sign in."""
        await self._disconnect(lambda client: client.user_id == user_id, reason)

    async def disconnect_token(self, token_id: int) -> None:
        """Close the sockets a revoked API token opened."""
        await self._disconnect(lambda client: client.token_id == token_id, "token revoked")

    async def _disconnect(self, whose: Callable[[Client], bool], reason: str) -> None:
        sockets = [ws for ws, client in self._clients.items() if whose(client)]
        for ws in sockets:
            self.discard(ws)
        await asyncio.gather(
            *(ws.close(code=CLOSE_UNAUTHORIZED, message=reason.encode()) for ws in sockets),
            return_exceptions=True,
        )

    async def close_all(self) -> None:
        """Close every socket with GOING_AWAY, e.g. on shutdown."""
        sockets, self._clients = list(self._clients), {}
        await asyncio.gather(
            *(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown") for ws in sockets),
            return_exceptions=True,
        )


HUB = web.AppKey("hub", Hub)


class _WouldWait(Exception):
    """A send could not finish without waiting for its client."""


def _run_without_waiting(send: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine that normally finishes at once; raise _WouldWait if it would wait."""
    try:
        waiting_for = send.send(None)
    except StopIteration:
        return
    send.close()  # the frame is already in the transport's buffer
    if isinstance(waiting_for, asyncio.Future):
        # aiohttp's drain waiter fails when the dropped client's connection goes:
        # an expected end, not "Future exception was never retrieved".
        waiting_for.add_done_callback(_retrieved)
    raise _WouldWait


def _retrieved(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


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
        identities=request.app[IDENTITIES],
        pool=request.app[POOL],
        auth_timeout=settings.ws_auth_timeout_seconds,
    )


async def serve_socket(
    request: web.Request,
    *,
    hub: Hub,
    tokens: TokenService,
    identities: Identities,
    pool: Pool,
    auth_timeout: float,
) -> web.WebSocketResponse:
    """One client: authenticate by first message, then stay registered until it leaves."""
    # No per-message compression: each event is serialised once per audience and
    # the same bytes go to many sockets; compressing would cost CPU per socket.
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS, compress=False, max_msg_size=16 * 1024)
    await ws.prepare(request)
    # From here on the answer is a WebSocket: a failure must close it, not reach
    # the error middleware, which would write an HTTP response into the socket.
    try:
        authenticated = await _authenticate(ws, tokens, identities, pool, auth_timeout)
        if authenticated is not None:
            await _listen(ws, hub, *authenticated)
    except DATABASE_DOWN_ERRORS as exc:
        log.warning("Closing a WebSocket: the database is unavailable (%r)", exc)
        await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"database unavailable")
    except Exception:
        log.exception("Closing a WebSocket after an unexpected error")
        await ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"server error")
    return ws


async def _listen(ws: web.WebSocketResponse, hub: Hub, client: Client, expires_at: float) -> None:
    """Registered with the hub until the client leaves or its token expires."""
    hub.add(ws, client)
    try:
        await ws.send_str(READY)
        # This task is the socket's only reader. Clients send nothing after auth;
        # reading still matters: it answers pings and notices the close.
        lifetime = expires_at - time.time()
        async with asyncio.timeout(None if math.isinf(lifetime) else max(0.0, lifetime)):
            async for _ in ws:
                pass
    except TimeoutError:
        await ws.close(code=CLOSE_UNAUTHORIZED, message=b"token expired")
    finally:
        hub.discard(ws)


async def _authenticate(
    ws: web.WebSocketResponse,
    tokens: TokenService,
    identities: Identities,
    pool: Pool,
    timeout: float,
) -> tuple[Client, float] | None:
    """The client and when its token expires, or None after closing with 4401."""
    # Browsers cannot set headers on a WebSocket, and a token in the URL would
    # end up in access logs: so the token is the first message.
    try:
        async with asyncio.timeout(timeout):
            message = await ws.receive()
        if message.type != WSMsgType.TEXT:
            raise Unauthorized("expected an auth message")
        try:
            data = json.loads(message.data)
        except (ValueError, RecursionError):  # RecursionError: nested thousands deep
            raise Unauthorized("the auth message is not JSON") from None
        if (
            not isinstance(data, dict)
            or data.get("type") != "auth"
            or not isinstance(data.get("token"), str)
        ):
            raise Unauthorized('expected {"type": "auth", "token": "<token>"}')
        token = checked_token(data["token"])
        if is_api_token(token):
            # An API token does not expire; it is revoked instead (see disconnect_token).
            identity = await identify_api_token(pool, token)
            expires_at = math.inf
        else:
            claims = tokens.decode(token)
            identity = await identities.get(pool, int(claims["sub"]))
            expires_at = claims["exp"]
        return Client(identity.user_id, identity.is_admin, identity.token_id), expires_at
    except TimeoutError:
        reason = "authentication timed out"
    except Unauthorized as exc:
        reason = exc.message
    await ws.close(code=CLOSE_UNAUTHORIZED, message=reason.encode()[:120])
    return None
