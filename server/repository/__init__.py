"""All SQL of the application, one module per resource: named statements and their functions."""

from . import (
    arrivals,
    audit,
    closures,
    credentials,
    database,
    free_spots,
    gate,
    lobby,
    reports,
    reservations,
    rules,
    series,
    spots,
    users,
    vehicles,
    waitlist,
)

__all__ = [
    "arrivals",
    "audit",
    "closures",
    "credentials",
    "database",
    "free_spots",
    "gate",
    "lobby",
    "reports",
    "reservations",
    "rules",
    "series",
    "spots",
    "users",
    "vehicles",
    "waitlist",
]
