"""The attendant's desk: the board of who holds what, bookings for others, releases, users."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from .. import repository, slots
from ..auth import IDENTITY
from ..db import POOL
from ..errors import UserNotFound, ValidationFailed
from ..responses import json_response
from ..settings import SETTINGS
from ..shapes import grid_json, reservation_json
from ..validation import (
    ID_PARAM,
    date_param,
    instant_field,
    int_field,
    json_object,
    object_field,
    path_id,
    reason_field,
    string_field,
)

routes = web.RouteTableDef()

MAX_GUEST_NAME = 100
MAX_LICENCE_PLATE = 16


@routes.get("/admin/board")
async def board(request: web.Request) -> web.Response:
    """The drivers' grid, plus who holds each taken cell and why a closed one is closed."""
    tz = request.app[SETTINGS].tz
    day = date_param(request, "date", default=slots.today(tz))
    day_start, day_end = slots.day_bounds(day, tz)
    now = datetime.now(UTC)
    rows = await repository.spots.grid(
        request.app[POOL], day_start=day_start, day_end=day_end, now=now
    )
    return json_response(grid_json(day, tz, rows, now=now, board=True))


@routes.post("/admin/reservations")
async def book_for_someone(request: web.Request) -> web.Response:
    """Book a slot for a driver (user_id) or a walk-in (guest), with the drivers' rules."""
    settings = request.app[SETTINGS]
    pool = request.app[POOL]
    body = await json_object(request)
    spot_id = int_field(body, "spot_id")
    now = datetime.now(UTC)
    slot = slots.bookable_slot(
        instant_field(body, "start_time"), instant_field(body, "end_time"), settings.tz, now=now
    )
    if (body.get("user_id") is None) == (body.get("guest") is None):
        raise ValidationFailed("Send exactly one of 'user_id' (a driver) or 'guest' (a walk-in).")
    # The driver's booking limit does not apply to the attendant's bookings for
    # them (reservations_enforce_booking_limit exempts created_by <> user_id).
    booking = {
        "spot_id": spot_id,
        "slot": slot,
        "lot_today": now.astimezone(settings.tz).date(),
        "created_by": request[IDENTITY].user_id,
    }
    if body.get("user_id") is not None:
        user_id = int_field(body, "user_id", maximum=10**18)
        driver = await repository.users.get_user(pool, user_id=user_id)
        if driver is None:
            raise UserNotFound(f"'user_id': there is no user {user_id}.")
        reservation = await repository.reservations.book(
            pool, **booking, user_id=user_id, driver_name=driver.display_name
        )
    else:
        guest = object_field(body, "guest")
        name = string_field(guest, "name", max_length=MAX_GUEST_NAME, label="guest.name")
        # Plates are read off cars: one spelling, whatever the attendant typed.
        # Checked once spelled so: upper-casing can lengthen a text ("ß" is "SS").
        plate = string_field(guest, "licence_plate", label="guest.licence_plate").strip().upper()
        if len(plate) > MAX_LICENCE_PLATE:
            raise ValidationFailed(
                f"'guest.licence_plate' must be at most {MAX_LICENCE_PLATE} characters."
            )
        reservation = await repository.reservations.book(
            pool, **booking, guest_name=name.strip(), licence_plate=plate
        )
    return json_response(
        reservation_json(reservation, settings.tz, with_holder=True),
        status=201,
        headers={"Location": f"/admin/reservations/{reservation['id']}"},
    )


@routes.get(f"/admin/reservations/{ID_PARAM}")
async def get_any_reservation(request: web.Request) -> web.Response:
    reservation = await repository.reservations.get_reservation(
        request.app[POOL], reservation_id=path_id(request)
    )
    return json_response(reservation_json(reservation, request.app[SETTINGS].tz, with_holder=True))


@routes.put(f"/admin/reservations/{ID_PARAM}/release")
async def release_with_reason(request: web.Request) -> web.Response:
    """Release anyone's booking; its holder sees the reason. Idempotent."""
    body = await json_object(request)
    reason = reason_field(body)
    reservation = await repository.reservations.admin_release(
        request.app[POOL], reservation_id=path_id(request), reason=reason
    )
    return json_response(reservation_json(reservation, request.app[SETTINGS].tz, with_holder=True))


@routes.put(f"/admin/reservations/{ID_PARAM}/check-in")
async def check_in_anyone(request: web.Request) -> web.Response:
    """The attendant records an arrival, walk-ins included; the same window as drivers'."""
    tz = request.app[SETTINGS].tz
    reservation = await repository.arrivals.check_in(
        request.app[POOL], reservation_id=path_id(request), user_id=None, tz=tz
    )
    return json_response(reservation_json(reservation, tz, with_holder=True))


@routes.get("/admin/users")
async def list_users(request: web.Request) -> web.Response:
    """Every user with their role and how many bookings they hold that have not ended."""
    return json_response({"users": await repository.users.list_users(request.app[POOL])})
