"""Parsing and checking of request bodies and query parameters into typed values."""

from __future__ import annotations

import asyncio
import json
import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from . import slots
from .errors import BadRequest, BodyTimeout, ValidationFailed
from .plates import MAX_LICENCE_PLATE, spelled_plate
from .settings import SETTINGS

# Route patterns for numeric ids, capped so an id always fits its column
# (bigint; spots.id is an integer); anything else is not a route: a 404.
ID_PARAM = r"{id:\d{1,18}}"
SPOT_ID_PARAM = r"{id:\d{1,9}}"


def path_id(request: web.Request) -> int:
    """The {id} of a route declared with ID_PARAM or SPOT_ID_PARAM."""
    return int(request.match_info["id"])


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object; client_max_size bounds its size, a setting its time."""
    raw = await _body(request)
    try:
        body = json.loads(raw)
    except RecursionError:
        raise BadRequest("The request body is nested too deeply.") from None
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The request body must be valid JSON.") from None
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    return body


async def _body(request: web.Request) -> bytes:
    try:
        async with asyncio.timeout(request.app[SETTINGS].request_body_timeout_seconds):
            # request.read() raises 413 itself once the body passes client_max_size.
            return await request.read()
    except TimeoutError:
        # Raised as its own error: the error middleware takes a bare TimeoutError
        # for a database outage.
        raise BodyTimeout(
            "The request body did not arrive in time.", headers={"Connection": "close"}
        ) from None
    except web.RequestPayloadError:
        raise BadRequest(
            "The request body could not be read: it does not match its Content-Encoding "
            "or its chunked framing."
        ) from None
    except ConnectionResetError:
        # The client left mid-body and will read no answer; this is no database
        # outage, which is what the error middleware takes an OSError for.
        raise BadRequest("The connection closed before the request body arrived.") from None


def string_field(
    body: dict[str, Any], name: str, *, max_length: int = 1024, label: str | None = None
) -> str:
    """A required, non-blank string; `label` names a nested field in messages ("guest.name")."""
    label = label or name
    value = body.get(name)
    if value is None:
        raise ValidationFailed(f"'{label}' is required.")
    if not isinstance(value, str):
        raise ValidationFailed(f"'{label}' must be a string.")
    if not value.strip():
        raise ValidationFailed(f"'{label}' must not be empty.")
    if len(value) > max_length:
        raise ValidationFailed(f"'{label}' must be at most {max_length} characters.")
    # PostgreSQL text cannot hold NUL; refuse it here rather than fail in the query.
    if "\x00" in value:
        raise ValidationFailed(f"'{label}' must not contain NUL characters.")
    # JSON may spell a lone surrogate ("\udfff"), which no UTF-8 text can hold.
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValidationFailed(f"'{label}' must be valid Unicode text.") from None
    return value


# Letters that render as nothing (Hangul fillers, the blank Braille pattern).
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _visible(char: str) -> bool:
    # Letters, numbers, punctuation and symbols; not spaces, marks alone or formats.
    return unicodedata.category(char)[0] in "LNPS" and char not in _BLANK_LETTERS


def visible_text_field(
    body: dict[str, Any], name: str, *, max_length: int, label: str | None = None
) -> str:
    """A string_field that people read: with a visible character, trimmed, no invisible tricks.

    Format characters (Unicode Cf: bidi controls such as U+202E, zero-width
    spaces and joiners, U+FEFF) are removed: they can hide text or reorder
    what is shown beside them. Control characters (ESC sequences among them)
    are refused: no name, plate or reason has one, and a terminal or a
    spreadsheet would act on it.
    """
    label = label or name
    raw = string_field(body, name, max_length=max_length, label=label)
    if any(unicodedata.category(c) == "Cc" for c in raw):
        raise ValidationFailed(f"'{label}' must not contain control characters.")
    text = "".join(c for c in raw if unicodedata.category(c) != "Cf").strip()
    if not any(_visible(c) for c in text):
        raise ValidationFailed(f"'{label}' must contain at least one visible character.")
    return text


# The attendant's reasons (a release, a closure); the tables' CHECKs say the same.
# GET /lot tells the browser these limits, so its forms agree with them.
MAX_REASON = 200
MAX_GUEST_NAME = 100
MAX_SPOT_NUMBER = 9999
# Basements to a tall structure.
MIN_FLOOR, MAX_FLOOR = -20, 200
# A driver's vehicles: the vehicles_label_length CHECK and the
# vehicles_enforce_limit trigger say the same.
MAX_VEHICLE_LABEL = 40
MAX_VEHICLES_PER_DRIVER = 3


def reason_field(body: dict[str, Any]) -> str:
    """The attendant's 'reason', as their drivers will read it."""
    return visible_text_field(body, "reason", max_length=MAX_REASON)


