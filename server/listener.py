"""The LISTEN bridge: one dedicated database connection per process, feeding the hub."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from . import events, repository
from .auth import Identities
from .hub import RESYNC, Hub
from .lobby import LobbyFeed
from .metrics import Metrics
from .shapes import notification_json

log = logging.getLogger(__name__)

LISTENER_NAME = "smart-parking-listener"


class EventListener:
    """This process's one LISTEN connection (never a pooled one), feeding the hub.

    If the connection dies it reconnects with backoff, then tells clients to
    resync, because events sent while it was away are lost for this process.
    """

    def __init__(
        self,
        url: str,
        hub: Hub,
        identities: Identities,
        lobby: LobbyFeed | None = None,
        *,
        deliveries_due: asyncio.Event | None = None,
        tz: ZoneInfo = ZoneInfo("UTC"),
        ping_interval: float = 10.0,
        max_backoff: float = 30.0,
        metrics: Metrics | None = None,
    ) -> None:
        self._url = url
        self._metrics = metrics or Metrics.disabled()
        self._hub = hub
        self._identities = identities
        self._lobby = lobby
        self._deliveries_due = deliveries_due
        self._tz = tz
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
                    self._metrics.listener_reconnects.inc()
                    # Role changes may have been missed too.
                    self._identities.forget_all()
                    self._hub.broadcast(RESYNC)
                    if self._lobby is not None:
                        self._lobby.changed()
                    self._wake_dispatcher()
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
        event: dict[str, Any] = json.loads(payload)
        # A change that queued deliveries is published in the same transaction.
        self._wake_dispatcher()
        if event["type"] == "notification.created":
            # For the driver's own sockets only, the attendant's included.
            notification = notification_json(event["notification"], self._tz)
            message = json.dumps({"type": "notification.created", "notification": notification})
            self._hub.send_to_user(event["user_id"], message)
        elif event["type"] == "user.changed":
            self._user_changed(event["user_id"], event["role"])
        elif event["type"] == "token.revoked":
            self._hub.disconnect_token(event["token_id"])
        elif event["type"] == "lobby.rotated":
            self._hub.disconnect_lobby()
        else:
            audiences = events.audiences(event)
            self._hub.publish(audiences)
            self._metrics.events.inc()
            if audiences.lobby and self._lobby is not None:
                self._lobby.changed()

    def _wake_dispatcher(self) -> None:
        if self._deliveries_due is not None:
            self._deliveries_due.set()

    def _user_changed(self, user_id: int, role: str | None) -> None:
        """A user was deleted or their role changed: nothing of theirs may outlive it."""
        self._identities.forget(user_id)
        reason = "account deleted" if role is None else "role changed"
        self._hub.disconnect_user(user_id, reason)

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
