"""server/ical.py: the calendar feed read back by a real iCalendar parser, and its ETag helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from server.ical import RenderedFeeds, feed_etag, fold, not_modified, render_feed, render_feed_in_steps

PARIS = ZoneInfo("Europe/Paris")
# 08:00–12:00 in Paris on a winter day (UTC+1).
START = datetime(2026, 11, 23, 8, tzinfo=PARIS)
END = START + timedelta(hours=4)
BOOKED_AT = datetime(2026, 11, 20, 17, 30, 12, 345678, tzinfo=UTC)


def reservation(id: int = 1, **changes: Any) -> dict[str, Any]:
    """A booked reservation of spot #3 on floor 1, as the repository returns it."""
    return {
        "id": id,
        "spot_number": 3,
        "floor_number": 1,
        "start_time": START,
        "end_time": END,
        "status": "booked",
        "created_at": BOOKED_AT,
        "completed_at": None,
        "released_by": None,
        "release_reason": None,
        "checked_in_at": None,
        **changes,
    }


def released(id: int, by: str, at: datetime, reason: str | None = None) -> dict[str, Any]:
    return reservation(id, status="completed", released_by=by, completed_at=at, release_reason=reason)


def render(*reservations: dict[str, Any], name: str = "Smart Parking") -> str:
    return render_feed(reservations, calendar_name=name, timezone=PARIS)


def events(body: str) -> dict[str, icalendar.Event]:
    """The feed's events by UID, as a calendar app's parser reads them."""
    calendar = icalendar.Calendar.from_ical(body)
    found = {str(event["UID"]): event for event in calendar.walk("VEVENT")}
    assert len(found) == len(calendar.walk("VEVENT")), "UIDs must be unique"
    return found


def only_event(body: str) -> icalendar.Event:
    (event,) = events(body).values()
    return event


def test_the_calendar_declares_version_prodid_scale_and_name():
    calendar = icalendar.Calendar.from_ical(render(name="Driver 1's parking"))
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]).startswith("-//Smart Parking//")
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    assert calendar.calendar_name == "Driver 1's parking"
    assert "METHOD" not in calendar
    assert calendar.walk("VEVENT") == []


def test_each_reservation_is_one_event_whose_uid_survives_refetching():
    body = render(reservation(7), reservation(8, start_time=START + timedelta(days=1)))
    assert set(events(body)) == {"reservation-7@smart-parking", "reservation-8@smart-parking"}
    # A later fetch, after a release changed the other booking, keeps the UIDs.
    later = render(reservation(7), released(8, "user", BOOKED_AT + timedelta(hours=1)))
    assert set(events(later)) == set(events(body))


def test_times_are_utc_instants():
    event = only_event(render(reservation()))
    assert event["DTSTART"].to_ical() == b"20261123T070000Z"
    assert event["DTEND"].to_ical() == b"20261123T110000Z"
    assert event["DTSTART"].dt == START and event["DTEND"].dt == END
    assert event["DTSTART"].dt.utcoffset() == timedelta(0)
    assert "TZID" not in event["DTSTART"].params


def test_summary_and_location_name_the_spot_and_the_floor():
    event = only_event(render(reservation(spot_number=12, floor_number=3)))
    assert str(event["SUMMARY"]) == "Parking spot #12, floor 3"
    assert str(event["LOCATION"]) == "Spot #12, floor 3"
    assert "08:00–12:00 on Mon 23 Nov (Europe/Paris)" in str(event["DESCRIPTION"])


@pytest.mark.parametrize("released_by", ["user", "admin", "no_show"])
def test_a_booking_released_before_its_end_is_cancelled_with_a_higher_sequence(released_by):
    before = only_event(render(reservation()))
    after = only_event(render(released(1, released_by, START + timedelta(minutes=30))))
    assert (str(before["STATUS"]), before["SEQUENCE"]) == ("CONFIRMED", 0)
    assert str(after["STATUS"]) == "CANCELLED"
    assert after["SEQUENCE"] > before["SEQUENCE"]
    assert str(after["SUMMARY"]).startswith("Cancelled: ")
    assert str(after["TRANSP"]) == "TRANSPARENT"
    assert "at 08:30 on Mon 23 Nov." in str(after["DESCRIPTION"])
    assert after["DTSTART"].dt == START, "a cancelled event keeps its time, so apps can match it"


def test_a_booking_that_ran_its_course_stays_confirmed():
    expired = only_event(render(released(1, "expired", END + timedelta(seconds=40))))
    released_late = only_event(render(released(2, "user", END + timedelta(seconds=5))))
    for event in (expired, released_late):
        assert (str(event["STATUS"]), event["SEQUENCE"], str(event["TRANSP"])) == ("CONFIRMED", 0, "OPAQUE")


def test_dtstamp_is_the_last_change_of_the_reservation_not_the_time_of_the_fetch():
    checked_in = START + timedelta(minutes=5)
    released_at = START + timedelta(minutes=50)
    feed = events(
        render(
            reservation(1),
            reservation(2, checked_in_at=checked_in),
            released(3, "admin", released_at, "Lift repair") | {"checked_in_at": checked_in},
        )
    )
    stamps = {uid.split("@")[0]: event["DTSTAMP"].dt for uid, event in feed.items()}
    assert stamps == {
        "reservation-1": BOOKED_AT.replace(microsecond=0),
        "reservation-2": checked_in,
        "reservation-3": released_at,
    }
    assert all(event["LAST-MODIFIED"].dt == event["DTSTAMP"].dt for event in feed.values())
    assert all(event["CREATED"].dt == BOOKED_AT.replace(microsecond=0) for event in feed.values())


