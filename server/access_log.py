"""Logged paths without secrets: a calendar feed's key is its credential, yet it sits in the URL."""

from __future__ import annotations

import re

from aiohttp import web

# Calendar apps cannot send headers, so the feed's key is in its path: the one
# secret allowed in a URL (see the README). Every log line shows it redacted.
_FEED_KEY = re.compile(r"^/calendar/[^/?]*\.ics")
REDACTED_FEED = "/calendar/REDACTED.ics"


def loggable(path: str) -> str:
    """The path, or path and query, with any feed key replaced."""
    return _FEED_KEY.sub(REDACTED_FEED, path)


class RedactingAccessLogger(web.AccessLogger):
    """aiohttp's access log, in its usual format, for a request whose path is redacted."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        if _FEED_KEY.match(request.path):
            request = request.clone(rel_url=loggable(request.rel_url.path_qs))
        super().log(request, response, time)
