"""Statements about the database itself: the channel it publishes changes on, and a ping."""

from __future__ import annotations

from ..db import Db

# Named once, in SQL: the triggers notify on it and every listener asks for it.
EVENT_CHANNEL = "SELECT parking_events_channel()"


async def event_channel(db: Db) -> str:
    return await db.fetchval(EVENT_CHANNEL)


async def ping(db: Db) -> None:
    await db.fetchval("SELECT 1")
