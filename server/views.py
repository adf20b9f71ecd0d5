"""HTTP handlers: parse the request, call the repository, shape the JSON response."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from . import realtime, repository, slots
from .auth import USER_ID
from .errors import InvalidCredentials, ValidationFailed, error_response, json_response
from .keys import HUB, KNOWN_USERS, LOGIN_THROTTLE, PASSWORD_AUTHENTICATOR, POOL, SETTINGS, TOKENS
from .validation import date_param, instant_field, int_field, json_object, string_field

routes = web.RouteTableDef()


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    body = await json_object(request)
    email = string_field(body, "email", max_length=254).strip()
    password = string_field(body, "password", max_length=1024)
    throttle = request.app[LOGIN_THROTTLE]
    # Keyed by client too, so an attacker cannot lock a driver out from elsewhere.
    key = (email.lower(), request.remote or "")
    throttle.check(key)
    try:
        user = await request.app[PASSWORD_AUTHENTICATOR].authenticate(
            {"email": email, "password": password}
        )
    except InvalidCredentials:
        throttle.record_failure(key)
        raise
    throttle.reset(key)
    tokens = request.app[TOKENS]
    return json_response(
        {
            "token": tokens.issue(user),
            "token_type": "Bearer",
            "expires_in": tokens.ttl_seconds,
            "user": user.as_json(),
        }
    )


@routes.get("/spots")
async def spots_grid(request: web.Request) -> web.Response:
    """Every spot with its three slots on ?date= (default: today in the lot's zone)."""
    tz = request.app[SETTINGS].tz
    day = date_param(request, "date", default=slots.today(tz))
    day_start, day_end = slots.day_bounds(day, tz)
    now = datetime.now(UTC)
    rows = await repository.grid(request.app[POOL], day_start=day_start, day_end=day_end, now=now)
    return json_response(slots.grid_json(day, tz, rows, user_id=request[USER_ID], now=now))


@routes.get("/lot")
async def lot_calendar(request: web.Request) -> web.Response:
    """The lot's own calendar, so clients never derive dates from the browser's zone."""
    settings = request.app[SETTINGS]
    today = slots.today(settings.tz)
    return json_response(
        {
            "timezone": settings.tz.key,
            "today": today.isoformat(),
            "last_bookable_day": (today + timedelta(days=settings.booking_horizon_days)).isoformat(),
            "slots": [slot.as_json()["label"] for slot in slots.slots_on(today, settings.tz)],
        }
    )


@routes.post("/reservations")
async def create_reservation(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    tz = settings.tz
    body = await json_object(request)
    spot_id = int_field(body, "spot_id")
    start = instant_field(body, "start_time")
    end = instant_field(body, "end_time")
    slot = slots.slot_for(start, end, tz)
    if slot.end <= datetime.now(UTC):
        raise ValidationFailed(f"The slot {slot.describe()} has already ended.")
    last_day = slots.today(tz) + timedelta(days=settings.booking_horizon_days)
    if slot.start.date() > last_day:
        raise ValidationFailed(
            f"Bookings open {settings.booking_horizon_days} days ahead; "
            f"the last bookable day is {last_day.isoformat()}."
        )
    reservation = await repository.book(
        request.app[POOL], user_id=request[USER_ID], spot_id=spot_id, slot=slot
    )
    return json_response(
        reservation_json(reservation, tz),
        status=201,
        headers={"Location": f"/reservations/{reservation['id']}"},
    )


# Capped at 18 digits so the id always fits PostgreSQL's bigint.
RESERVATION_ID = r"{id:\d{1,18}}"


@routes.get(f"/reservations/{RESERVATION_ID}")
async def get_reservation(request: web.Request) -> web.Response:
    reservation = await repository.get_reservation(
        request.app[POOL], reservation_id=int(request.match_info["id"]), user_id=request[USER_ID]
    )
    return json_response(reservation_json(reservation, request.app[SETTINGS].tz))


@routes.put(f"/reservations/{RESERVATION_ID}/complete")
async def complete_reservation(request: web.Request) -> web.Response:
    reservation = await repository.complete(
        request.app[POOL], reservation_id=int(request.match_info["id"]), user_id=request[USER_ID]
    )
    return json_response(reservation_json(reservation, request.app[SETTINGS].tz))


@routes.get("/reservations")
async def list_reservations(request: web.Request) -> web.Response:
    status = request.query.get("status")
    if status not in (None, "booked", "completed"):
        raise ValidationFailed("'status' must be 'booked' or 'completed'.")
    reservations = await repository.list_reservations(
        request.app[POOL], user_id=request[USER_ID], status=status
    )
    tz = request.app[SETTINGS].tz
    return json_response({"reservations": [reservation_json(r, tz) for r in reservations]})


def local_time(value: datetime | None, tz: ZoneInfo) -> str | None:
    """ISO 8601 with the lot's offset, the API's one way of writing an instant."""
    return value.astimezone(tz).isoformat() if value is not None else None


def reservation_json(row: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": row["id"],
        "spot_id": row["spot_id"],
        "spot_number": row["spot_number"],
        "floor_number": row["floor_number"],
        "start_time": local_time(row["start_time"], tz),
        "end_time": local_time(row["end_time"], tz),
        "status": row["status"],
        "created_at": local_time(row["created_at"], tz),
        "completed_at": local_time(row["completed_at"], tz),
        "released_by": row["released_by"],
    }


@routes.get("/ws")
async def websocket(request: web.Request) -> web.WebSocketResponse:
    """Live slot events; see realtime.py and the README for the protocol."""
    realtime.check_origin(request, request.app[SETTINGS].allowed_origins)
    return await realtime.serve_socket(
        request,
        hub=request.app[HUB],
        tokens=request.app[TOKENS],
        known_users=request.app[KNOWN_USERS],
        pool=request.app[POOL],
        auth_timeout=request.app[SETTINGS].ws_auth_timeout_seconds,
    )


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    try:
        await asyncio.wait_for(repository.ping(request.app[POOL]), timeout=2)
    except Exception as exc:  # any failure means "not ready", whatever its type
        return error_response(
            503, "database_unavailable", f"Database check failed: {type(exc).__name__}"
        )
    return json_response({"status": "ready"})
