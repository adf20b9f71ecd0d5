"""What each notification says, in the lot's zone: its title and body, and its mail."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Notice:
    title: str
    body: str


def _instant(value: str, tz: ZoneInfo) -> datetime:
    return datetime.fromisoformat(value).astimezone(tz)


def _slot(data: dict[str, Any], tz: ZoneInfo) -> str:
    """E.g. "Spot #3 (floor 1) on Thursday 3 December 2026, 08:00–12:00"."""
    start, end = _instant(data["start_time"], tz), _instant(data["end_time"], tz)
    return (
        f"Spot #{data['spot_number']} (floor {data['floor_number']}) on "
        f"{start:%A} {start.day} {start:%B %Y}, {start:%H:%M}–{end:%H:%M}"
    )


def _plural(count: int | float, noun: str) -> str:
    return f"{count:g} {noun}{'' if count == 1 else 's'}"


def notice(kind: str, data: dict[str, Any], tz: ZoneInfo) -> Notice:
    """The words for one notification row (kind and data as the database wrote them)."""
    if kind == "booked_for_you":
        return Notice(
            "The attendant booked a spot for you",
            f"The attendant booked {_slot(data, tz)} for you.",
        )
    if kind == "waitlist_assigned":
        return Notice(
            "A spot came free: it is yours",
            f"You were first in line, so {_slot(data, tz)} is now booked for you.",
        )
    if kind == "booking_released":
        slot = _slot(data, tz)
        if data["cause"] == "no_show":
            return Notice(
                "Your booking was released: nobody checked in",
                f"Nobody checked in within {_plural(data['grace_minutes'], 'minute')} of the "
                f"start, so your booking of {slot} was released for other drivers.",
            )
        if data["cause"] == "closure":
            return Notice(
                "Your booking was released: the spot is closed",
                f"Your booking of {slot} was released because the spot is closed. "
                f"Reason: {data['reason']}",
            )
        return Notice(
            "The attendant released your booking",
            f"The attendant released your booking of {slot}. Reason: {data['reason']}",
        )
    if kind == "reminder":
        body = f"Reminder: you have booked {_slot(data, tz)}."
        if data.get("check_in_by"):
            by = _instant(data["check_in_by"], tz)
            body += f" Check in by {by:%H:%M}, or the booking is released for other drivers."
        return Notice(f"Your booking starts at {_instant(data['start_time'], tz):%H:%M}", body)
    if kind == "monthly_summary":
        month = date.fromisoformat(data["month"])
        body = (
            f"In {month:%B %Y} you had {_plural(data['bookings'], 'booking')}, parked for "
            f"{_plural(data['hours'], 'hour')}, and missed {_plural(data['no_shows'], 'booking')} "
            "(no-shows)."
        )
        if data.get("top_spot_number") is not None:
            body += f" The spot you used most: #{data['top_spot_number']}."
        return Notice(f"Your parking in {month:%B %Y}", body)
    raise ValueError(f"unknown notification kind {kind!r}")


def message_id(notification_id: int, created_at: datetime, mail_from: str) -> str:
    """The same for every attempt at one notification's mail, so a resend can be recognised."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"
    return f"<notification-{notification_id}.{int(created_at.timestamp() * 1e6)}@{domain}>"


def mail(
    row: dict[str, Any], *, mail_from: str, base_url: str, tz: ZoneInfo
) -> EmailMessage:
    """The mail for one notification: plain text and HTML, a link to the app and no token."""
    words = notice(row["kind"], row["data"], tz)
    link = f"{base_url}/"
    message = EmailMessage()
    message["Subject"] = words.title
    message["From"] = mail_from
    message["To"] = row["email"]
    message["Date"] = formatdate(row["created_at"].timestamp(), localtime=False)
    message["Message-ID"] = message_id(row["notification_id"], row["created_at"], mail_from)
    message["Auto-Submitted"] = "auto-generated"
    name = row["display_name"]
    message.set_content(
        f"Hello {name},\n\n{words.body}\n\nOpen Smart Parking: {link}\n\n"
        "You can turn these mails off in Smart Parking's notification settings.\n"
    )
    message.add_alternative(
        "<!doctype html><html><body>"
        f"<p>Hello {html.escape(name)},</p>"
        f"<p>{html.escape(words.body)}</p>"
        f'<p><a href="{html.escape(link)}">Open Smart Parking</a></p>'
        "<p><small>You can turn these mails off in Smart Parking's notification "
        "settings.</small></p>"
        "</body></html>",
        subtype="html",
    )
    return message


