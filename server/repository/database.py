"""Statements about the database itself: a ping."""

from __future__ import annotations

from ..db import Db


async def ping(db: Db) -> None:
    await db.fetchval("SELECT 1")
