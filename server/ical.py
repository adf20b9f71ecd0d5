"""A driver's reservations as an RFC 5545 calendar feed, and the ETag helpers for serving it."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

PRODID = "-//Smart Parking//Reservation feed 1.0//EN"
# The right-hand side of every UID. A constant, not the request's host, so that
# the same reservation keeps its UID whichever address the feed is fetched from.
UID_DOMAIN = "smart-parking"
# A hint for apps that honour it (RFC 7986; X-PUBLISHED-TTL for Outlook).
REFRESH_INTERVAL = "PT1H"
MAX_LINE_OCTETS = 75
# Raised whenever the rendering changes, so that feeds whose data did not
# change still get a new ETag (feed_etag) and are fetched again.
FORMAT_VERSION = "1"
# Events rendered between yields to the event loop: about 0.1 ms each, so a
# feed at its cap of 500 never holds the loop for more than a few ms at a time.
EVENTS_PER_STEP = 20
# Released before its end by someone: the booking did not happen as planned.
# 'expired' is the sweeper closing a booking that ran its course.
CANCELLING_RELEASES = frozenset({"user", "admin", "no_show"})
# TEXT may not hold control characters other than tab (RFC 5545 3.3.11).
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_RELEASES = {
    "user": "Released by you",
    "admin": "Released by the attendant",
    "no_show": "Released because nobody checked in",
    "expired": "Completed: the slot ended",
}
# An entity tag in a list (RFC 9110 8.8.3): etagc is any visible character but DQUOTE.
_ENTITY_TAG = re.compile(r'\s*(?:W/)?("[^"\x00-\x20\x7f]*")\s*(?:,|$)')


def render_feed(
    reservations: Iterable[Mapping[str, Any]], *, calendar_name: str, timezone: ZoneInfo
) -> str:
    """The whole VCALENDAR, CRLF line endings and folded lines included.

    Each reservation is a mapping with id, spot_number, floor_number,
    start_time, end_time, created_at (aware datetimes) and, optionally,
    completed_at, checked_in_at, released_by and release_reason. The output
    depends only on these values, so unchanged data gives the same bytes.
    `timezone` is the lot's; it names the calendar's zone and the wall-clock
    times in descriptions, while DTSTART/DTEND are UTC.
    """
    head, events, tail = _parts(reservations, calendar_name, timezone)
    return head + "".join(_lines(_event(r, timezone)) for r in events) + tail


async def render_feed_in_steps(
    reservations: Iterable[Mapping[str, Any]], *, calendar_name: str, timezone: ZoneInfo
) -> bytes:
    """render_feed's bytes, yielding to the event loop every EVENTS_PER_STEP events."""
    head, events, tail = _parts(reservations, calendar_name, timezone)
    pieces = [head]
    for start in range(0, len(events), EVENTS_PER_STEP):
        if start:
            await asyncio.sleep(0)
        pieces += (_lines(_event(r, timezone)) for r in events[start : start + EVENTS_PER_STEP])
    pieces.append(tail)
    return "".join(pieces).encode()


def _parts(
    reservations: Iterable[Mapping[str, Any]], calendar_name: str, timezone: ZoneInfo
) -> tuple[str, Sequence[Mapping[str, Any]], str]:
    """The calendar's head, its events in order, and its last line."""
    name = escape_text(calendar_name)
    head = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        # No METHOD: a subscribed feed is not a scheduling message, and with
        # METHOD every DTSTAMP would have to be the time of this rendering.
        f"NAME:{name}",
        f"X-WR-CALNAME:{name}",
        f"X-WR-TIMEZONE:{escape_text(timezone.key)}",
        f"REFRESH-INTERVAL;VALUE=DURATION:{REFRESH_INTERVAL}",
        f"X-PUBLISHED-TTL:{REFRESH_INTERVAL}",
    ]
    # Sorted, so the caller's row order cannot change the bytes.
    events = sorted(reservations, key=lambda r: (r["start_time"], r["id"]))
    return _lines(head), events, _lines(["END:VCALENDAR"])


def _lines(lines: list[str]) -> str:
    return "".join(fold(line) + "\r\n" for line in lines)


def is_cancelled(reservation: Mapping[str, Any]) -> bool:
    """Released by someone before its slot ended; released later, it ran its course."""
    completed_at = reservation.get("completed_at")
    return (
        reservation.get("released_by") in CANCELLING_RELEASES
        and completed_at is not None
        and completed_at < reservation["end_time"]
    )


