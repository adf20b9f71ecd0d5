"""The lot's three daily slots: wall-clock times in the lot's zone, turned into instants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

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

    def as_json(self) -> dict[str, str]:
        return {
            "label": self.label,
            "start_time": self.start.isoformat(),
            "end_time": self.end.isoformat(),
        }


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


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants of local midnight at the start and end of this day (23-25 h apart)."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start, end


def today(tz: ZoneInfo) -> date:
    return datetime.now(tz).date()


def local_time(value: datetime | None, tz: ZoneInfo) -> str | None:
    """ISO 8601 with the lot's offset, the API's one way of writing an instant."""
    return value.astimezone(tz).isoformat() if value is not None else None
