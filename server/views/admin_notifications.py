"""The attendant's notifications: webhook endpoints and their deliveries, the monthly summary."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from aiohttp import web

from .. import repository, slots, webhooks
from ..auth import IDENTITY
from ..db import POOL
from ..errors import ValidationFailed
from ..responses import json_response
from ..settings import SETTINGS
from ..shapes import delivery_json, webhook_json
from ..validation import ID_PARAM, MAX_DATE, MIN_DATE, json_object, path_id, string_field

routes = web.RouteTableDef()

MONTH = re.compile(r"\d{4}-\d{2}")


def _events_field(body: dict[str, Any]) -> list[str]:
    events = body.get("events")
    allowed = (*webhooks.EVENT_TYPES, webhooks.ALL_EVENTS)
    if not isinstance(events, list) or not events or len(events) > len(allowed):
        raise ValidationFailed(f"'events' must be a list of one or more of: {', '.join(allowed)}.")
    for event in events:
        if event not in allowed:
            raise ValidationFailed(f"'events' may hold only: {', '.join(allowed)}.")
    return sorted(set(events))


@routes.post("/admin/webhooks")
async def create_webhook(request: web.Request) -> web.Response:
    """Register an endpoint; its signing secret is shown this once."""
    body = await json_object(request)
    url = webhooks.check_url(
        string_field(body, "url", max_length=webhooks.MAX_URL_LENGTH).strip()
    )
    events = _events_field(body)
    await webhooks.check_resolves_to_allowed(url)
    created = await repository.deliveries.create_webhook(
        request.app[POOL],
        url=url,
        events=events,
        secret=webhooks.new_secret(),
        created_by=request[IDENTITY].user_id,
    )
    tz = request.app[SETTINGS].tz
    return json_response({**webhook_json(created, tz), "secret": created["secret"]}, status=201)


@routes.get("/admin/webhooks")
async def list_webhooks(request: web.Request) -> web.Response:
    """The endpoints, without their secrets, each with its count of failed deliveries."""
    tz = request.app[SETTINGS].tz
    rows = await repository.deliveries.list_webhooks(request.app[POOL])
    return json_response(
        {
            "webhooks": [
                {**webhook_json(row, tz), "failed_deliveries": row["failed_deliveries"]}
                for row in rows
            ],
            "failed_deliveries": sum(row["failed_deliveries"] for row in rows),
        }
    )


@routes.delete(f"/admin/webhooks/{ID_PARAM}")
async def delete_webhook(request: web.Request) -> web.Response:
    await repository.deliveries.delete_webhook(
        request.app[POOL], webhook_id=path_id(request), actor_id=request[IDENTITY].user_id
    )
    return web.Response(status=204)


@routes.get(f"/admin/webhooks/{ID_PARAM}/deliveries")
async def list_deliveries(request: web.Request) -> web.Response:
    """The endpoint's latest 100 deliveries, newest first."""
    tz = request.app[SETTINGS].tz
    rows = await repository.deliveries.list_webhook_deliveries(
        request.app[POOL], webhook_id=path_id(request)
    )
    return json_response({"deliveries": [delivery_json(row, tz) for row in rows]})


@routes.post("/admin/notifications/monthly-summary")
async def monthly_summary(request: web.Request) -> web.Response:
    """Queue a month's summaries now, as the sweeper does on the 1st; never twice per driver."""
    body = await json_object(request)
    raw = string_field(body, "month", max_length=7)
    try:
        if not MONTH.fullmatch(raw):
            raise ValueError
        month = date.fromisoformat(f"{raw}-01")
    except ValueError:
        raise ValidationFailed("'month' must be a month as YYYY-MM, e.g. 2026-11.") from None
    if not MIN_DATE <= month <= MAX_DATE:
        raise ValidationFailed(f"'month' must be between {MIN_DATE:%Y-%m} and {MAX_DATE:%Y-%m}.")
    start, end = slots.month_bounds(month, request.app[SETTINGS].tz)
    queued = await repository.notifications.queue_monthly_summaries(
        request.app[POOL], month=month, start=start, end=end
    )
    return json_response({"month": raw, "queued": queued}, status=202)