def test_the_same_data_renders_the_same_bytes_in_any_order():
    rows = [reservation(1), released(2, "user", BOOKED_AT), reservation(3, start_time=START - timedelta(days=2))]
    first = render(*rows)
    assert render(*reversed(rows)) == first
    starts = [event["DTSTART"].dt for event in events(first).values()]
    assert starts == sorted(starts)


def test_text_values_are_escaped_and_read_back_exactly():
    reason = 'Resurfacing; level 2, bay "B" \\ back at 14:00\nCall the desk,\r\nthanks'
    body = render(released(1, "admin", START, reason), name="Lot; north, \\ east")
    unfolded = body.replace("\r\n ", "")
    assert r"Resurfacing\; level 2\, bay" in unfolded
    assert r"\\ back at 14:00\nCall the desk\,\nthanks" in unfolded
    # Checked raw: icalendar leaves X- properties unparsed, though their type is TEXT (3.8.8.2).
    assert r"X-WR-CALNAME:Lot\; north\, \\ east" in unfolded
    event = only_event(body)
    assert str(event["DESCRIPTION"]).endswith(
        'Reason: Resurfacing; level 2, bay "B" \\ back at 14:00\nCall the desk,\nthanks'
    )


def test_control_characters_are_dropped_from_text():
    event = only_event(render(released(1, "admin", START, "bell\x07 and\x00 null\x1b\ttab")))
    assert str(event["DESCRIPTION"]).endswith("Reason: bell and null\ttab")


def test_lines_end_with_crlf_and_fold_at_75_octets_between_characters():
    # Multi-octet characters of every width at every offset from the fold point.
    reason = "Réservé à l'équipe ✓ 駐車場 " * 6 + "🚗" * 40
    body = render(released(1, "admin", START, reason))
    assert body.endswith("END:VCALENDAR\r\n")
    assert "\n" not in body.replace("\r\n", "")
    lines = body.encode().split(b"\r\n")[:-1]
    assert max(len(line) for line in lines) == 75, "the long line is cut at exactly 75 octets"
    for line in lines:
        line.decode("utf-8")  # raises if a character was split between two lines
    description = [i for i, line in enumerate(lines) if line.startswith(b"DESCRIPTION:")][0]
    assert lines[description + 1].startswith(b" "), "continuation lines start with a space"
    assert str(only_event(body)["DESCRIPTION"]).endswith("Reason: " + reason)


def test_folding_keeps_short_lines_and_counts_the_leading_space():
    assert fold("SUMMARY:" + "x" * 67) == "SUMMARY:" + "x" * 67
    folded = fold("X:" + "a" * 200)
    assert [len(line) for line in folded.split("\r\n")] == [75, 75, 54]
    assert folded.replace("\r\n ", "") == "X:" + "a" * 200


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        render(reservation(start_time=datetime(2026, 11, 23, 8)))


# --- ETag and If-None-Match ------------------------------------------------------------


async def test_rendering_in_steps_gives_the_same_bytes():
    rows = [reservation(i, start_time=START + timedelta(days=i)) for i in range(1, 60)]
    stepped = await render_feed_in_steps(rows, calendar_name="Smart Parking", timezone=PARIS)
    assert stepped == render(*rows).encode()


def test_rendered_feeds_keep_the_most_recently_used_within_their_bytes():
    feeds = RenderedFeeds(max_bytes=10)
    feeds.put('"a"', b"aaaa")
    feeds.put('"b"', b"bbbb")
    assert feeds.get('"a"') == b"aaaa"  # now the most recently used
    feeds.put('"c"', b"cccc")
    assert (feeds.get('"a"'), feeds.get('"b"'), feeds.get('"c"')) == (b"aaaa", None, b"cccc")
    feeds.put('"d"', b"d" * 11)  # larger than the whole cache: not kept, nothing dropped
    assert feeds.get('"d"') is None and feeds.get('"a"') == b"aaaa"


def test_the_etag_is_strong_quoted_and_follows_every_input_of_the_rendering():
    tag = feed_etag("d41d8cd9", calendar_name="Smart Parking: A", timezone=PARIS)
    assert tag.startswith('"') and tag.endswith('"') and not tag.startswith("W/")
    assert len(tag) == 34
    assert feed_etag("d41d8cd9", calendar_name="Smart Parking: A", timezone=PARIS) == tag
    others = {
        feed_etag("d41d8cd8", calendar_name="Smart Parking: A", timezone=PARIS),
        feed_etag("d41d8cd9", calendar_name="Smart Parking: B", timezone=PARIS),
        feed_etag("d41d8cd9", calendar_name="Smart Parking: A", timezone=ZoneInfo("UTC")),
    }
    assert tag not in others and len(others) == 3


@pytest.mark.parametrize(
    "header",
    [
        '"abc"',
        'W/"abc"',
        '"other", "abc"',
        '"other" ,W/"abc" , "third"',
        '"with,comma", "abc"',
        "*",
        "  *  ",
    ],
)
def test_if_none_match_matches_by_weak_comparison_in_lists_and_star(header):
    assert not_modified(header, '"abc"')


@pytest.mark.parametrize(
    "header",
    [None, "", '"abcd"', '"ab"', "abc", '"other", "with,abc"', 'W/"other"', '"*"', "W/abc", '"a"b"c"'],
)
def test_if_none_match_does_not_match_other_tags_or_garbage(header):
    assert not not_modified(header, '"abc"')