def int_field(
    body: dict[str, Any], name: str, *, minimum: int = 1, maximum: int = 2**31 - 1
) -> int:
    value = body.get(name)
    if value is None:
        raise ValidationFailed(f"'{name}' is required.")
    # bool is an int in Python; true is not spot 1.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationFailed(f"'{name}' must be an integer.")
    if not minimum <= value <= maximum:
        if minimum == 1 and maximum == 2**31 - 1:
            raise ValidationFailed(f"'{name}' must be a positive integer.")
        raise ValidationFailed(f"'{name}' must be between {minimum} and {maximum}.")
    return value


def optional_vehicle_id(body: dict[str, Any]) -> int | None:
    """A booking's 'vehicle_id', if sent; the database checks it is the driver's own."""
    if body.get("vehicle_id") is None:
        return None
    return int_field(body, "vehicle_id", maximum=10**18)


def bool_field(body: dict[str, Any], name: str) -> bool:
    value = body.get(name)
    if not isinstance(value, bool):
        raise ValidationFailed(f"'{name}' must be true or false.")
    return value


def only_fields(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    """Refuse a field this body cannot have, naming it, rather than ignore it."""
    unknown = sorted(body.keys() - set(allowed))
    if unknown:
        raise ValidationFailed(f"Unknown field '{unknown[0]}'; send {', '.join(allowed)}.")


def object_field(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    if not isinstance(value, dict):
        raise ValidationFailed(f"'{name}' must be an object.")
    return value


def choice_field(body: dict[str, Any], name: str, choices: tuple[str, ...]) -> str:
    value = body.get(name)
    if value not in choices:
        raise ValidationFailed(f"'{name}' must be one of: {', '.join(choices)}.")
    return value


SPOT_TYPES = ("regular", "handicap")


def any_spot_type(body: dict[str, Any]) -> str:
    """The type of spot a booking without a spot_id asks for; accessible spots only when asked."""
    if body.get("spot_type") is None:
        return "regular"
    return choice_field(body, "spot_type", SPOT_TYPES)


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


def int_param(request: web.Request, name: str, *, maximum: int) -> int:
    """A positive integer query parameter, at most `maximum`."""
    raw = request.query.get(name, "")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19) or not 1 <= int(raw) <= maximum:
        raise ValidationFailed(f"'{name}' must be an integer from 1 to {maximum}.")
    return int(raw)


def _lot_date(value: object, name: str) -> date:
    """A lot date, YYYY-MM-DD, from MIN_DATE to MAX_DATE; a 422 naming the field otherwise."""
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        day = date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"'{name}' must be a date as YYYY-MM-DD, e.g. 2026-11-21.") from None
    if not MIN_DATE <= day <= MAX_DATE:
        raise ValidationFailed(f"'{name}' must be between {MIN_DATE} and {MAX_DATE}.")
    return day


def date_field(body: dict[str, Any], name: str) -> date:
    """A required lot date in a body."""
    return _lot_date(body.get(name), name)


