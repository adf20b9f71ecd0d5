"""Reports: occupancy by hour of day, histories as CSV, and the attendant's audit trail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from .. import repository, slots
from ..auth import IDENTITY
from ..csv_export import EXPORTS_IN_FLIGHT, PAGE_ROWS, stream_csv
from ..db import POOL
from ..errors import ValidationFailed
from ..responses import json_response
from ..settings import SETTINGS
from ..shapes import audit_record_json, stats_json
from ..validation import date_range, int_param

routes = web.RouteTableDef()


# Each CSV header names its column of the export query, but for these, which
# keep the spreadsheet's headers short.
_QUERY_COLUMN = {"floor": "floor_number", "start": "start_time", "end": "end_time"}


def _columns(*headers: str) -> tuple[tuple[str, str], ...]:
    """(CSV header, column of the export query), in order."""
    return tuple((header, _QUERY_COLUMN.get(header, header)) for header in headers)


# Both exports open with the booking's spot and time; the orders after that
# are the files' published layouts, so they stay as they are.
_BOOKING = ("id", "spot_number", "floor", "start", "end", "status")
OWN_COLUMNS = _columns(
    *_BOOKING, "completed_at", "released_by", "release_reason", "checked_in_at"
)
ALL_COLUMNS = _columns(
    *_BOOKING,
    "holder", "holder_email", "licence_plate", "created_by", "created_at",
    "checked_in_at", "completed_at", "released_by", "release_reason",
)
AUDIT_COLUMNS = (
    *_columns("id", "recorded_at", "actor_id"),
    ("actor", "actor_name"),
    *_columns("action", "target_type", "target_id", "reason", "before", "after"),
)


@routes.get("/reservations/export.csv")
async def export_own(request: web.Request) -> web.StreamResponse:
    """The caller's history as CSV, read a page at a time."""
    settings, pool = request.app[SETTINGS], request.app[POOL]
    user_id = request[IDENTITY].user_id

    async def page(after: dict[str, Any] | None) -> list[dict[str, Any]]:
        return await repository.reports.export_own_page(
            pool, user_id=user_id, after=after, limit=PAGE_ROWS
        )

    filename = f"smart-parking-reservations-{slots.today(settings.tz).isoformat()}.csv"
    with request.app[EXPORTS_IN_FLIGHT].admit(user_id):
        return await stream_csv(
            request, page, OWN_COLUMNS, filename=filename, tz=settings.tz,
            write_timeout=settings.request_body_timeout_seconds,
        )  # fmt: skip


@routes.get("/admin/reservations/export.csv")
async def export_all(request: web.Request) -> web.StreamResponse:
    """Everyone's reservations starting from ?from= to ?to= (lot dates), for the attendant."""
    settings, pool = request.app[SETTINGS], request.app[POOL]
    first, last = date_range(request, default_to=slots.today(settings.tz), default_days=30)
    start, end = slots.range_bounds(first, last, settings.tz)

    async def page(after: dict[str, Any] | None) -> list[dict[str, Any]]:
        return await repository.reports.export_all_page(
            pool, start=start, end=end, after=after, limit=PAGE_ROWS
        )

    filename = f"smart-parking-all-reservations-{first.isoformat()}-to-{last.isoformat()}.csv"
    with request.app[EXPORTS_IN_FLIGHT].admit(request[IDENTITY].user_id):
        return await stream_csv(
            request, page, ALL_COLUMNS, filename=filename, tz=settings.tz,
            write_timeout=settings.request_body_timeout_seconds,
        )  # fmt: skip


def _audit_filters(request: web.Request) -> dict[str, object]:
    """?from= and ?to= (lot dates; default: the last 30 days), ?actor= (a user id), ?action=."""
    tz = request.app[SETTINGS].tz
    first, last = date_range(request, default_to=slots.today(tz), default_days=30)
    start, end = slots.range_bounds(first, last, tz)
    action = request.query.get("action")
    if action is not None and action not in repository.audit.ACTIONS:
        raise ValidationFailed(f"'action' must be one of: {', '.join(repository.audit.ACTIONS)}.")
    actor = int_param(request, "actor", maximum=10**18) if "actor" in request.query else None
    return {"start": start, "end": end, "actor_id": actor, "action": action}


MAX_AUDIT_LIMIT = 1000


@routes.get("/admin/audit")
async def audit_trail(request: web.Request) -> web.Response:
    """What was done, by whom and why, newest first."""
    tz = request.app[SETTINGS].tz
    limit = (
        int_param(request, "limit", maximum=MAX_AUDIT_LIMIT) if "limit" in request.query else 100
    )
    records = await repository.audit.list_records(
        request.app[POOL], **_audit_filters(request), limit=limit
    )
    return json_response({"records": [audit_record_json(r, tz) for r in records]})


@routes.get("/admin/audit/export.csv")
async def export_audit_trail(request: web.Request) -> web.StreamResponse:
    """The same records, all of them, as CSV, a page at a time; before/after as JSON text."""
    settings, pool = request.app[SETTINGS], request.app[POOL]
    filters = _audit_filters(request)

    async def page(after: dict[str, Any] | None) -> list[dict[str, Any]]:
        return await repository.audit.export_records_page(
            pool, **filters, after=after, limit=PAGE_ROWS
        )

    filename = f"smart-parking-audit-{slots.today(settings.tz).isoformat()}.csv"
    with request.app[EXPORTS_IN_FLIGHT].admit(request[IDENTITY].user_id):
        return await stream_csv(
            request, page, AUDIT_COLUMNS, filename=filename, tz=settings.tz,
            write_timeout=settings.request_body_timeout_seconds,
        )  # fmt: skip


@routes.get("/stats")
async def occupancy_stats(request: web.Request) -> web.Response:
    """Average spots occupied per hour of the day (lot time) over a date range."""
    tz = request.app[SETTINGS].tz
    first, last = date_range(request, default_to=slots.today(tz), default_days=30)
    start, end = slots.range_bounds(first, last, tz)
    now = datetime.now(UTC)
    pool = request.app[POOL]
    rows = await repository.reports.occupancy_by_hour(
        pool, start=start, end=end, timezone=tz.key, now=now
    )
    no_show_rate = await repository.reports.no_show_rate(pool, start=start, end=end, now=now)
    return json_response(stats_json(first, last, tz, rows, no_show_rate))
