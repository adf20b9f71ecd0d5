"""The attendant at the gate: who holds a plate, what they booked, and what is free."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from .. import repository, slots
from ..db import POOL
from ..plates import spelled_plate
from ..responses import json_response
from ..settings import SETTINGS
from ..shapes import plate_lookup_json

routes = web.RouteTableDef()


@routes.get("/admin/plates/{plate:[^/]{1,64}}")
async def look_up_plate(request: web.Request) -> web.Response:
    """Every holder of the plate today with their booking now and next, and the free spots.

    No holder is a 200 with an empty list: the gate needs the free spots most then.
    """
    tz = request.app[SETTINGS].tz
    pool = request.app[POOL]
    plate = spelled_plate(request.match_info["plate"], label="plate")
    now = datetime.now(UTC)
    day_start, day_end = slots.day_bounds(now.astimezone(tz).date(), tz)
    drivers = await repository.gate.drivers_with_plate(pool, plate=plate)
    bookings = await repository.gate.days_bookings(
        pool,
        plate=plate,
        user_ids=sorted({driver["user_id"] for driver in drivers}),
        day_start=day_start,
        day_end=day_end,
    )
    current, upcoming = slots.current_and_next_slot(now, tz)
    wanted = [slot for slot in (current, upcoming) if slot is not None]
    free = await repository.gate.free_spots(pool, slots=[(s.start, s.end) for s in wanted])
    free_by_slot = dict(zip(wanted, free, strict=True))
    return json_response(
        plate_lookup_json(
            plate, drivers, bookings, free_by_slot, current=current, upcoming=upcoming, now=now, tz=tz
        )
    )
