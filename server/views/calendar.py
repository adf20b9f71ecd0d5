"""The private calendar feed: a driver's bookings for calendar apps, at a secret URL."""

from __future__ import annotations

from aiohttp import web

from .. import ical, repository
from ..auth import secret_hash
from ..db import POOL
from ..errors import NotFound
from ..settings import SETTINGS

routes = web.RouteTableDef()


# Public (see auth.PUBLIC_PATHS): the key in the path is the credential, and
# the access log redacts it (access_log.py).
@routes.get("/calendar/{key:[A-Za-z0-9_-]{1,64}}.ics")
async def calendar_feed(request: web.Request) -> web.Response:
    """RFC 5545, with an ETag so that calendar apps polling every hour cost little."""
    found = await repository.credentials.feed(
        request.app[POOL], key_hash=secret_hash(request.match_info["key"])
    )
    if found is None:
        raise NotFound("There is no calendar at this address; it may have been replaced.")
    name, reservations = found
    body = ical.render_feed(
        reservations, calendar_name=f"Smart Parking: {name}", timezone=request.app[SETTINGS].tz
    ).encode()
    etag = ical.etag_for(body)
    # Stored by the app, but revalidated each time: a booking may change any minute.
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if ical.not_modified(request.headers.get("If-None-Match"), etag):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type="text/calendar", charset="utf-8", headers=headers)
