"""One day of the lot's grid, read in one snapshot and shaped for a driver or the attendant."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from . import repository, slots
from .db import Db
from .shapes import grid_json, waiting_counts_json


async def day_grid(
    db: Db, tz: ZoneInfo, day: date, *, user_id: int | None = None, board: bool = False
) -> dict[str, Any]:
    """The drivers' grid (user_id: whose bookings are `mine`) or the attendant's board."""
    day_start, day_end = slots.day_bounds(day, tz)
    now = datetime.now(UTC)
    rows = await repository.spots.grid(db, day_start=day_start, day_end=day_end, now=now)
    grid = grid_json(day, tz, rows, now=now, user_id=user_id, board=board)
    if board:
        # The attendant's board also counts who waits for each slot; drivers never see it.
        waiting = await repository.waitlist.waiting_by_slot(db, start=day_start, end=day_end)
        grid["waitlist"] = waiting_counts_json(waiting, tz)
    return grid
