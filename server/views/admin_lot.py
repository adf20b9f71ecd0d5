"""The attendant's lot: closing spots for whole slots, reopening them, adding and changing spots."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from .. import repository, slots
from ..auth import IDENTITY
from ..db import POOL
from ..errors import ValidationFailed
from ..responses import json_response
from ..settings import SETTINGS
from ..shapes import closures_json, new_closure_json, rules_json, spot_json
from ..validation import (
    ID_PARAM,
    MAX_FLOOR,
    MAX_SPOT_NUMBER,
    MIN_FLOOR,
    SPOT_ID_PARAM,
    choice_field,
    date_range,
    instant_field,
    int_field,
    json_object,
    path_id,
    reason_field,
)

routes = web.RouteTableDef()

SPOT_TYPES = ("regular", "handicap")


@routes.post("/admin/closures")
async def close_spot(request: web.Request) -> web.Response:
    """Take a spot out of service for whole slots; its bookings there are released."""
    tz = request.app[SETTINGS].tz
    body = await json_object(request)
    spot_id = int_field(body, "spot_id")
    start, end = slots.whole_slots(
        instant_field(body, "start_time"), instant_field(body, "end_time"), tz
    )
    reason = reason_field(body)
    closure, released = await repository.closures.create_closure(
        request.app[POOL],
        spot_id=spot_id,
        start=start,
        end=end,
        reason=reason,
        created_by=request[IDENTITY].user_id,
    )
    return json_response(new_closure_json(closure, released, tz), status=201)


@routes.delete(f"/admin/closures/{ID_PARAM}")
async def reopen(request: web.Request) -> web.Response:
    await repository.closures.delete_closure(
        request.app[POOL], closure_id=path_id(request), actor_id=request[IDENTITY].user_id
    )
    return web.Response(status=204)


@routes.get("/admin/closures")
async def list_closures(request: web.Request) -> web.Response:
    """Closures overlapping ?from= to ?to= (lot dates; default: today to 30 days ahead)."""
    tz = request.app[SETTINGS].tz
    today = slots.today(tz)
    first, last = date_range(request, default_to=today + timedelta(days=30), default_days=31)
    start, end = slots.range_bounds(first, last, tz)
    closures = await repository.closures.list_closures(request.app[POOL], start=start, end=end)
    return json_response(closures_json(closures, tz))


@routes.post("/admin/spots")
async def add_spot(request: web.Request) -> web.Response:
    body = await json_object(request)
    spot = await repository.spots.create_spot(
        request.app[POOL],
        spot_number=int_field(body, "spot_number", maximum=MAX_SPOT_NUMBER),
        floor_number=int_field(body, "floor_number", minimum=MIN_FLOOR, maximum=MAX_FLOOR),
        type=choice_field(body, "type", SPOT_TYPES) if "type" in body else "regular",
        actor_id=request[IDENTITY].user_id,
    )
    return json_response(spot_json(spot), status=201)


@routes.patch(f"/admin/spots/{SPOT_ID_PARAM}")
async def change_spot(request: web.Request) -> web.Response:
    """Change a spot's floor or type; its number identifies it to drivers and stays."""
    body = await json_object(request)
    if not body.keys() & {"floor_number", "type"}:
        raise ValidationFailed("Send 'floor_number', 'type', or both.")
    spot = await repository.spots.update_spot(
        request.app[POOL],
        spot_id=path_id(request),
        floor_number=int_field(body, "floor_number", minimum=MIN_FLOOR, maximum=MAX_FLOOR)
        if "floor_number" in body
        else None,
        type=choice_field(body, "type", SPOT_TYPES) if "type" in body else None,
        actor_id=request[IDENTITY].user_id,
    )
    return json_response(spot_json(spot))


# Each rule: (lowest, highest) allowed, and whether null ("no limit") is allowed.
RULE_RANGES = {
    "max_upcoming_per_driver": (1, 100, True),
    "booking_horizon_days": (1, 365, False),
    "no_show_grace_minutes": (0, 240, False),
    # 0: no reminders.
    "reminder_minutes_before": (0, 1440, False),
}


@routes.put("/admin/rules")
async def change_rules(request: web.Request) -> web.Response:
    """Change the rules sent, all or nothing; every instance applies them at once."""
    body = await json_object(request)
    unknown = sorted(body.keys() - RULE_RANGES.keys())
    if unknown:
        names = ", ".join(RULE_RANGES)
        raise ValidationFailed(f"Unknown rule '{unknown[0]}'; the rules are {names}.")
    if not body:
        raise ValidationFailed(f"Send at least one of {', '.join(RULE_RANGES)}.")
    changes = {}
    for name, value in body.items():
        low, high, nullable = RULE_RANGES[name]
        if value is None and nullable:
            changes[name] = None
        else:
            changes[name] = int_field(body, name, minimum=low, maximum=high)
    rules = await repository.rules.update_rules(
        request.app[POOL], changes=changes, updated_by=request[IDENTITY].user_id
    )
    return json_response(rules_json(rules))
