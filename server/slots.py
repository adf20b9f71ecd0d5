"""The lot's three daily slots: wall-clock times in the lot's zone, turned into instants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from . import refusals
from .errors import ValidationFailed

# Wall-clock times, so a DST day still has slots at 08:00, 12:00 and 16:00 local.
SLOT_TIMES = ((time(8), time(12)), (time(12), time(16)), (time(16), time(20)))


@dataclass(frozen=True)
class Slot:
    start: datetime  # aware, in the lot's zone
    end: datetime

    @property
    def label(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"

    def describe(self) -> str:
        """E.g. "08:00–12:00 on Sat 21 Nov", for messages to drivers."""
        return f"{self.label} on {self.start:%a} {self.start.day} {self.start:%b}"


def slots_on(day: date, tz: ZoneInfo) -> list[Slot]:
    return [
        Slot(datetime.combine(day, start, tzinfo=tz), datetime.combine(day, end, tzinfo=tz))
        for start, end in SLOT_TIMES
    ]


def slot_for(start: datetime, end: datetime, tz: ZoneInfo) -> Slot:
    """The slot that is exactly [start, end); otherwise a 422 listing that day's slots."""
    day = start.astimezone(tz).date()
    candidates = slots_on(day, tz)
    for slot in candidates:
        # Aware datetimes compare as instants, whatever offset the client used.
        if slot.start == start and slot.end == end:
            return slot
    valid = "; ".join(
        f"{s.label} ({s.start.isoformat()} to {s.end.isoformat()})" for s in candidates
    )
    raise ValidationFailed(
        f"A reservation must cover exactly one slot. Slots on {day.isoformat()}: {valid}."
    )


def bookable_slot(start: datetime, end: datetime, tz: ZoneInfo, *, now: datetime) -> Slot:
    """The slot [start, end) if it has not ended.

    Whether it is within the booking horizon is the database's to say: the
    horizon is a lot rule, read in the booking's own statement.
    """
    slot = slot_for(start, end, tz)
    if slot.end <= now:
        raise refusals.slot_ended(slot.describe())
    return slot


# A driver may check in from this long before the slot starts until it ends.
CHECK_IN_OPENS_BEFORE = timedelta(minutes=15)


def check_in_open(start: datetime, end: datetime, now: datetime) -> bool:
    """Whether a booking of [start, end) may be checked in at `now` (arrivals.CHECK_IN says the same)."""
    return start - CHECK_IN_OPENS_BEFORE <= now < end


def current_and_next_slot(now: datetime, tz: ZoneInfo) -> tuple[Slot | None, Slot]:
    """The slot in progress at `now` (None between slots and at night), and the next to start."""
    day = now.astimezone(tz).date()
    today_slots = slots_on(day, tz)
    current = next((slot for slot in today_slots if slot.start <= now < slot.end), None)
    upcoming = next((slot for slot in today_slots if slot.start > now), None)
    return current, upcoming or slots_on(day + timedelta(days=1), tz)[0]


def check_in_window(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """E.g. "from 07:45 until 12:00 on Mon 23 Nov", for a refused check-in."""
    opens = (start - CHECK_IN_OPENS_BEFORE).astimezone(tz)
    closes = end.astimezone(tz)
    return f"from {opens:%H:%M} until {closes:%H:%M} on {closes:%a} {closes.day} {closes:%b}"


# A closure may cover at most this long: a year of whole slots.
MAX_CLOSURE_DAYS = 366


def whole_slots(start: datetime, end: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in the lot's zone, if it begins when a slot starts and ends when one ends.

    Such a window covers whole slots only, over any number of days: from
    Monday 16:00 to Tuesday 12:00 is Monday's last slot and Tuesday's first.
    """
    first, last = start.astimezone(tz), end.astimezone(tz)
    # Aware datetimes compare as instants, whatever offset the client used.
    if not any(slot.start == first for slot in slots_on(first.date(), tz)):
        raise ValidationFailed(
            f"'start_time' must be when a slot starts ({_clocks(0)} in {tz.key})."
        )
    if not any(slot.end == last for slot in slots_on(last.date(), tz)):
        raise ValidationFailed(f"'end_time' must be when a slot ends ({_clocks(1)} in {tz.key}).")
    if last <= first:
        raise ValidationFailed("'end_time' must be after 'start_time'.")
    if last - first > timedelta(days=MAX_CLOSURE_DAYS):
        raise ValidationFailed(f"A closure may cover at most {MAX_CLOSURE_DAYS} days.")
    return first, last


def _clocks(edge: int) -> str:
    """The slots' start (edge 0) or end (edge 1) times, e.g. "08:00, 12:00, 16:00"."""
    return ", ".join(f"{times[edge]:%H:%M}" for times in SLOT_TIMES)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants of local midnight at the start and end of this day (23-25 h apart)."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start, end


def range_bounds(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants of local midnight at the start of `first` and the end of `last`."""
    return day_bounds(first, tz)[0], day_bounds(last, tz)[1]


def weekly_days(first: date, last: date, weekdays: set[int]) -> list[date]:
    """The calendar dates from first to last (inclusive) on these ISO weekdays (Monday = 1).

    Dates, not instants: each becomes its slot with slots_on() in the lot's
    zone, so a series keeps its wall-clock time across a DST change.
    """
    count = (last - first).days + 1
    days = (first + timedelta(days=n) for n in range(count))
    return [day for day in days if day.isoweekday() in weekdays]


def a_year_after(day: date) -> date:
    """The same date a year later (29 February gives 28 February), as PostgreSQL counts it."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def month_bounds(month: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants of local midnight on the 1st of `month` and on the 1st of the next."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return day_bounds(first, tz)[0], day_bounds(following, tz)[0]


def previous_month(day: date) -> date:
    """The 1st of the month before the one `day` is in."""
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def today(tz: ZoneInfo) -> date:
    return datetime.now(tz).date()


def local_time(value: datetime | None, tz: ZoneInfo) -> str | None:
    """ISO 8601 with the lot's offset, the API's one way of writing an instant."""
    return value.astimezone(tz).isoformat() if value is not None else None
