"""The JSON shapes the API answers with: every answer's body is built here."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from .notices import notice
from .slots import CHECK_IN_OPENS_BEFORE, Slot, check_in_open, local_time, slots_on
from .validation import (
    MAX_FLOOR,
    MAX_GUEST_NAME,
    MAX_LICENCE_PLATE,
    MAX_REASON,
    MAX_SPOT_NUMBER,
    MAX_VEHICLE_LABEL,
    MAX_VEHICLES_PER_DRIVER,
    MIN_FLOOR,
)

if TYPE_CHECKING:
    from .repository.users import User


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
    }


def session_json(token: str, ttl_seconds: int, user: User) -> dict[str, Any]:
    return {
        "token": token,
        "token_type": "Bearer",
        "expires_in": ttl_seconds,
        "user": user_json(user),
    }


def users_json(users: list[dict[str, Any]]) -> dict[str, Any]:
    """The attendant's list of users, each with how many bookings they hold that have not ended."""
    return {
        "users": [
            {
                "id": u["id"],
                "email": u["email"],
                "display_name": u["display_name"],
                "role": u["role"],
                "upcoming_bookings": u["upcoming_bookings"],
            }
            for u in users
        ]
    }


def lot_json(today: date, last_day: date, tz: ZoneInfo) -> dict[str, Any]:
    """The lot's calendar, and the limits the browser's forms must agree with."""
    return {
        "timezone": tz.key,
        "today": today.isoformat(),
        "last_bookable_day": last_day.isoformat(),
        "slots": [slot.label for slot in slots_on(today, tz)],
        "limits": {
            "max_reason": MAX_REASON,
            "max_guest_name": MAX_GUEST_NAME,
            "max_licence_plate": MAX_LICENCE_PLATE,
            "max_vehicle_label": MAX_VEHICLE_LABEL,
            "max_vehicles_per_driver": MAX_VEHICLES_PER_DRIVER,
            "max_spot_number": MAX_SPOT_NUMBER,
            "min_floor": MIN_FLOOR,
            "max_floor": MAX_FLOOR,
            "check_in_opens_minutes_before": CHECK_IN_OPENS_BEFORE // timedelta(minutes=1),
        },
    }


def rules_json(rules: dict[str, Any]) -> dict[str, Any]:
    return {
        "max_upcoming_per_driver": rules["max_upcoming_per_driver"],
        "booking_horizon_days": rules["booking_horizon_days"],
        "no_show_grace_minutes": rules["no_show_grace_minutes"],
        "reminder_minutes_before": rules["reminder_minutes_before"],
    }


def spot_json(spot: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": spot["id"],
        "spot_number": spot["spot_number"],
        "floor_number": spot["floor_number"],
        "type": spot["type"],
    }


def new_token_json(created: dict[str, Any], token: str, tz: ZoneInfo) -> dict[str, Any]:
    """A new API token: the only answer that carries its secret."""
    return {
        "id": created["id"],
        "name": created["name"],
        "token": token,
        "created_at": local_time(created["created_at"], tz),
        "expires_at": local_time(created["expires_at"], tz),
    }


def tokens_json(
    tokens: list[dict[str, Any]], tz: ZoneInfo, *, next_link: str | None
) -> dict[str, Any]:
    """A page of the caller's tokens, without secrets, and the link to the next page."""
    return {
        "tokens": [
            {
                "id": token["id"],
                "name": token["name"],
                "created_at": local_time(token["created_at"], tz),
                "last_used_at": local_time(token["last_used_at"], tz),
                "expires_at": local_time(token["expires_at"], tz),
            }
            for token in tokens
        ],
        "next": next_link,
    }


def calendar_feed_json(url: str, path: str, created_at: datetime, tz: ZoneInfo) -> dict[str, Any]:
    # The key in the URL is the credential: calendar apps cannot send headers.
    return {"url": url, "path": path, "created_at": local_time(created_at, tz)}


