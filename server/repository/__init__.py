"""All SQL of the application, one module per resource: named statements and their functions."""

from . import closures, database, reports, reservations, spots, users

__all__ = ["closures", "database", "reports", "reservations", "spots", "users"]
