"""All SQL of the application, one module per resource: named statements and their functions."""

from . import database, reports, reservations, spots, users

__all__ = ["database", "reports", "reservations", "spots", "users"]
