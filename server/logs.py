"""Log lines as text or JSON (LOG_FORMAT), each with the id and user of the request behind it."""

from __future__ import annotations

import json
import logging
import logging.handlers
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from aiohttp import web

from .auth import IDENTITY
from .errors import Handler

REQUEST_ID_HEADER = "X-Request-Id"
# A caller's own id is kept if it is short and printable (visible ASCII, no
# spaces): it is written into every log line, so it must not forge one.
_USABLE_REQUEST_ID = re.compile(r"[!-~]{1,64}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Each request runs in a task of its own, with its own copy of the context: a
# value set by a middleware is seen by every line logged for that request,
# the access line included, and by no other request.
_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_user_id: ContextVar[int | None] = ContextVar("user_id", default=None)
REQUEST_ID = web.RequestKey("request_id", str)


def request_id_for(supplied: str | None) -> str:
    """The caller's X-Request-Id if it is usable, else a new one."""
    if supplied is not None and _USABLE_REQUEST_ID.fullmatch(supplied):
        return supplied
    return uuid.uuid4().hex


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Names the request for its log lines; echo_request_id puts the name in the answer."""
    request_id = request_id_for(request.headers.get(REQUEST_ID_HEADER))
    request[REQUEST_ID] = request_id
    _request_id.set(request_id)
    return await handler(request)


@web.middleware
async def user_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """After the identity middleware: from here on, log lines say whose request it is."""
    identity = request.get(IDENTITY)
    if identity is not None:
        _user_id.set(identity.user_id)
    return await handler(request)


async def echo_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every answer, streamed or WebSocket too, carries its request id."""
    request_id = request.get(REQUEST_ID)
    if request_id is not None:
        response.headers[REQUEST_ID_HEADER] = request_id


class _RequestContext(logging.Filter):
    """Adds request_id and user_id (None outside a request) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        record.user_id = _user_id.get()
        return True


class TextFormatter(logging.Formatter):
    """The usual human-readable line, with the request's id and user after the message."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        line = super().formatMessage(record)
        request_id = getattr(record, "request_id", None)
        if request_id is None:
            return line
        user_id = getattr(record, "user_id", None)
        return line + f" [request {request_id}" + (f", user {user_id}]" if user_id else "]")


# aiohttp's access logger passes its format's fields as `extra`.
_ACCESS_FIELDS = {
    "remote_address": "remote",
    "first_request_line": "request",
    "response_status": "status",
    "response_size": "bytes",
    "request_time_frac": "seconds",
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, user_id, and more."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "user_id": getattr(record, "user_id", None),
        }
        for attribute, name in _ACCESS_FIELDS.items():
            if hasattr(record, attribute):
                line[name] = getattr(record, attribute)
        headers = getattr(record, "request_header", None)
        if isinstance(headers, dict):
            line["user_agent"] = headers.get("User-Agent")
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def handler(log_format: str, stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing `log_format` ("text" or "json") lines to `stream` (stderr)."""
    written = logging.StreamHandler(stream or sys.stderr)
    written.addFilter(_RequestContext())
    written.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    return written


def hold() -> logging.handlers.MemoryHandler:
    """Keep what is logged before the format is known (while settings are read) for configure()."""
    held = logging.handlers.MemoryHandler(capacity=10_000, flushLevel=logging.CRITICAL + 1)
    root = logging.getLogger()
    root.addHandler(held)
    root.setLevel(logging.INFO)
    return held


def configure(log_format: str, held: logging.handlers.MemoryHandler | None = None) -> None:
    """Send every log line, and Python's warnings, to stderr in `log_format`."""
    written = handler(log_format)
    if held is not None:
        # basicConfig closes the handlers it replaces: this one flushes to the new.
        held.setTarget(written)
    logging.basicConfig(level=logging.INFO, handlers=[written], force=True)
    logging.captureWarnings(True)
