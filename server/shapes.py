"""The JSON shapes the API answers with: reservations, closures, the grid and the board."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from .slots import Slot, local_time, slots_on


def holder_json(row: dict[str, Any]) -> dict[str, Any]:
    """Who holds a reservation: a driver, or a walk-in guest. For the attendant only."""
    if row["user_id"] is None:
        return {"guest_name": row["guest_name"], "licence_plate": row["licence_plate"]}
    return {
        "user_id": row["user_id"],
        "display_name": row["holder_name"],
        "email": row["holder_email"],
    }


def reservation_json(
    row: dict[str, Any], tz: ZoneInfo, *, with_holder: bool = False
) -> dict[str, Any]:
    body = {
        "id": row["id"],
        "spot_id": row["spot_id"],
        "spot_number": row["spot_number"],
        "floor_number": row["floor_number"],
        "start_time": local_time(row["start_time"], tz),
        "end_time": local_time(row["end_time"], tz),
        "status": row["status"],
        "created_at": local_time(row["created_at"], tz),
        # The driver themselves, or the attendant who booked for them.
        "created_by": {
            "user_id": row["created_by"],
            "display_name": row["created_by_name"],
            "role": row["created_by_role"],
        },
        "checked_in_at": local_time(row["checked_in_at"], tz),
        "completed_at": local_time(row["completed_at"], tz),
        "released_by": row["released_by"],
        "release_reason": row["release_reason"],
    }
    if with_holder:
        body["holder"] = holder_json(row)
    return body


def closure_json(closure: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": closure["id"],
        "spot_id": closure["spot_id"],
        "spot_number": closure["spot_number"],
        "start_time": local_time(closure["start_time"], tz),
        "end_time": local_time(closure["end_time"], tz),
        "reason": closure["reason"],
        "created_at": local_time(closure["created_at"], tz),
    }


def grid_json(
    day: date,
    tz: ZoneInfo,
    rows: list[dict[str, Any]],
    *,
    now: datetime,
    user_id: int | None = None,
    board: bool = False,
) -> dict[str, Any]:
    """One day of every spot x slot, from repository.spots.grid's rows.

    For a driver (user_id) a cell says only whether it is free: holders stay
    anonymous, except the driver's own bookings, which carry `mine`. For the
    attendant (board=True) taken cells carry the holder, and closed cells the
    closure.

    A cell is "booked" while a booked row holds it, even once it has ended:
    it is the sweeper's release that frees it. Else "closed" while a closure
    covers it, else "past" once it has ended, else "available".
    """
    spots: dict[int, dict[str, Any]] = {}
    bookings: dict[tuple[int, datetime], dict[str, Any]] = {}
    closures: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        spots.setdefault(row["spot_id"], row)
        if row["kind"] == "booking":
            bookings[(row["spot_id"], row["start_time"])] = row
        elif row["kind"] == "closure":
            closures.setdefault(row["spot_id"], []).append(row)

    def cell(spot_id: int, slot: Slot) -> dict[str, Any]:
        body: dict[str, Any] = slot.as_json()
        booking = bookings.get((spot_id, slot.start))
        # Closures cover whole slots, so overlapping a slot means covering it.
        closure = next(
            (
                c
                for c in closures.get(spot_id, ())
                if c["start_time"] < slot.end and c["end_time"] > slot.start
            ),
            None,
        )
        if booking is not None:
            body["state"] = "booked"
            if board:
                body.update(
                    reservation_id=booking["item_id"],
                    holder=holder_json(booking),
                    checked_in_at=local_time(booking["checked_in_at"], tz),
                )
            elif booking["user_id"] == user_id:
                body.update(
                    mine=True,
                    reservation_id=booking["item_id"],
                    checked_in_at=local_time(booking["checked_in_at"], tz),
                )
        elif closure is not None:
            body["state"] = "closed"
            if board:
                body["closure"] = {"id": closure["item_id"], "reason": closure["reason"]}
        else:
            body["state"] = "past" if slot.end <= now else "available"
        return body

    day_slots = slots_on(day, tz)
    return {
        "date": day.isoformat(),
        "timezone": tz.key,
        "slots": [slot.as_json() for slot in day_slots],
        "spots": [
            {
                "id": spot_id,
                "spot_number": spot["spot_number"],
                "floor_number": spot["floor_number"],
                "type": spot["type"],
                "occupied_now": spot["occupied_now"],
                "slots": [cell(spot_id, slot) for slot in day_slots],
            }
            for spot_id, spot in spots.items()
        ],
    }
