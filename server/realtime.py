"""WebSockets: the /ws endpoint and its authenticated sockets (fan-out: hub.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from . import repository
from .auth import (
    IDENTITIES,
    TOKENS,
    Identities,
    Identity,
    TokenService,
    checked_token,
    identify_api_token_until,
    is_api_token,
    secret_hash,
)
from .db import POOL, Pool
from .errors import DATABASE_DOWN_ERRORS, Forbidden, Unauthorized
from .hub import CLOSE_LOBBY_KEY, CLOSE_UNAUTHORIZED, HUB, Client, Hub, TooManySockets
from .public_url import own_origin
from .settings import SETTINGS

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

HEARTBEAT_SECONDS = 20.0
READY = json.dumps({"type": "ready"})
# What new_secret() makes: the lobby's key, as /lobby?key= carries it.
LOBBY_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


class UnknownLobbyKey(Exception):
    """A lobby socket's key is not the lobby's current one."""


def check_origin(request: web.Request, allowed: tuple[str, ...]) -> None:
    """Refuse cross-site sockets: a browser always sends Origin, other clients need not."""
    origin = request.headers.get("Origin")
    if origin is None:
        return
    if origin.rstrip("/") not in (own_origin(request), *allowed):
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
        first = await _first_message(ws, auth_timeout)
        if first.get("type") == "lobby":
            await _serve_lobby(ws, hub, pool, first.get("key"))
            return ws
        token = _auth_token(first)
        identity, expires_at = await _identify(token, tokens, identities, pool)
        hub.add(ws, Client(identity.user_id, identity.is_admin, identity.token_id))
        try:
            # Registered first, then read again: a revocation or role change
            # committed during the first read is either seen by this one or
            # published after add(), when the hub finds this socket to close.
            if (await _identify(token, tokens, identities, pool))[0] != identity:
                raise Unauthorized("role changed")
            await _listen(ws, expires_at)
        finally:
            hub.discard(ws)
    except Unauthorized as exc:
        await ws.close(code=CLOSE_UNAUTHORIZED, message=exc.message.encode()[:120])
    except UnknownLobbyKey:
        await ws.close(code=CLOSE_LOBBY_KEY, message=b"unknown lobby key")
    except TooManySockets as exc:
        # 1008, policy violation: retrying cannot help until one of its sockets closes.
        await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=str(exc).encode()[:120])
    except DATABASE_DOWN_ERRORS as exc:
        log.warning("Closing a WebSocket: the database is unavailable (%r)", exc)
        await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"database unavailable")
    except Exception:
        log.exception("Closing a WebSocket after an unexpected error")
        await ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"server error")
    return ws


async def _listen(ws: web.WebSocketResponse, expires_at: float) -> None:
    """Read until the client leaves, or close with 4401 when its token expires."""
    await ws.send_str(READY)
    # This task is the socket's only reader. Clients send nothing after auth;
    # reading still matters: it answers pings and notices the close.
    lifetime = expires_at - time.time()
    try:
        async with asyncio.timeout(None if math.isinf(lifetime) else max(0.0, lifetime)):
            async for _ in ws:
                pass
    except TimeoutError:
        raise Unauthorized("token expired") from None


async def _serve_lobby(ws: web.WebSocketResponse, hub: Hub, pool: Pool, key: Any) -> None:
    """A lobby screen: {"type": "lobby", "key": ...} first, then boards until it leaves.

    The key is the credential, sent in a message rather than the URL for the
    same reason as a token. Its sockets are told nothing but the board.
    """

    async def current() -> bool:
        return isinstance(key, str) and bool(LOBBY_KEY.fullmatch(key)) and (
            await repository.lobby.key_is_current(pool, key_hash=secret_hash(key))
        )

    if not await current():
        raise UnknownLobbyKey
    hub.add_lobby(ws)
    try:
        # Registered first, then read again: a rotation committed meanwhile is
        # either seen here or published after add_lobby(), which closes this socket.
        if not await current():
            raise UnknownLobbyKey
        await _listen(ws, math.inf)
    finally:
        hub.discard(ws)


async def _first_message(ws: web.WebSocketResponse, timeout: float) -> dict[str, Any]:
    """The client's first message: {"type": "auth", "token": ...} or {"type": "lobby", "key": ...}."""
    # Browsers cannot set headers on a WebSocket, and a token in the URL would
    # end up in access logs: so the token is the first message. Only the wait
    # for it is timed here; a slow database is a 1013, not "sign in again".
    try:
        async with asyncio.timeout(timeout):
            message = await ws.receive()
    except TimeoutError:
        raise Unauthorized("authentication timed out") from None
    if message.type != WSMsgType.TEXT:
        raise Unauthorized("expected an auth message")
    try:
        data = json.loads(message.data)
    except (ValueError, RecursionError):  # RecursionError: nested thousands deep
        raise Unauthorized("the auth message is not JSON") from None
    if not isinstance(data, dict):
        raise Unauthorized('expected {"type": "auth", "token": "<token>"}')
    return data


def _auth_token(data: dict[str, Any]) -> str:
    if data.get("type") != "auth" or not isinstance(data.get("token"), str):
        raise Unauthorized('expected {"type": "auth", "token": "<token>"}')
    return checked_token(data["token"])


async def _identify(
    token: str, tokens: TokenService, identities: Identities, pool: Pool
) -> tuple[Identity, float]:
    """Who the token belongs to now, and when it expires (inf: an API token without expiry)."""
    if is_api_token(token):
        # Revoking one closes its sockets at once (see Hub.disconnect_token).
        return await identify_api_token_until(pool, token)
    claims = tokens.decode(token)
    return await identities.get(pool, int(claims["sub"])), claims["exp"]
