"""Reports: occupancy by hour of day, histories as CSV, and the attendant's audit trail."""

from __future__ import annotations

import csv
import io
import logging
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from aiohttp import web
from asyncpg.cursor import Cursor

from .. import repository, slots
from ..auth import IDENTITY
from ..db import POOL
from ..errors import ValidationFailed
from ..responses import json_response
from ..settings import SETTINGS
from ..shapes import audit_record_json, stats_json
from ..slots import local_time
from ..validation import date_range, int_param

log = logging.getLogger(__name__)

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
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@routes.get("/reservations/export.csv")
async def export_own(request: web.Request) -> web.StreamResponse:
    """The caller's history as CSV, streamed row by row from a database cursor."""
    tz = request.app[SETTINGS].tz
    rows = repository.reports.export_own(request.app[POOL], user_id=request[IDENTITY].user_id)
    filename = f"smart-parking-reservations-{slots.today(tz).isoformat()}.csv"
    return await _stream_csv(request, rows, OWN_COLUMNS, filename)


@routes.get("/admin/reservations/export.csv")
async def export_all(request: web.Request) -> web.StreamResponse:
    """Everyone's reservations starting from ?from= to ?to= (lot dates), for the attendant."""
    tz = request.app[SETTINGS].tz
    first, last = date_range(request, default_to=slots.today(tz), default_days=30)
    start, end = slots.range_bounds(first, last, tz)
    rows = repository.reports.export_all(request.app[POOL], start=start, end=end)
    filename = f"smart-parking-all-reservations-{first.isoformat()}-to-{last.isoformat()}.csv"
    return await _stream_csv(request, rows, ALL_COLUMNS, filename)


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
    """The same records, all of them, as CSV; before/after as JSON text."""
    rows = repository.audit.export_records(request.app[POOL], **_audit_filters(request))
    filename = f"smart-parking-audit-{slots.today(request.app[SETTINGS].tz).isoformat()}.csv"
    return await _stream_csv(request, rows, AUDIT_COLUMNS, filename)


async def _stream_csv(
    request: web.Request,
    rows: AbstractAsyncContextManager[Cursor],
    columns: tuple[tuple[str, str], ...],
    filename: str,
) -> web.StreamResponse:
    tz = request.app[SETTINGS].tz
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"',
        }
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([header for header, _ in columns])
    async with rows as cursor:
        # Only once the query has run: a database failure is still a JSON 503.
        await response.prepare(request)
        while batch := await cursor.fetch(500):
            writer.writerows([_cell(row[name], tz) for _, name in columns] for row in batch)
            if not await _send(response, buffer):
                return response
        if not await _send(response, buffer):  # the header, if there were no rows
            return response
    await response.write_eof()
    return response


async def _send(response: web.StreamResponse, buffer: io.StringIO) -> bool:
    """Write what the CSV writer buffered; False if the client has gone."""
    try:
        await response.write(buffer.getvalue().encode())
    except ConnectionResetError:
        # Not the database's fault: stop reading rows and free the connection.
        log.info("CSV export stopped: the client went away")
        return False
    buffer.seek(0)
    buffer.truncate()
    return True


def _cell(value: object, tz: ZoneInfo) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return local_time(value, tz)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value  # shown as text, never run (OWASP's CSV injection advice)
    return value


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
