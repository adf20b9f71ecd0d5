"""All SQL of the application, one module per resource: named statements and their functions."""

from . import (
    arrivals,
    closures,
    credentials,
    database,
    reports,
    reservations,
    rules,
    spots,
    users,
    waitlist,
)

__all__ = [
    "arrivals",
    "closures",
    "credentials",
    "database",
    "reports",
    "reservations",
    "rules",
    "spots",
    "users",
    "waitlist",
]