def date_param(request: web.Request, name: str, default: date) -> date:
    """A lot date in the query string, or `default` without one."""
    raw = request.query.get(name)
    return default if raw is None else _lot_date(raw, name)


# Ranges of lot dates (reports, exports, closures) are capped at about a year.
MAX_RANGE_DAYS = 366


def date_range(request: web.Request, *, default_to: date, default_days: int) -> tuple[date, date]:
    """?from= and ?to= (inclusive lot dates); `from` defaults to `default_days` before `to`."""
    last = date_param(request, "to", default=default_to)
    first = date_param(request, "from", default=last - timedelta(days=default_days - 1))
    if last < first:
        raise ValidationFailed("'from' must be on or before 'to'.")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise ValidationFailed(f"The range may cover at most {MAX_RANGE_DAYS} days.")
    return first, last


def booking_fields(body: dict[str, Any], tz: ZoneInfo, *, now: datetime) -> dict[str, Any]:
    """A booking's spot_id, slot and the lot's today, as repository.reservations.book takes them.

    Drivers' and the attendant's bookings share these fields and their rules.
    """
    spot_id = int_field(body, "spot_id")
    slot = slots.bookable_slot(
        instant_field(body, "start_time"), instant_field(body, "end_time"), tz, now=now
    )
    return {"spot_id": spot_id, "slot": slot, "lot_today": now.astimezone(tz).date()}


def any_spot_fields(body: dict[str, Any], tz: ZoneInfo, *, now: datetime) -> dict[str, Any]:
    """A booking without a spot_id: its spot_type, slot and the lot's today, for free_spots.book_any."""
    slot = slots.bookable_slot(
        instant_field(body, "start_time"), instant_field(body, "end_time"), tz, now=now
    )
    return {"spot_type": any_spot_type(body), "slot": slot, "lot_today": now.astimezone(tz).date()}


def guest_fields(body: dict[str, Any]) -> dict[str, str]:
    """A walk-in's 'guest': {name, licence_plate}, as repository.reservations.book takes them."""
    guest = object_field(body, "guest")
    name = visible_text_field(guest, "name", max_length=MAX_GUEST_NAME, label="guest.name")
    # Plates are read off cars: one spelling, whatever the attendant typed.
    plate = spelled_plate(
        visible_text_field(guest, "licence_plate", max_length=1024, label="guest.licence_plate"),
        label="guest.licence_plate",
    )
    return {"guest_name": name, "licence_plate": plate}


# Pages of a list (GET /reservations, GET /me/tokens): `limit` rows, newest
# first, older than the `before` cursor.
DEFAULT_PAGE, MAX_PAGE = 50, 200
_CURSOR = re.compile(r"[0-9]{1,18}")


def page_params(request: web.Request) -> tuple[int, int | None]:
    """?limit= (1 to MAX_PAGE, default DEFAULT_PAGE) and ?before= (an id from `next`)."""
    raw_limit = request.query.get("limit", str(DEFAULT_PAGE))
    if not re.fullmatch(r"[0-9]{1,4}", raw_limit) or not 1 <= int(raw_limit) <= MAX_PAGE:
        raise ValidationFailed(f"'limit' must be an integer from 1 to {MAX_PAGE}.")
    raw_before = request.query.get("before")
    if raw_before is not None and not (_CURSOR.fullmatch(raw_before) and int(raw_before) > 0):
        raise ValidationFailed("'before' must be the cursor from a previous page's 'next'.")
    return int(raw_limit), None if raw_before is None else int(raw_before)


def next_page(request: web.Request, rows: list[Any], limit: int, cursor: str) -> str | None:
    """The link to the page after `rows` (fetched with limit + 1), or None if it is the last.

    Relative, with the request's other parameters kept: it needs no idea of
    the server's public address.
    """
    if len(rows) <= limit:
        return None
    return str(request.rel_url.update_query(limit=limit, before=rows[limit - 1][cursor]))