def _event(reservation: Mapping[str, Any], tz: ZoneInfo) -> list[str]:
    cancelled = is_cancelled(reservation)
    place = f"spot #{reservation['spot_number']}, floor {reservation['floor_number']}"
    # Some apps show cancelled events like any other, so the summary says it too.
    summary = f"Cancelled: parking {place}" if cancelled else f"Parking {place}"
    # Without METHOD, DTSTAMP is when the event's information last changed
    # (RFC 5545 3.8.7.2): derived from the data, so refetching does not move it.
    changed = [reservation.get(key) for key in ("created_at", "completed_at", "checked_in_at")]
    revised = _utc(max(_utc_datetime(t) for t in changed if t is not None))
    return [
        "BEGIN:VEVENT",
        f"UID:reservation-{reservation['id']}@{UID_DOMAIN}",
        f"DTSTAMP:{revised}",
        f"CREATED:{_utc(reservation['created_at'])}",
        f"LAST-MODIFIED:{revised}",
        # A cancellation is a significant change, which must raise SEQUENCE (3.8.7.4).
        f"SEQUENCE:{1 if cancelled else 0}",
        f"DTSTART:{_utc(reservation['start_time'])}",
        f"DTEND:{_utc(reservation['end_time'])}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        f"SUMMARY:{escape_text(summary)}",
        f"LOCATION:{escape_text(place.capitalize())}",
        f"DESCRIPTION:{escape_text(_description(reservation, place, tz))}",
        # A cancelled booking no longer makes its owner busy.
        f"TRANSP:{'TRANSPARENT' if cancelled else 'OPAQUE'}",
        "END:VEVENT",
    ]


def _description(reservation: Mapping[str, Any], place: str, tz: ZoneInfo) -> str:
    """Lines for people: the slot in the lot's wall-clock time, check-in and release."""

    def local(moment: datetime) -> str:
        moment = moment.astimezone(tz)
        return f"{moment:%H:%M} on {moment:%a} {moment.day} {moment:%b}"

    start, end = reservation["start_time"].astimezone(tz), reservation["end_time"]
    lines = [f"Reservation {reservation['id']}: {place}, {start:%H:%M}–{local(end)} ({tz.key})."]
    if (checked_in_at := reservation.get("checked_in_at")) is not None:
        lines.append(f"Checked in at {local(checked_in_at)}.")
    if (completed_at := reservation.get("completed_at")) is not None:
        how = _RELEASES.get(reservation.get("released_by") or "", "Released")
        lines.append(f"{how} at {local(completed_at)}.")
    if reason := reservation.get("release_reason"):
        lines.append(f"Reason: {reason}")
    return "\n".join(lines)


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newline escaped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL_CHARACTERS.sub("", value)
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Split a content line into lines of at most 75 octets (RFC 5545 3.1).

    Continuation lines start with a space, which counts towards their 75
    octets. A cut never falls inside a UTF-8 sequence: it moves back to the
    start of the character, so every physical line is valid UTF-8.
    """
    if len(line) <= MAX_LINE_OCTETS and line.isascii():
        return line  # most lines: one octet a character, short enough
    data = line.encode()
    pieces = []
    limit = MAX_LINE_OCTETS
    while len(data) > limit:
        cut = limit
        while data[cut] & 0b1100_0000 == 0b1000_0000:  # a continuation byte
            cut -= 1
        pieces.append(data[:cut])
        data = data[cut:]
        limit = MAX_LINE_OCTETS - 1
    pieces.append(data)
    return b"\r\n ".join(pieces).decode()


def _utc_datetime(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        # A naive time would silently be read as the server's local time.
        raise ValueError(f"an aware datetime is required, got {moment!r}")
    return moment.astimezone(UTC)


def _utc(moment: datetime) -> str:
    """A DATE-TIME in UTC form, e.g. 20261122T080000Z (RFC 5545 3.3.5, form #2)."""
    utc = _utc_datetime(moment)
    # Spelled out: strftime costs several times as much, 20 times per event.
    return (
        f"{utc.year:04d}{utc.month:02d}{utc.day:02d}"
        f"T{utc.hour:02d}{utc.minute:02d}{utc.second:02d}Z"
    )


def feed_etag(digest: str, *, calendar_name: str, timezone: ZoneInfo) -> str:
    """A strong ETag for the feed, from a digest of its rows' data (not from its bytes).

    The digest comes from the database (repository.credentials.feed_version),
    so a 304 costs one small query and no rendering. Everything else the bytes
    depend on is hashed in too: the name, the zone and the rendering's version.
    Strong, because the same inputs render the same bytes.
    """
    parts = "\n".join((FORMAT_VERSION, calendar_name, timezone.key, digest))
    return f'"{hashlib.sha256(parts.encode()).hexdigest()[:32]}"'


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header matches `etag`, so the answer is 304.

    RFC 9110 13.1.2: "*" matches any current representation, and the
    comparison is weak, so W/"x" matches "x". Entity tags may contain commas,
    hence a parse rather than a split; unparsable members match nothing.
    """
    if if_none_match is None:
        return False
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return opaque in _ENTITY_TAG.findall(if_none_match)


class RenderedFeeds:
    """Feeds rendered lately, by ETag: a poll without If-None-Match whose data did not
    change costs a lookup, not a rendering. The least recently used go beyond max_bytes.
    """

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._bodies: OrderedDict[str, bytes] = OrderedDict()

    def get(self, etag: str) -> bytes | None:
        body = self._bodies.get(etag)
        if body is not None:
            self._bodies.move_to_end(etag)
        return body

    def put(self, etag: str, body: bytes) -> None:
        if etag in self._bodies or len(body) > self._max_bytes:
            return
        self._bodies[etag] = body
        self._bytes += len(body)
        while self._bytes > self._max_bytes:
            _, dropped = self._bodies.popitem(last=False)
            self._bytes -= len(dropped)


RENDERED_FEEDS = web.AppKey("rendered_feeds", RenderedFeeds)
