"""A driver's handlers: the lot's calendar, the grid, and their own reservations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import web

from .. import repository, slots
from ..auth import IDENTITY
from ..db import POOL
from ..errors import ValidationFailed
from ..responses import json_response
from ..settings import SETTINGS
from ..shapes import grid_json, reservation_json
from ..validation import (
    ID_PARAM,
    date_param,
    instant_field,
    int_field,
    json_object,
    path_id,
)

routes = web.RouteTableDef()


@routes.get("/lot")
async def lot_calendar(request: web.Request) -> web.Response:
    """The lot's own calendar, so clients never derive dates from the browser's zone."""
    settings = request.app[SETTINGS]
    today = slots.today(settings.tz)
    rules = await repository.rules.get_rules(request.app[POOL])
    last_day = today + timedelta(days=rules["booking_horizon_days"])
    return json_response(
        {
            "timezone": settings.tz.key,
            "today": today.isoformat(),
            "last_bookable_day": last_day.isoformat(),
            "slots": [slot.label for slot in slots.slots_on(today, settings.tz)],
        }
    )


@routes.get("/rules")
async def lot_rules(request: web.Request) -> web.Response:
    """The rules the attendant has set: limit, horizon, no-show grace."""
    return json_response(await repository.rules.get_rules(request.app[POOL]))


@routes.get("/spots")
async def spots_grid(request: web.Request) -> web.Response:
    """Every spot with its three slots on ?date= (default: today in the lot's zone)."""
    tz = request.app[SETTINGS].tz
    day = date_param(request, "date", default=slots.today(tz))
    day_start, day_end = slots.day_bounds(day, tz)
    now = datetime.now(UTC)
    rows = await repository.spots.grid(
        request.app[POOL], day_start=day_start, day_end=day_end, now=now
    )
    return json_response(grid_json(day, tz, rows, now=now, user_id=request[IDENTITY].user_id))


@routes.post("/reservations")
async def create_reservation(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    tz = settings.tz
    body = await json_object(request)
    spot_id = int_field(body, "spot_id")
    now = datetime.now(UTC)
    slot = slots.bookable_slot(
        instant_field(body, "start_time"), instant_field(body, "end_time"), tz, now=now
    )
    user_id = request[IDENTITY].user_id
    reservation = await repository.reservations.book(
        request.app[POOL],
        spot_id=spot_id,
        slot=slot,
        lot_today=now.astimezone(tz).date(),
        user_id=user_id,
        created_by=user_id,
    )
    return json_response(
        reservation_json(reservation, tz),
        status=201,
        headers={"Location": f"/reservations/{reservation['id']}"},
    )


@routes.get(f"/reservations/{ID_PARAM}")
async def get_reservation(request: web.Request) -> web.Response:
    reservation = await repository.reservations.get_reservation(
        request.app[POOL], reservation_id=path_id(request), user_id=request[IDENTITY].user_id
    )
    return json_response(reservation_json(reservation, request.app[SETTINGS].tz))


@routes.put(f"/reservations/{ID_PARAM}/complete")
async def complete_reservation(request: web.Request) -> web.Response:
    reservation = await repository.reservations.complete(
        request.app[POOL], reservation_id=path_id(request), user_id=request[IDENTITY].user_id
    )
    return json_response(reservation_json(reservation, request.app[SETTINGS].tz))


@routes.get("/reservations")
async def list_reservations(request: web.Request) -> web.Response:
    status = request.query.get("status")
    if status not in (None, "booked", "completed"):
        raise ValidationFailed("'status' must be 'booked' or 'completed'.")
    reservations = await repository.reservations.list_reservations(
        request.app[POOL], user_id=request[IDENTITY].user_id, status=status
    )
    tz = request.app[SETTINGS].tz
    return json_response({"reservations": [reservation_json(r, tz) for r in reservations]})


@routes.put(f"/reservations/{ID_PARAM}/check-in")
async def check_in(request: web.Request) -> web.Response:
    """The driver says they have arrived; idempotent, and only while the window is open."""
    tz = request.app[SETTINGS].tz
    reservation = await repository.arrivals.check_in(
        request.app[POOL], reservation_id=path_id(request), user_id=request[IDENTITY].user_id, tz=tz
    )
    return json_response(reservation_json(reservation, tz))
