"""The JSON shapes the API answers with: a reservation, and the availability grid."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from .slots import local_time, slots_on


def reservation_json(row: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": row["id"],
        "spot_id": row["spot_id"],
        "spot_number": row["spot_number"],
        "floor_number": row["floor_number"],
        "start_time": local_time(row["start_time"], tz),
        "end_time": local_time(row["end_time"], tz),
        "status": row["status"],
        "created_at": local_time(row["created_at"], tz),
        "completed_at": local_time(row["completed_at"], tz),
        "released_by": row["released_by"],
    }


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
