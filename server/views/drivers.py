"""A driver's handlers: the lot's calendar, the grid, and their own reservations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import web

from .. import repository, slots
from ..auth import IDENTITY
from ..db import POOL
from ..errors import ValidationFailed
from ..metrics import METRICS
from ..responses import json_response
from ..settings import SETTINGS
from ..grid import day_grid
from ..shapes import lot_json, reservation_json, reservations_json, rules_json
from ..validation import (
    ID_PARAM,
    any_spot_fields,
    booking_fields,
    date_param,
    json_object,
    next_page,
    page_params,
    optional_vehicle_id,
    path_id,
)
from ..write_limit import booking_write

routes = web.RouteTableDef()


@routes.get("/lot")
async def lot_calendar(request: web.Request) -> web.Response:
    """The lot's own calendar, so clients never derive dates from the browser's zone."""
    tz = request.app[SETTINGS].tz
    today = slots.today(tz)
    rules = await repository.rules.get_rules(request.app[POOL])
    last_day = today + timedelta(days=rules["booking_horizon_days"])
    return json_response(lot_json(today, last_day, tz))


@routes.get("/rules")
async def lot_rules(request: web.Request) -> web.Response:
    """The rules the attendant has set: limit, horizon, no-show grace."""
    return json_response(rules_json(await repository.rules.get_rules(request.app[POOL])))


@routes.get("/spots")
async def spots_grid(request: web.Request) -> web.Response:
    """Every spot with its three slots on ?date= (default: today in the lot's zone)."""
    tz = request.app[SETTINGS].tz
    day = date_param(request, "date", default=slots.today(tz))
    user_id = request[IDENTITY].user_id
    return json_response(await day_grid(request.app[POOL], tz, day, user_id=user_id))


@routes.post("/reservations")
@booking_write
async def create_reservation(request: web.Request) -> web.Response:
    tz = request.app[SETTINGS].tz
    body = await json_object(request)
    now = datetime.now(UTC)
    user_id = request[IDENTITY].user_id
    vehicle_id = optional_vehicle_id(body)
    with request.app[METRICS].booking():
        if body.get("spot_id") is None:
            # Without a spot_id: any free spot, chosen by the database (repository/free_spots.py).
            reservation = await repository.free_spots.book_any(
                request.app[POOL],
                **any_spot_fields(body, tz, now=now),
                user_id=user_id,
                vehicle_id=vehicle_id,
            )
        else:
            reservation = await repository.reservations.book(
                request.app[POOL],
                **booking_fields(body, tz, now=now),
                user_id=user_id,
                created_by=user_id,
                vehicle_id=vehicle_id,
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
@booking_write
async def complete_reservation(request: web.Request) -> web.Response:
    reservation = await repository.reservations.complete(
        request.app[POOL], reservation_id=path_id(request), user_id=request[IDENTITY].user_id
    )
    return json_response(reservation_json(reservation, request.app[SETTINGS].tz))


@routes.get("/reservations")
async def list_reservations(request: web.Request) -> web.Response:
    """The caller's reservations, newest first, a page at a time (`next` links the rest)."""
    upcoming = request.query.get("upcoming")
    if upcoming == "true":
        return await upcoming_reservations(request)
    if upcoming not in (None, "false"):
        raise ValidationFailed("'upcoming' must be 'true' or 'false'.")
    status = request.query.get("status")
    if status not in (None, "booked", "completed"):
        raise ValidationFailed("'status' must be 'booked' or 'completed'.")
    limit, before = page_params(request)
    rows = await repository.reservations.list_reservations(
        request.app[POOL],
        user_id=request[IDENTITY].user_id,
        status=status,
        limit=limit + 1,  # one more, to know whether another page follows
        before=before,
    )
    tz = request.app[SETTINGS].tz
    return json_response(
        reservations_json(rows[:limit], tz, next_link=next_page(request, rows, limit, "id"))
    )


async def upcoming_reservations(request: web.Request) -> web.Response:
    """GET /reservations?upcoming=true: the caller's bookings whose slot has not ended, soonest first."""
    if request.query.get("status") not in (None, "booked"):
        raise ValidationFailed("'upcoming=true' lists booked reservations only; drop 'status'.")
    reservations = await repository.reservations.list_upcoming(
        request.app[POOL], user_id=request[IDENTITY].user_id
    )
    # Short by nature (what has not ended yet): one answer, no next page.
    return json_response(reservations_json(reservations, request.app[SETTINGS].tz, next_link=None))


@routes.put(f"/reservations/{ID_PARAM}/check-in")
@booking_write
async def check_in(request: web.Request) -> web.Response:
    """The driver says they have arrived; idempotent, and only while the window is open."""
    tz = request.app[SETTINGS].tz
    user_id = request[IDENTITY].user_id
    reservation = await repository.arrivals.check_in(
        request.app[POOL], reservation_id=path_id(request), user_id=user_id, actor_id=user_id, tz=tz
    )
    return json_response(reservation_json(reservation, tz))