def stats_json(
    first: date,
    last: date,
    tz: ZoneInfo,
    rows: list[dict[str, Any]],
    no_show_rate: float | None,
) -> dict[str, Any]:
    """Occupancy per hour of the day, from repository.reports.occupancy_by_hour's rows."""
    spot_count = rows[0]["spot_count"]
    hours = [
        {
            "hour": row["hour"],
            "average_occupied": round(row["average_occupied"], 4),
            "occupancy_ratio": round(row["average_occupied"] / spot_count, 4)
            if spot_count
            else 0.0,
        }
        for row in rows
    ]
    peak = max((h["average_occupied"] for h in hours), default=0.0)
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "timezone": tz.key,
        "spot_count": spot_count,
        "hours": hours,
        # No occupancy at all means no peak, rather than all 24 hours tied.
        "peak_hours": [h["hour"] for h in hours if peak > 0 and h["average_occupied"] == peak],
        "no_show_rate": None if no_show_rate is None else round(no_show_rate, 4),
    }


def slot_json(slot: Slot) -> dict[str, str]:
    return {
        "label": slot.label,
        "start_time": slot.start.isoformat(),
        "end_time": slot.end.isoformat(),
    }


def holder_json(row: dict[str, Any]) -> dict[str, Any]:
    """Who holds a reservation: a driver (with their car's plate, if the booking
    names one), or a walk-in guest. For the attendant only."""
    if row["user_id"] is None:
        return {"guest_name": row["guest_name"], "licence_plate": row["licence_plate"]}
    return {
        "user_id": row["user_id"],
        "display_name": row["holder_name"],
        "email": row["holder_email"],
        # The grid's rows carry it as licence_plate, a reservation's as vehicle_plate.
        "licence_plate": row.get("vehicle_plate", row.get("licence_plate")),
    }


def vehicle_json(row: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": row["id"],
        "licence_plate": row["licence_plate"],
        "label": row["label"],
        "created_at": local_time(row["created_at"], tz),
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
        "from_waitlist": row["from_waitlist"],
        # The holder's own car (a driver sees only their own reservations).
        "vehicle": None
        if row["vehicle_id"] is None
        else {
            "id": row["vehicle_id"],
            "licence_plate": row["vehicle_plate"],
            "label": row["vehicle_label"],
        },
        # The weekly series this booking is an occurrence of, or null.
        "series_id": row["series_id"],
    }
    if with_holder:
        body["holder"] = holder_json(row)
    return body


def reservations_json(
    rows: list[dict[str, Any]], tz: ZoneInfo, *, next_link: str | None
) -> dict[str, Any]:
    """A page of reservations, and the link to the next page (None: this is the last)."""
    return {"reservations": [reservation_json(row, tz) for row in rows], "next": next_link}


def closures_json(closures: list[dict[str, Any]], tz: ZoneInfo) -> dict[str, Any]:
    return {"closures": [closure_json(c, tz) for c in closures]}


def new_closure_json(closure: dict[str, Any], released: list[int], tz: ZoneInfo) -> dict[str, Any]:
    """A new closure, and the bookings it released."""
    return {"closure": closure_json(closure, tz), "released": released}


def booking_for_someone_json(
    reservation: dict[str, Any], tz: ZoneInfo, *, waiting_in_line: int
) -> dict[str, Any]:
    """The attendant's new booking, and how many drivers were waiting for its slot."""
    return {**reservation_json(reservation, tz, with_holder=True), "waiting_in_line": waiting_in_line}


def waitlist_entry_json(
    entry: dict[str, Any], tz: ZoneInfo, *, with_user: bool = False
) -> dict[str, Any]:
    """A place in line; the attendant's form also names the driver waiting."""
    body = {
        "id": entry["id"],
        "start_time": local_time(entry["start_time"], tz),
        "end_time": local_time(entry["end_time"], tz),
        "spot_id": entry["spot_id"],
        "spot_type": entry["spot_type"],
        "position": entry["position"],
        "status": entry["status"],
        "reservation_id": entry["reservation_id"],
        "created_at": local_time(entry["created_at"], tz),
    }
    if with_user:
        body["user"] = {
            "user_id": entry["user_id"],
            "display_name": entry["display_name"],
            "email": entry["email"],
        }
    return body


