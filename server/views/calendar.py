"""The private calendar feed: a driver's bookings for calendar apps, at a secret URL."""

from __future__ import annotations

from aiohttp import web

from .. import ical, repository
from ..auth import secret_hash
from ..db import POOL
from ..errors import NotFound
from ..settings import SETTINGS

routes = web.RouteTableDef()

# Events in one feed at most: every booked one and the latest released ones.
MAX_FEED_EVENTS = 500
# Rendered feeds kept for polls without If-None-Match: a feed at its cap is
# about 200 KB, most are a few KB.
RENDERED_FEEDS_BYTES = 16 * 1024 * 1024


# Public (see auth.PUBLIC_PATHS): the key in the path is the credential, and
# the access log redacts it (access_log.py).
@routes.get("/calendar/{key:[A-Za-z0-9_-]{1,64}}.ics")
async def calendar_feed(request: web.Request) -> web.Response:
    """RFC 5545, with an ETag so that calendar apps polling every hour cost little."""
    pool, tz = request.app[POOL], request.app[SETTINGS].tz
    found = await repository.credentials.feed_version(
        pool, key_hash=secret_hash(request.match_info["key"]), limit=MAX_FEED_EVENTS
    )
    if found is None:
        raise NotFound("There is no calendar at this address; it may have been replaced.")
    name = f"Smart Parking: {found['display_name']}"
    # Compared before anything is read or rendered: a poll that finds no change costs
    # two small queries.
    etag = ical.feed_etag(found["digest"], calendar_name=name, timezone=tz)
    if ical.not_modified(request.headers.get("If-None-Match"), etag):
        return web.Response(status=304, headers=_cache_headers(etag))
    feeds = request.app[ical.RENDERED_FEEDS]
    if (body := feeds.get(etag)) is None:
        # Read again with its digest from one snapshot: a booking made since the
        # first query is in both the body and its ETag.
        digest, reservations = await repository.credentials.feed(
            pool, user_id=found["user_id"], limit=MAX_FEED_EVENTS
        )
        etag = ical.feed_etag(digest, calendar_name=name, timezone=tz)
        body = await ical.render_feed_in_steps(reservations, calendar_name=name, timezone=tz)
        feeds.put(etag, body)
    return web.Response(
        body=body, content_type="text/calendar", charset="utf-8", headers=_cache_headers(etag)
    )


def _cache_headers(etag: str) -> dict[str, str]:
    # Stored by the app, but revalidated each time: a booking may change any minute.
    return {"ETag": etag, "Cache-Control": "private, no-cache"}
