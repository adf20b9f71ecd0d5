"""What each socket may learn of a change the database published.

The database's payloads (db/migrations/*_publish_lot_changes.sql) say who
holds a slot. Drivers must never learn that: the attendant sees everything,
a holder sees their own reservation, and everyone else sees only that a
slot changed. Each audience's message is serialised once per event.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# What a driver who does not hold the reservation may see, per event type.
# A type missing here goes to the attendant only.
_PUBLIC_FIELDS: dict[str, tuple[str, ...]] = {
    "reservation.booked": ("type", "spot_id", "spot_number", "start_time", "end_time", "reason"),
    "reservation.released": ("type", "spot_id", "spot_number", "start_time", "end_time", "reason"),
    "closure.created": ("type", "closure_id", "spot_id", "spot_number", "start_time", "end_time"),
    "closure.deleted": ("type", "closure_id", "spot_id", "spot_number", "start_time", "end_time"),
    "spot.created": ("type", "spot_id", "spot_number", "floor_number", "spot_type"),
    "spot.updated": ("type", "spot_id", "spot_number", "floor_number", "spot_type"),
    # Which line moved, never whose entry: drivers in it refetch their place.
    "waitlist.changed": ("type", "start_time", "end_time"),
    "rules.changed": (
        "type", "max_upcoming_per_driver", "booking_horizon_days", "no_show_grace_minutes",
        "reminder_minutes_before",
    ),
}
# Events that change what the lobby board shows (its free spots per slot).
_LOBBY_TYPES = frozenset(
    {
        "reservation.booked",
        "reservation.released",
        "closure.created",
        "closure.deleted",
        "spot.created",
        "spot.updated",
    }
)
# What the holder additionally sees of their own reservation.
_OWNER_FIELDS = (
    "type", "reservation_id", "spot_id", "spot_number", "start_time", "end_time",
    "reason", "release_reason", "checked_in_at",
)  # fmt: skip


@dataclass(frozen=True)
class Audiences:
    """One event, serialised for each audience; None means "not sent"."""

    admin: str
    public: str | None
    owner_id: int | None = None
    owner: str | None = None
    # Whether the lobby's board changed. The lobby never gets the event itself,
    # only the board read again: counts and spot numbers (lobby.LobbyFeed).
    lobby: bool = False


def audiences(event: dict[str, Any]) -> Audiences:
    kind = event.get("type", "")
    public_fields = _PUBLIC_FIELDS.get(kind)
    public = _dumps(event, public_fields) if public_fields else None
    owner_id = event.get("user_id") if kind.startswith("reservation.") else None
    owner = None
    if owner_id is not None:
        owner = _dumps({**event, "mine": True}, (*_OWNER_FIELDS, "mine"))
    return Audiences(
        admin=_dumps(event),
        public=public,
        owner_id=owner_id,
        owner=owner,
        lobby=kind in _LOBBY_TYPES,
    )


def _dumps(event: dict[str, Any], fields: tuple[str, ...] | None = None) -> str:
    if fields is not None:
        event = {name: event.get(name) for name in fields}
    return json.dumps(event, ensure_ascii=False)
