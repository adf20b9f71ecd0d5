"""The lot's three daily slots: wall-clock times in the lot's zone, turned into instants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
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


def grid_json(
    day: date, tz: ZoneInfo, rows: list[dict[str, Any]], *, user_id: int, now: datetime
) -> dict[str, Any]:
    """The availability grid for one day, from repository.grid's rows.

    A cell is "booked" while a booked row holds it, even once it has ended:
    it is the sweeper's release that frees it. Otherwise it is "past" once it
    has ended, else "available". Only the caller's own bookings say whose they are.
    """
    spots: dict[int, dict[str, Any]] = {}
    held: dict[tuple[int, datetime], dict[str, Any]] = {}
    for row in rows:
        spots.setdefault(row["spot_id"], row)
        if row["reservation_id"] is not None:
            held[(row["spot_id"], row["start_time"])] = row

    day_slots = slots_on(day, tz)
    result = []
    for spot_id, spot in spots.items():
        cells = []
        for slot in day_slots:
            cell: dict[str, Any] = slot.as_json()
            holder = held.get((spot_id, slot.start))
            if holder is not None:
                cell["state"] = "booked"
                if holder["user_id"] == user_id:
                    cell.update(mine=True, reservation_id=holder["reservation_id"])
            else:
                cell["state"] = "past" if slot.end <= now else "available"
            cells.append(cell)
        result.append(
            {
                "id": spot_id,
                "spot_number": spot["spot_number"],
                "floor_number": spot["floor_number"],
                "type": spot["type"],
                "occupied_now": spot["occupied_now"],
                "slots": cells,
            }
        )
    return {
        "date": day.isoformat(),
        "timezone": tz.key,
        "slots": [slot.as_json() for slot in day_slots],
        "spots": result,
    }
