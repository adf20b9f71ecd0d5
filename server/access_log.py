"""Logged paths without secrets: a calendar feed's and the lobby's keys are credentials, yet sit in URLs."""

from __future__ import annotations

import re

from aiohttp import web

# Calendar apps cannot send headers, nor can a screen in the entrance sign in,
# so the feed's key is in its path and the lobby's in its query: the secrets
# allowed in a URL (see docs/security.md). Every log line shows them redacted.
_FEED_KEY = re.compile(r"^/calendar/[^/?]*\.ics")
REDACTED_FEED = "/calendar/REDACTED.ics"
_LOBBY_PATH = re.compile(r"^/lobby(/board)?$")
_QUERY_KEY = re.compile(r"(?<=[?&])key=[^&#]*")
REDACTED_KEY = "key=REDACTED"
# aiohttp's usual line, and the seconds the answer took.
ACCESS_LOG_FORMAT = web.AccessLogger.LOG_FORMAT + " %Tf"


def loggable(path: str) -> str:
    """The path, or path and query, with any feed or lobby key replaced."""
    if _LOBBY_PATH.match(path.partition("?")[0]):
        return _QUERY_KEY.sub(REDACTED_KEY, path)
    return _FEED_KEY.sub(REDACTED_FEED, path)


class RedactingAccessLogger(web.AccessLogger):
    """aiohttp's access log, in its usual format, for a request whose path is redacted."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        if _FEED_KEY.match(request.path) or _LOBBY_PATH.match(request.path):
            request = request.clone(rel_url=loggable(request.rel_url.path_qs))
        super().log(request, response, time)
