"""A driver's weekly series: made, read and stopped; each date is an ordinary booking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from .. import repository, slots
from ..auth import IDENTITY
from ..db import POOL
from ..errors import ValidationFailed
from ..responses import json_response
from ..settings import SETTINGS
from ..shapes import series_json
from ..validation import (
    ID_PARAM,
    any_spot_type,
    choice_field,
    date_field,
    int_field,
    json_object,
    path_id,
)
from ..write_limit import booking_write

routes = web.RouteTableDef()


@routes.post("/reservations/series")
@booking_write
async def create_series(request: web.Request) -> web.Response:
    """Record the series, book its dates inside the horizon now; the sweeper books the rest."""
    settings = request.app[SETTINGS]
    tz = settings.tz
    pool = request.app[POOL]
    body = await json_object(request)
    weekdays = _weekdays(body)
    slot_index = int_field(body, "slot", minimum=0, maximum=2)
    now = datetime.now(UTC)
    lot_today = now.astimezone(tz).date()
    first, last = date_field(body, "from"), date_field(body, "until")
    if first < lot_today:
        raise ValidationFailed(f"'from' must be today ({lot_today.isoformat()}) or later.")
    if last < first:
        raise ValidationFailed("'until' must be on or after 'from'.")
    if last > slots.a_year_after(first):
        raise ValidationFailed("'until' must be at most a year after 'from'.")
    days = slots.weekly_days(first, last, set(weekdays))
    if not days:
        raise ValidationFailed("No date from 'from' to 'until' falls on one of the 'weekdays'.")
    spot_id = None if body.get("spot_id") is None else int_field(body, "spot_id")
    fallback = "none" if body.get("fallback") is None else choice_field(body, "fallback", ("any", "none"))
    user_id = request[IDENTITY].user_id
    series_id = await repository.series.create_series(
        pool,
        user_id=user_id,
        weekdays=weekdays,
        slot_index=slot_index,
        first_day=first,
        last_day=last,
        spot_id=spot_id,
        spot_type=any_spot_type(body),
        fallback=fallback,
        days=days,
    )
    horizon = (await repository.rules.get_rules(pool))["booking_horizon_days"]
    # One short transaction per date: each books or is refused on its own.
    for day in days:
        if day > lot_today + timedelta(days=horizon):
            break
        await repository.series.book_occurrence(
            pool, series_id=series_id, day=day, tz=tz, lot_today=lot_today, now=now
        )
    series = await repository.series.get_series(pool, series_id=series_id, user_id=user_id)
    return json_response(
        _created_json(series, tz),
        status=201,
        headers={"Location": f"/reservations/series/{series_id}"},
    )


@routes.get("/reservations/series")
async def list_series(request: web.Request) -> web.Response:
    series = await repository.series.list_series(
        request.app[POOL], user_id=request[IDENTITY].user_id
    )
    tz = request.app[SETTINGS].tz
    return json_response({"series": [series_json(s, tz) for s in series]})


@routes.get(f"/reservations/series/{ID_PARAM}")
async def get_series(request: web.Request) -> web.Response:
    series = await repository.series.get_series(
        request.app[POOL], series_id=path_id(request), user_id=request[IDENTITY].user_id
    )
    return json_response(series_json(series, request.app[SETTINGS].tz))


@routes.delete(f"/reservations/series/{ID_PARAM}")
@booking_write
async def stop_series(request: web.Request) -> web.Response:
    """Stop it: no more dates are booked, and its bookings that have not started are released."""
    released = await repository.series.stop_series(
        request.app[POOL], series_id=path_id(request), user_id=request[IDENTITY].user_id
    )
    return json_response({"released": released})


def _created_json(series: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """{"series": ..., "occurrences": [...]}: the answer to POST, outcomes beside the series."""
    body = series_json(series, tz)
    return {"series": {k: v for k, v in body.items() if k != "occurrences"}, "occurrences": body["occurrences"]}


def _weekdays(body: dict[str, Any]) -> list[int]:
    value = body.get("weekdays")
    valid = (
        isinstance(value, list)
        and 1 <= len(value) <= 7
        and all(isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 7 for d in value)
        and len(set(value)) == len(value)
    )
    if not valid:
        raise ValidationFailed(
            "'weekdays' must be a list of distinct ISO weekdays, 1 (Monday) to 7 (Sunday)."
        )
    return sorted(value)

