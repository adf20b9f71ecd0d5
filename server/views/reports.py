"""Reports: occupancy by hour of day, and a driver's history as CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from aiohttp import web

from .. import repository, slots
from ..auth import USER_ID
from ..db import POOL
from ..errors import ValidationFailed
from ..responses import json_response
from ..settings import SETTINGS
from ..slots import local_time
from ..validation import date_param

routes = web.RouteTableDef()


@routes.get("/reservations/export.csv")
async def export_reservations(request: web.Request) -> web.StreamResponse:
    """The caller's history as CSV, streamed row by row from a database cursor."""
    tz = request.app[SETTINGS].tz
    filename = f"smart-parking-reservations-{slots.today(tz).isoformat()}.csv"
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"',
        }
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    async with repository.reports.export_reservations(
        request.app[POOL], user_id=request[USER_ID]
    ) as cursor:
        await response.prepare(request)
        while rows := await cursor.fetch(500):
            writer.writerows(
                [
                    row["id"],
                    row["spot_number"],
                    row["floor_number"],
                    local_time(row["start_time"], tz),
                    local_time(row["end_time"], tz),
                    row["status"],
                    local_time(row["completed_at"], tz) or "",
                    row["released_by"] or "",
                ]
                for row in rows
            )
            await response.write(buffer.getvalue().encode())
            buffer.seek(0)
            buffer.truncate()
        await response.write(buffer.getvalue().encode())  # the header, if there were no rows
    await response.write_eof()
    return response


EXPORT_COLUMNS = (
    "id",
    "spot_number",
    "floor",
    "start",
    "end",
    "status",
    "completed_at",
    "released_by",
)
MAX_STATS_DAYS = 366


@routes.get("/stats")
async def occupancy_stats(request: web.Request) -> web.Response:
    """Average spots occupied per hour of the day (lot time) over a date range."""
    settings = request.app[SETTINGS]
    tz = settings.tz
    today = slots.today(tz)
    last = date_param(request, "to", default=today)
    first = date_param(request, "from", default=last - timedelta(days=29))
    if last < first:
        raise ValidationFailed("'from' must be on or before 'to'.")
    if (last - first).days + 1 > MAX_STATS_DAYS:
        raise ValidationFailed(f"The range may cover at most {MAX_STATS_DAYS} days.")
    start, _ = slots.day_bounds(first, tz)
    _, end = slots.day_bounds(last, tz)
    rows = await repository.reports.occupancy_by_hour(
        request.app[POOL], start=start, end=end, timezone=tz.key, now=datetime.now(UTC)
    )
    spot_count = rows[0]["spot_count"]
    hours = [
        {
            "hour": row["hour"],
            "average_occupied": round(row["average_occupied"], 4),
            "occupancy_ratio": round(row["average_occupied"] / spot_count, 4)
            if spot_count
            else 0.0,
        }
        for row in rows
    ]
    peak = max((h["average_occupied"] for h in hours), default=0.0)
    return json_response(
        {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "timezone": tz.key,
            "spot_count": spot_count,
            "hours": hours,
            # No occupancy at all means no peak, rather than all 24 hours tied.
            "peak_hours": [h["hour"] for h in hours if peak > 0 and h["average_occupied"] == peak],
        }
    )
