"""The attendant's desk: the board of who holds what, bookings for others, releases, users."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from .. import repository, slots
from ..auth import IDENTITY
from ..db import POOL
from ..errors import UserNotFound, ValidationFailed
from ..grid import day_grid
from ..metrics import METRICS
from ..responses import json_response
from ..settings import SETTINGS
from ..shapes import booking_for_someone_json, reservation_json, users_json
from ..validation import (
    ID_PARAM,
    any_spot_fields,
    booking_fields,
    date_param,
    guest_fields,
    int_field,
    json_object,
    optional_vehicle_id,
    path_id,
    reason_field,
)

routes = web.RouteTableDef()


@routes.get("/admin/board")
async def board(request: web.Request) -> web.Response:
    """The drivers' grid, plus who holds each taken cell and why a closed one is closed."""
    tz = request.app[SETTINGS].tz
    day = date_param(request, "date", default=slots.today(tz))
    return json_response(await day_grid(request.app[POOL], tz, day, board=True))


@routes.post("/admin/reservations")
async def book_for_someone(request: web.Request) -> web.Response:
    """Book a slot for a driver (user_id) or a walk-in (guest), with the drivers' rules.

    Without a spot_id, any free spot of the type, chosen by the database as for
    a driver's own booking (the gate's one-tap booking).
    """
    settings = request.app[SETTINGS]
    pool = request.app[POOL]
    body = await json_object(request)
    now = datetime.now(UTC)
    any_spot = body.get("spot_id") is None
    if any_spot:
        booking = any_spot_fields(body, settings.tz, now=now)
    else:
        booking = booking_fields(body, settings.tz, now=now)
    if (body.get("user_id") is None) == (body.get("guest") is None):
        raise ValidationFailed("Send exactly one of 'user_id' (a driver) or 'guest' (a walk-in).")
    # The driver's booking limit does not apply to the attendant's bookings for
    # them (reservations_enforce_booking_limit exempts created_by <> user_id).
    booking["created_by"] = request[IDENTITY].user_id
    if body.get("user_id") is not None:
        user_id = int_field(body, "user_id", maximum=10**18)
        driver = await repository.users.get_user(pool, user_id=user_id)
        if driver is None:
            raise UserNotFound(f"'user_id': there is no user {user_id}.")
        booking.update(
            user_id=user_id, vehicle_id=optional_vehicle_id(body), driver_name=driver.display_name
        )
    else:
        booking.update(guest_fields(body))
    book = repository.free_spots.book_any if any_spot else repository.reservations.book
    with request.app[METRICS].booking():
        reservation = await book(pool, **booking)
    # The waitlist does not bind the attendant, who decides at the gate; the
    # answer says how many drivers were waiting for this slot.
    waiting = await repository.waitlist.waiting_in_slot(pool, start=booking["slot"].start)
    return json_response(
        booking_for_someone_json(reservation, settings.tz, waiting_in_line=waiting),
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
        request.app[POOL],
        reservation_id=path_id(request),
        reason=reason,
        actor_id=request[IDENTITY].user_id,
    )
    return json_response(reservation_json(reservation, request.app[SETTINGS].tz, with_holder=True))


@routes.put(f"/admin/reservations/{ID_PARAM}/check-in")
async def check_in_anyone(request: web.Request) -> web.Response:
    """The attendant records an arrival, walk-ins included; the same window as drivers'."""
    tz = request.app[SETTINGS].tz
    reservation = await repository.arrivals.check_in(
        request.app[POOL],
        reservation_id=path_id(request),
        user_id=None,
        actor_id=request[IDENTITY].user_id,
        tz=tz,
    )
    return json_response(reservation_json(reservation, tz, with_holder=True))


@routes.get("/admin/users")
async def list_users(request: web.Request) -> web.Response:
    """Every user with their role and how many bookings they hold that have not ended."""
    return json_response(users_json(await repository.users.list_users(request.app[POOL])))
