"""The lot's rules: one row the attendant changes at run time, read where it is enforced."""

from __future__ import annotations

from typing import Any

from ..db import Db

_RULES = (
    "max_upcoming_per_driver, booking_horizon_days, no_show_grace_minutes, reminder_minutes_before"
)

GET_RULES = f"SELECT {_RULES} FROM lot_rules"

# Only the fields sent change. max_upcoming_per_driver may be set to NULL (no
# limit), so it comes with its own "was it sent" flag ($1). The update
# trigger publishes rules.changed; the audit trigger records the change,
# before and after, crediting updated_by.
UPDATE_RULES = f"""
UPDATE lot_rules
SET max_upcoming_per_driver = CASE WHEN $1 THEN $2 ELSE max_upcoming_per_driver END,
    booking_horizon_days = COALESCE($3, booking_horizon_days),
    no_show_grace_minutes = COALESCE($4, no_show_grace_minutes),
    reminder_minutes_before = COALESCE($6, reminder_minutes_before),
    updated_at = now(),
    updated_by = $5
RETURNING {_RULES}
"""


async def get_rules(db: Db) -> dict[str, Any]:
    return dict(await db.fetchrow(GET_RULES))


async def update_rules(db: Db, *, changes: dict[str, Any], updated_by: int) -> dict[str, Any]:
    """Apply the validated `changes` (a subset of the rules); return all of them."""
    row = await db.fetchrow(
        UPDATE_RULES,
        "max_upcoming_per_driver" in changes,
        changes.get("max_upcoming_per_driver"),
        changes.get("booking_horizon_days"),
        changes.get("no_show_grace_minutes"),
        updated_by,
        changes.get("reminder_minutes_before"),
    )
    return dict(row)