def new_waitlist_entry_json(entry: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    return {"entry": waitlist_entry_json(entry, tz)}


def waitlist_json(entries: list[dict[str, Any]], tz: ZoneInfo) -> dict[str, Any]:
    return {"entries": [waitlist_entry_json(e, tz) for e in entries]}


def waitlist_lines_json(day: date, entries: list[dict[str, Any]], tz: ZoneInfo) -> dict[str, Any]:
    """The attendant's view of a day's lines: every waiting entry, with the driver's name."""
    return {"date": day.isoformat(), "entries": [waitlist_entry_json(e, tz, with_user=True) for e in entries]}


def waiting_counts_json(counts: list[dict[str, Any]], tz: ZoneInfo) -> list[dict[str, Any]]:
    """How many drivers wait for each slot that has a line (the attendant's board)."""
    return [
        {
            "start_time": local_time(c["start_time"], tz),
            "end_time": local_time(c["end_time"], tz),
            "waiting": c["waiting"],
        }
        for c in counts
    ]


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
        body: dict[str, Any] = slot_json(slot)
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
        "slots": [slot_json(slot) for slot in day_slots],
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


def _gate_booking_json(row: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    start, end = row["start_time"], row["end_time"]
    return {
        "reservation_id": row["id"],
        "spot_id": row["spot_id"],
        "spot_number": row["spot_number"],
        "floor_number": row["floor_number"],
        "slot": slot_json(Slot(start.astimezone(tz), end.astimezone(tz))),
        "checked_in_at": local_time(row["checked_in_at"], tz),
    }


def _free_json(slot: Slot | None, free: dict[Slot, list[dict[str, Any]]]) -> dict[str, Any] | None:
    if slot is None:
        return None
    return {"slot": slot_json(slot), "spots": free[slot]}


def plate_lookup_json(
    plate: str,
    drivers: list[dict[str, Any]],
    bookings: list[dict[str, Any]],
    free: dict[Slot, list[dict[str, Any]]],
    *,
    current: Slot | None,
    upcoming: Slot,
    now: datetime,
    tz: ZoneInfo,
) -> dict[str, Any]:
    """GET /admin/plates/{plate}: each holder's booking at the gate now and their next today.

    A booking is "at the gate" (`current`) while it may be checked in: from
    15 minutes before its start until its end. `next` is the first booked one
    after it that day.
    """
    holders: list[dict[str, Any]] = []
    for driver in drivers:
        holders.append(
            {
                "kind": "driver",
                "user_id": driver["user_id"],
                "display_name": driver["display_name"],
                "email": driver["email"],
                "vehicle": {
                    "id": driver["vehicle_id"],
                    "licence_plate": driver["licence_plate"],
                    "label": driver["label"],
                },
                "bookings": [b for b in bookings if b["user_id"] == driver["user_id"]],
            }
        )
    walk_ins: dict[str, dict[str, Any]] = {}
    for booking in bookings:
        if booking["user_id"] is None:
            walk_ins.setdefault(
                booking["guest_name"],
                {
                    "kind": "walk_in",
                    "guest_name": booking["guest_name"],
                    "licence_plate": booking["licence_plate"],
                    "bookings": [],
                },
            )["bookings"].append(booking)
    holders.extend(walk_ins.values())

    for holder in holders:
        held = [
            b for b in holder.pop("bookings") if b["status"] == "booked" and b["end_time"] > now
        ]
        at_gate = next(
            (b for b in held if check_in_open(b["start_time"], b["end_time"], now)), None
        )
        later = next(
            (b for b in held if b is not at_gate and b["start_time"] > now),
            None,
        )
        holder["current"] = None if at_gate is None else _gate_booking_json(at_gate, tz)
        holder["next"] = None if later is None else _gate_booking_json(later, tz)
        holder["check_in_open"] = at_gate is not None and at_gate["checked_in_at"] is None
    return {
        "plate": plate,
        "holders": holders,
        "free_now": _free_json(current, free),
        "free_next": _free_json(upcoming, free),
    }


def lobby_json(day: date, tz: ZoneInfo, rows: list[dict[str, Any]], *, now: datetime) -> dict[str, Any]:
    """The lobby board: per floor and slot of the day, the free spots and the closed ones.

    Counts and spot numbers only: built from the drivers' anonymous grid, it
    has no reservation id, name or plate to leak.
    """
    grid = grid_json(day, tz, rows, now=now)
    floors: dict[int, list[dict[str, Any]]] = {}
    for spot in grid["spots"]:
        cells = floors.setdefault(
            spot["floor_number"],
            [{"free_spots": [], "closed_spots": [], "spot_count": 0} for _ in grid["slots"]],
        )
        for cell, slot in zip(cells, spot["slots"], strict=True):
            cell["spot_count"] += 1
            if slot["state"] == "available":
                cell["free_spots"].append(spot["spot_number"])
            elif slot["state"] == "closed":
                cell["closed_spots"].append(spot["spot_number"])
    slot_times = slots_on(day, tz)
    return {
        "date": day.isoformat(),
        "timezone": tz.key,
        "slots": [
            {
                "label": slot.label,
                "start_time": slot.start.isoformat(),
                "end_time": slot.end.isoformat(),
                "state": "ended" if slot.end <= now else "now" if slot.start <= now else "later",
            }
            for slot in slot_times
        ],
        "floors": [
            {
                "floor_number": floor,
                "slots": [
                    {**cell, "free_count": len(cell["free_spots"])}
                    for cell in floors[floor]
                ],
            }
            for floor in sorted(floors)
        ],
    }


def audit_record_json(row: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": row["id"],
        "recorded_at": local_time(row["recorded_at"], tz),
        "actor": {"user_id": row["actor_id"], "name": row["actor_name"]},
        "action": row["action"],
        "target": {"type": row["target_type"], "id": row["target_id"]},
        "reason": row["reason"],
        "before": row["before"],
        "after": row["after"],
    }


def series_json(series: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """A weekly series with every occurrence and its outcome (repository.series's rows)."""
    return {
        "id": series["id"],
        "weekdays": list(series["weekdays"]),
        "slot": series["slot_index"],
        "from": series["first_day"].isoformat(),
        "until": series["last_day"].isoformat(),
        "spot_id": series["spot_id"],
        "spot_number": series["spot_number"],
        "spot_type": series["spot_type"],
        "fallback": series["fallback"],
        "created_at": local_time(series["created_at"], tz),
        "stopped_at": local_time(series["stopped_at"], tz),
        "occurrences": [occurrence_json(o, tz) for o in series["occurrences"]],
    }


def occurrence_json(occurrence: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    reservation = occurrence["reservation"]
    error = None
    if occurrence["error_code"] is not None:
        error = {"code": occurrence["error_code"], "message": occurrence["error_message"]}
    return {
        "date": occurrence["day"].isoformat(),
        "status": occurrence["status"],
        "reservation": reservation_json(reservation, tz) if reservation is not None else None,
        "error": error,
    }


def notification_json(row: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """An inbox row (GET /me/notifications, and notification.created on the socket)."""
    words = notice(row["kind"], row["data"], tz)
    return {
        "id": row["id"],
        "kind": row["kind"],
        "title": words.title,
        "body": words.body,
        "reservation_id": row["reservation_id"],
        "created_at": _instant(row["created_at"], tz),
        "read_at": _instant(row["read_at"], tz),
    }


def _instant(value: datetime | str | None, tz: ZoneInfo) -> str | None:
    # A pg_notify payload carries instants as text.
    return local_time(datetime.fromisoformat(value) if isinstance(value, str) else value, tz)


def webhook_json(row: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """An endpoint, without its secret (POST /admin/webhooks adds it, that once)."""
    return {
        "id": row["id"],
        "url": row["url"],
        "events": row["events"],
        "created_at": local_time(row["created_at"], tz),
    }


def delivery_json(row: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    pending = row["status"] == "pending"
    return {
        "id": row["id"],
        "event_type": row["event_type"],
        "status": row["status"],
        "attempts": row["attempts"],
        "response_status": row["response_status"],
        "next_attempt_at": local_time(row["next_attempt_at"], tz) if pending else None,
        "created_at": local_time(row["created_at"], tz),
        "last_error": row["last_error"],
    }
