"""The waitlist's handlers: a driver joins, follows and leaves a line; the attendant reads them."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from .. import repository, slots
from ..auth import IDENTITY
from ..db import POOL
from ..responses import json_response
from ..settings import SETTINGS
from ..shapes import new_waitlist_entry_json, waitlist_json, waitlist_lines_json
from ..validation import ID_PARAM, choice_field, date_param, instant_field, int_field, json_object, path_id
from ..write_limit import booking_write

routes = web.RouteTableDef()

SPOT_TYPES = ("regular", "handicap")


# Joining and leaving count as booking writes: each is published to every
# server's sockets, so a loop of them must meet the same limit as bookings.
@routes.post("/waitlist")
@booking_write
async def join_waitlist(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    body = await json_object(request)
    now = datetime.now(UTC)
    slot = slots.bookable_slot(
        instant_field(body, "start_time"), instant_field(body, "end_time"), settings.tz, now=now
    )
    spot_id = int_field(body, "spot_id") if body.get("spot_id") is not None else None
    spot_type = choice_field(body, "spot_type", SPOT_TYPES) if "spot_type" in body else "regular"
    entry = await repository.waitlist.join(
        request.app[POOL],
        user_id=request[IDENTITY].user_id,
        slot=slot,
        spot_id=spot_id,
        spot_type=spot_type,
        lot_today=now.astimezone(settings.tz).date(),
        lot_timezone=settings.parking_timezone,
    )
    return json_response(
        new_waitlist_entry_json(entry, settings.tz),
        status=201,
        headers={"Location": f"/waitlist/{entry['id']}"},
    )


@routes.get("/waitlist")
async def list_waitlist(request: web.Request) -> web.Response:
    entries = await repository.waitlist.list_own(request.app[POOL], user_id=request[IDENTITY].user_id)
    tz = request.app[SETTINGS].tz
    return json_response(waitlist_json(entries, tz))


@routes.delete(f"/waitlist/{ID_PARAM}")
@booking_write
async def leave_waitlist(request: web.Request) -> web.Response:
    await repository.waitlist.leave(
        request.app[POOL], entry_id=path_id(request), user_id=request[IDENTITY].user_id
    )
    return web.Response(status=204)


@routes.get("/admin/waitlist")
async def lines_of_day(request: web.Request) -> web.Response:
    """Who is in line for each slot of a day, in order (the attendant's only)."""
    tz = request.app[SETTINGS].tz
    day = date_param(request, "date", slots.today(tz))
    start, end = slots.day_bounds(day, tz)
    entries = await repository.waitlist.lines_of_day(request.app[POOL], start=start, end=end)
    return json_response(waitlist_lines_json(day, entries, tz))
