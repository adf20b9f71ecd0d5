"""Domain errors and the middleware that renders every failure as one JSON shape."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import asyncpg
from aiohttp import web

from .access_log import loggable
from .responses import error_response

log = logging.getLogger(__name__)


class DatabaseStartupError(RuntimeError):
    """The database could not be made ready; the message says why."""


class DeliveryFailed(Exception):
    """A mail or webhook call did not go through; permanent ones are not retried."""

    def __init__(self, message: str, *, permanent: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.status = status


class ApiError(Exception):
    """An error the client should see: HTTP status, stable code, human message."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class ValidationFailed(ApiError):
    status, code = 422, "validation_error"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class InvalidToken(Unauthorized):
    code = "invalid_token"


class InvalidCredentials(ApiError):
    status, code = 401, "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("Email or password is incorrect.")


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class SpotNotFound(NotFound):
    code = "spot_not_found"


class ReservationNotFound(NotFound):
    code = "reservation_not_found"


class UserNotFound(NotFound):
    code = "user_not_found"


class ClosureNotFound(NotFound):
    code = "closure_not_found"


class TokenNotFound(NotFound):
    code = "token_not_found"


class WaitlistEntryNotFound(NotFound):
    code = "waitlist_entry_not_found"


class VehicleNotFound(NotFound):
    code = "vehicle_not_found"


class SeriesNotFound(NotFound):
    code = "series_not_found"


class WebhookNotFound(NotFound):
    code = "webhook_not_found"


class SlotTaken(ApiError):
    status, code = 409, "slot_taken"


class AlreadyBookedInSlot(ApiError):
    status, code = 409, "already_booked_in_slot"


class SpotClosed(ApiError):
    status, code = 409, "spot_closed"


class LotFull(ApiError):
    """No spot of the asked type is free in the slot ("any spot" bookings)."""

    status, code = 409, "lot_full"


class SpotNumberTaken(ApiError):
    status, code = 409, "spot_number_taken"


class BookingLimitReached(ApiError):
    status, code = 409, "booking_limit_reached"


class SlotAvailable(ApiError):
    """A driver asked to wait for a slot in which a matching spot is free."""

    status, code = 409, "slot_available"


class AlreadyWaiting(ApiError):
    status, code = 409, "already_waiting"


class CheckInClosed(ApiError):
    status, code = 409, "check_in_closed"


class VehicleLimitReached(ApiError):
    status, code = 409, "vehicle_limit_reached"


class PlateAlreadyRegistered(ApiError):
    status, code = 409, "plate_already_registered"


class TooManyAttempts(ApiError):
    status, code = 429, "too_many_attempts"


class TooManySignIns(ApiError):
    """This client address already has its share of the sign-ins being checked."""

    status, code = 429, "too_many_sign_ins"


class TooManyExports(ApiError):
    """The user already has as many CSV downloads under way as they may."""

    status, code = 429, "too_many_exports"


class TooManyRequests(ApiError):
    status, code = 429, "too_many_requests"


class TokenLimitReached(ApiError):
    status, code = 409, "token_limit_reached"


class BodyTimeout(ApiError):
    """The client did not send the whole request body in time."""

    status, code = 408, "request_timeout"


class QueryTimeout(ApiError):
    status, code = 503, "query_timeout"

    def __init__(self) -> None:
        super().__init__("This took the database too long. Please retry, or ask for less.")


class ServerBusy(ApiError):
    status, code = 503, "server_busy"


class Draining(ApiError):
    """This instance is stopping (SIGTERM): load balancers should send no more."""

    status, code = 503, "draining"

    def __init__(self) -> None:
        super().__init__("This instance is shutting down; other instances keep serving.")


class DatabaseUnavailable(ApiError):
    status, code = 503, "database_unavailable"

    def __init__(self, message: str = "The database is unavailable. Please retry shortly.") -> None:
        super().__init__(message)


# aiohttp raises these itself (routing, body limits) or through aiohttp-jwt.
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}

# Failures that mean "the database is unreachable right now", not "a bug".
# TimeoutError comes from pool.acquire(timeout=...) and the pool's command_timeout.
# OSError is a refused or reset connection.
DATABASE_DOWN_ERRORS = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    # Shutting down, starting up or in recovery (CannotConnectNowError), or
    # terminated by an administrator.
    asyncpg.exceptions.OperatorInterventionError,
    # max_connections reached (TooManyConnectionsError), or out of memory or
    # disk: PostgreSQL cannot serve this now.
    asyncpg.exceptions.InsufficientResourcesError,
    # A new connection refused at sign-on: a wrong password or pg_hba rule,
    # or the database gone. Misconfiguration, but still no connection to use.
    asyncpg.exceptions.InvalidAuthorizationSpecificationError,
    asyncpg.exceptions.InvalidCatalogNameError,
    # A pooled connection PostgreSQL ended while idle can fail its next use with
    # these instead (MagicStack/asyncpg#1069): "connection is closed",
    # "cannot switch to state N; another operation is in progress".
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        error = exc
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        # Keep headers such as Allow (405); drop the plain-text body's type.
        headers = {k: v for k, v in exc.headers.items() if k.lower() != "content-type"}
        code = _HTTP_CODES.get(exc.status, "http_error")
        # aiohttp-jwt says "Missing authorization token" or "Invalid authorization token, ...".
        if exc.status == 401 and exc.reason.startswith("Invalid"):
            code = "invalid_token"
        return error_response(exc.status, code, exc.reason, headers)
    except asyncpg.QueryCanceledError:
        # PostgreSQL's statement_timeout: the database is up, this query was slow.
        log.warning("Query timed out for %s %s", request.method, loggable(request.path))
        error = QueryTimeout()
    except DATABASE_DOWN_ERRORS as exc:
        log.warning(
            "Database unavailable for %s %s: %r", request.method, loggable(request.path), exc
        )
        error = DatabaseUnavailable()
    except Exception:
        log.exception("Unhandled error for %s %s", request.method, loggable(request.path))
        error = ApiError("Something went wrong on our side.")  # 500 internal_error
    return error_response(error.status, error.code, error.message, error.headers)
