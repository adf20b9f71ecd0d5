"""The sockets connected to this process, and the fan-out of messages to them."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from aiohttp import WSCloseCode, web

from . import events

log = logging.getLogger(__name__)

# Application-defined close code (4000-4999): "authenticate again".
CLOSE_UNAUTHORIZED = 4401
# The lobby's key was replaced or is unknown: the screen needs its new URL.
CLOSE_LOBBY_KEY = 4404
# The reason of a 1008 close for one socket too many; the browser matches its start
# (static/parking/socket.js) and stops reconnecting.
TOO_MANY_SOCKETS = "too many open sockets"
RESYNC = json.dumps({"type": "resync"})


@dataclass(frozen=True)
class Client:
    """Who a socket belongs to, as it was when the socket authenticated."""

    user_id: int
    is_admin: bool
    # The personal API token it authenticated with, if not a session JWT.
    token_id: int | None = None


class TooManySockets(Exception):
    """The account already has as many sockets open on this process as it may."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"{TOO_MANY_SOCKETS}: at most {limit} per account; close a tab")


class Hub:
    """The sockets connected to this process, and the fan-out of messages to them."""

    def __init__(self, max_per_user: int | None = None, max_per_admin: int | None = None) -> None:
        self._clients: dict[web.WebSocketResponse, Client] = {}
        # Lobby screens: they get the board (lobby.LobbyFeed), never an event.
        self._lobby: set[web.WebSocketResponse] = set()
        self._per_user: Counter[int] = Counter()
        self._max_per_user = max_per_user
        self._max_per_admin = max_per_admin
        self._closing: set[asyncio.Task[None]] = set()

    def add(self, ws: web.WebSocketResponse, client: Client) -> None:
        """Register a socket, or raise TooManySockets if its account is at its cap here.

        Counted and added with no await between, so sockets racing in cannot overshoot.
        """
        limit = self._max_per_admin if client.is_admin else self._max_per_user
        if limit is not None and self._per_user[client.user_id] >= limit:
            raise TooManySockets(limit)
        self._clients[ws] = client
        self._per_user[client.user_id] += 1

    def add_lobby(self, ws: web.WebSocketResponse) -> None:
        self._lobby.add(ws)

    def has_lobby(self) -> bool:
        return bool(self._lobby)

    def discard(self, ws: web.WebSocketResponse) -> None:
        self._lobby.discard(ws)
        if (client := self._clients.pop(ws, None)) is not None:
            self._per_user[client.user_id] -= 1
            if not self._per_user[client.user_id]:
                del self._per_user[client.user_id]

    def __len__(self) -> int:
        """The sockets registered here, the lobby's screens included."""
        return len(self._clients) + len(self._lobby)

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

    def send_to_user(self, user_id: int, text: str) -> None:
        """Send a message to one user's own sockets, and nobody else's."""
        self._send_all([(ws, text) for ws, client in self._clients.items() if client.user_id == user_id])

    def broadcast(self, text: str) -> None:
        """Send the same message to every socket, e.g. resync."""
        self._send_all([(ws, text) for ws in (*self._clients, *self._lobby)])

    def send_lobby(self, text: str) -> None:
        """Send the lobby's sockets the board."""
        self._send_all([(ws, text) for ws in self._lobby])

    def _send_all(self, deliveries: list[tuple[web.WebSocketResponse, str]]) -> None:
        # Every send runs now, to its end: with compression off, aiohttp writes
        # the frame to the transport at once and waits only when the transport
        # is paused, i.e. when the client has stopped reading. A task per socket
        # costs more than the sends themselves at thousands of sockets.
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
            self._drop(ws, WSCloseCode.POLICY_VIOLATION, "too slow")

    def disconnect_user(self, user_id: int, reason: str) -> None:
        """Close a user's sockets (deleted or role changed); clients reconnect or sign in."""
        self._disconnect(lambda client: client.user_id == user_id, reason)

    def disconnect_token(self, token_id: int) -> None:
        """Close the sockets a revoked API token opened."""
        self._disconnect(lambda client: client.token_id == token_id, "token revoked")

    def disconnect_lobby(self) -> None:
        """Close the lobby's sockets: its key was replaced."""
        for ws in list(self._lobby):
            self._drop(ws, CLOSE_LOBBY_KEY, "lobby key replaced")

    def _disconnect(self, whose: Callable[[Client], bool], reason: str) -> None:
        for ws in [ws for ws, client in self._clients.items() if whose(client)]:
            self._drop(ws, CLOSE_UNAUTHORIZED, reason)

    def _drop(self, ws: web.WebSocketResponse, code: int, reason: str) -> None:
        # Out of the hub now, so no later event reaches it (the next notification
        # may be delivered before any task runs); closed in the background.
        self.discard(ws)
        task = asyncio.create_task(_close(ws, code, reason))
        self._closing.add(task)  # the loop holds tasks weakly
        task.add_done_callback(self._closing.discard)

    async def close_all(self, reason: str) -> None:
        """Close every socket with GOING_AWAY (1001) on shutdown: clients reconnect at once."""
        sockets, self._clients = [*self._clients, *self._lobby], {}
        self._lobby = set()
        self._per_user.clear()
        await asyncio.gather(*(_close(ws, WSCloseCode.GOING_AWAY, reason) for ws in sockets))


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


async def _close(ws: web.WebSocketResponse, code: int, reason: str) -> None:
    """Close, waiting at most a second for a client that may not answer."""
    try:
        async with asyncio.timeout(1):
            await ws.close(code=code, message=reason.encode())
    except (TimeoutError, ConnectionError):
        pass
