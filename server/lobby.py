"""The lobby board: its answer, and keeping the lobby's sockets up to date with it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from . import repository, slots
from .db import Pool
from .hub import Hub
from .shapes import lobby_json

log = logging.getLogger(__name__)


async def board(pool: Pool, tz: ZoneInfo) -> dict[str, Any]:
    """Today's free spots per floor and slot, as GET /lobby/board answers."""
    now = datetime.now(UTC)
    day = now.astimezone(tz).date()
    day_start, day_end = slots.day_bounds(day, tz)
    rows = await repository.spots.grid(pool, day_start=day_start, day_end=day_end, now=now)
    return lobby_json(day, tz, rows, now=now)


class LobbyFeed:
    """Sends the lobby's sockets the whole board (counts only) after each change that moves it.

    The hub's other audiences get the event itself; the lobby gets the board
    read again, once per burst of events: changes that arrive while it is
    being read cause one more read, not one each.
    """

    def __init__(self, pool: Pool, hub: Hub, tz: ZoneInfo) -> None:
        self._pool = pool
        self._hub = hub
        self._tz = tz
        self._stale = False
        self._task: asyncio.Task[None] | None = None

    def changed(self) -> None:
        if not self._hub.has_lobby():
            return
        self._stale = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._send_fresh_boards(), name="lobby-feed")

    async def _send_fresh_boards(self) -> None:
        while self._stale:
            self._stale = False
            try:
                text = json.dumps({"type": "lobby.board", **await board(self._pool, self._tz)})
            except Exception:  # the pages poll too; the next change tries again
                log.exception("Could not read the lobby board")
                return
            self._hub.send_lobby(text)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


LOBBY_FEED = web.AppKey("lobby_feed", LobbyFeed)
