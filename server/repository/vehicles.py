"""Drivers' vehicles: at most three each, one plate once per driver, matched on its normalised form."""

from __future__ import annotations

from typing import Any

import asyncpg

from ..db import Db
from ..errors import PlateAlreadyRegistered, VehicleLimitReached, VehicleNotFound

_VEHICLE = "id, licence_plate, label, created_at"

LIST_VEHICLES = f"SELECT {_VEHICLE} FROM vehicles WHERE user_id = $1 ORDER BY id"

# The database refuses a fourth vehicle (vehicles_enforce_limit, which locks
# the driver's row, so racing registrations count each other) and the same
# plate twice for one driver (vehicles_user_plate_key, on the normalised plate).
ADD_VEHICLE = f"""
INSERT INTO vehicles (user_id, licence_plate, label) VALUES ($1, $2, $3)
RETURNING {_VEHICLE}
"""

# Bookings that named it keep their slot; their vehicle_id becomes NULL.
DELETE_VEHICLE = "DELETE FROM vehicles WHERE id = $1 AND user_id = $2 RETURNING id"


async def list_vehicles(db: Db, *, user_id: int) -> list[dict[str, Any]]:
    return [dict(r) for r in await db.fetch(LIST_VEHICLES, user_id)]


async def add_vehicle(
    db: Db, *, user_id: int, licence_plate: str, label: str | None
) -> dict[str, Any]:
    try:
        return dict(await db.fetchrow(ADD_VEHICLE, user_id, licence_plate, label))
    except asyncpg.UniqueViolationError:
        raise PlateAlreadyRegistered(
            f"You have already registered {licence_plate} (or the same plate spelled otherwise)."
        ) from None
    except asyncpg.CheckViolationError as exc:
        if exc.constraint_name == "vehicles_per_driver_limit":
            raise VehicleLimitReached(
                f"You may register at most {exc.detail} vehicles; remove one to add another."
            ) from None
        raise


async def delete_vehicle(db: Db, *, vehicle_id: int, user_id: int) -> None:
    """Remove one of the driver's vehicles; another driver's is as unknown as a missing one."""
    if await db.fetchval(DELETE_VEHICLE, vehicle_id, user_id) is None:
        raise VehicleNotFound(f"Vehicle {vehicle_id} was not found.")
