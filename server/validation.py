"""Parsing and checking of request bodies and query parameters into typed values."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from aiohttp import web

from .errors import BadRequest, ValidationFailed

# A route pattern for numeric ids, capped at 18 digits so an id always fits
# PostgreSQL's bigint; anything else is not a route, so it answers 404.
RESERVATION_ID = r"{id:\d{1,18}}"


def path_id(request: web.Request) -> int:
    """The {id} of a route declared with RESERVATION_ID."""
    return int(request.match_info["id"])


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object; the app's client_max_size bounds its size."""
    # request.read() raises 413 itself once the body passes client_max_size.
    raw = await request.read()
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The request body must be valid JSON.") from None
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    return body


def string_field(body: dict[str, Any], name: str, *, max_length: int = 1024) -> str:
    value = body.get(name)
    if value is None:
        raise ValidationFailed(f"'{name}' is required.")
    if not isinstance(value, str):
        raise ValidationFailed(f"'{name}' must be a string.")
    if not value.strip():
        raise ValidationFailed(f"'{name}' must not be empty.")
    if len(value) > max_length:
        raise ValidationFailed(f"'{name}' must be at most {max_length} characters.")
    # PostgreSQL text cannot hold NUL; refuse it here rather than fail in the query.
    if "\x00" in value:
        raise ValidationFailed(f"'{name}' must not contain NUL characters.")
    return value


def int_field(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if value is None:
        raise ValidationFailed(f"'{name}' is required.")
    # bool is an int in Python; true is not spot 1.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationFailed(f"'{name}' must be an integer.")
    if not 0 < value < 2**31:
        raise ValidationFailed(f"'{name}' must be a positive integer.")
    return value


EXAMPLE_INSTANT = "2026-11-21T08:00:00+01:00"
# Far wider than any real use, and far from datetime's year 1 and 9999 limits,
# where converting between zones would overflow.
MIN_DATE, MAX_DATE = date(2000, 1, 1), date(2100, 12, 31)


def instant_field(body: dict[str, Any], name: str) -> datetime:
    """An ISO 8601 timestamp that carries its UTC offset."""
    raw = string_field(body, name, max_length=64)
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(
            f"'{name}' must be an ISO 8601 timestamp with an offset, e.g. {EXAMPLE_INSTANT}."
        ) from None
    if value.utcoffset() is None:
        raise ValidationFailed(
            f"'{name}' has no UTC offset; send it with one, e.g. {EXAMPLE_INSTANT}."
        )
    if not MIN_DATE <= value.date() <= MAX_DATE:
        raise ValidationFailed(f"'{name}' must be between {MIN_DATE} and {MAX_DATE}.")
    return value


def date_param(request: web.Request, name: str, default: date) -> date:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        if len(raw) != 10:
            raise ValueError
        value = date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(f"'{name}' must be a date as YYYY-MM-DD, e.g. 2026-11-21.") from None
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValidationFailed(f"'{name}' must be between {MIN_DATE} and {MAX_DATE}.")
    return value
