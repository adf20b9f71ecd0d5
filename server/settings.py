"""Configuration read once from the environment into a frozen, validated dataclass."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent

T = TypeVar("T")
_SECRET_NAMES = frozenset({"DATABASE_URL", "JWT_SECRET", "METRICS_TOKEN", "SMTP_PASSWORD"})
SMTP_TLS_MODES = ("starttls", "tls", "none")


# Variables an older version read, and why they are ignored now.
RETIRED = {
    "BOOKING_HORIZON_DAYS": "the horizon is a lot rule, set by the attendant (PUT /admin/rules)",
}


class SettingsError(ValueError):
    """A configuration value is invalid; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    # None means "start the embedded PostgreSQL from the pgserver package".
    database_url: str | None = field(default=None, repr=False)
    embedded_pgdata: Path = PROJECT_ROOT / ".data" / "postgres"
    database_pool_size: int = 10
    host: str = "127.0.0.1"
    port: int = 8080
    # None: the secret kept in jwt_secret_file, made on first use (session_secret.py).
    jwt_secret: str | None = field(default=None, repr=False)
    jwt_secret_file: Path = PROJECT_ROOT / ".data" / "jwt-secret"
    jwt_ttl_seconds: int = 3600
    parking_timezone: str = "UTC"
    sweep_interval_seconds: float = 60.0
    # The address users reach the server at (https://parking.example.com),
    # for absolute links and the WebSocket origin check; None: see public_url.py.
    public_url: str | None = None
    # Origins, besides the server's own, that may open WebSockets.
    allowed_origins: tuple[str, ...] = ()
    static_dir: Path = PROJECT_ROOT / "static"
    migrations_dir: Path = PROJECT_ROOT / "db" / "migrations"
    login_max_failures: int = 10
    login_failure_window_seconds: int = 300
    # Sign-ins being checked at once before the next is refused; None: four per
    # bcrypt thread (login.py), about a second of waiting at most.
    login_queue_capacity: int | None = None
    # Of those, how many one client address may hold; None: a quarter, at least one.
    login_checks_per_client: int | None = None
    # Restarts of a crashed embedded PostgreSQL within five minutes before giving up.
    embedded_max_restarts: int = 3
    ws_auth_timeout_seconds: float = 5.0
    # Every request answers within a few seconds, the database stalled or not:
    # a statement's own limit, the wait for a pooled connection, a new connection.
    database_statement_timeout_seconds: float = 2.0
    database_acquire_timeout_seconds: float = 1.0
    database_connect_timeout_seconds: float = 2.0
    # How long a connection may wait for a complete request head: after it is
    # opened, and between requests on a kept-alive connection.
    http_idle_timeout_seconds: float = 30.0
    # How long a client has to send a request body once its head has arrived.
    request_body_timeout_seconds: float = 10.0
    # Connections one process holds at most (fewer if the descriptor limit is lower).
    max_connections: int = 10_000
    # Seconds between SIGTERM and closing the listener, while /readyz says
    # "draining" so load balancers take this instance out. None: 5 on SIGTERM,
    # and no drain on SIGINT, so Ctrl+C in a terminal stays quick (serving.py).
    drain_seconds: float | None = None
    # The bearer token GET /metrics answers to; None: no /metrics (404), nothing recorded.
    metrics_token: str | None = field(default=None, repr=False)
    # "text" (for people) or "json" (one object per line, for log collectors).
    log_format: str = "text"
    # Open WebSockets per account on one server process, so one account cannot
    # hold every connection; the attendant watches from more screens.
    max_sockets_per_user: int = 10
    max_sockets_per_admin: int = 50
    # CSV downloads one user may have under way at once on one server process.
    max_exports_per_user: int = 2
    # Booking writes (book, release, check-in) one driver may make a minute,
    # counted across every server; the attendant is exempt (write_limit.py).
    booking_writes_per_minute: int = 30
    # Mail (dispatcher.py). None: no mail is sent; the inbox still fills.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_tls: str = "starttls"
    mail_from: str = "Smart Parking <parking@localhost>"
    # Deliveries (mail and webhooks) in flight at once in this process.
    delivery_concurrency: int = 20
    # The dispatcher looks for due deliveries this often even without an event.
    delivery_poll_seconds: float = 5.0
    # Tests shrink the retry schedule (dispatcher.RETRY_DELAYS) by this factor.
    delivery_retry_scale: float = 1.0

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.parking_timezone)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def read(name: str, parse: Callable[[str], T], default: T) -> T:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                return parse(raw)
            except (ValueError, ZoneInfoNotFoundError) as exc:
                # Secrets are never echoed, not even in a startup error.
                shown = "(hidden)" if name in _SECRET_NAMES else repr(raw)
                raise SettingsError(f"{name}={shown} is invalid: {exc}") from None

        for name, why in RETIRED.items():
            if env.get(name, "").strip():
                log.warning("%s is no longer read: %s", name, why)
        return cls(
            database_url=read("DATABASE_URL", str, None),
            database_pool_size=read("DATABASE_POOL_SIZE", _positive_int, cls.database_pool_size),
            host=read("HOST", str, cls.host),
            port=read("PORT", _port, cls.port),
            jwt_secret=read("JWT_SECRET", _secret, None),
            jwt_ttl_seconds=read("JWT_TTL_SECONDS", _positive_int, cls.jwt_ttl_seconds),
            parking_timezone=read("PARKING_TIMEZONE", _timezone, cls.parking_timezone),
            sweep_interval_seconds=read(
                "SWEEP_INTERVAL_SECONDS", _positive_float, cls.sweep_interval_seconds
            ),
            public_url=read("PUBLIC_URL", _public_url, None),
            allowed_origins=read("ALLOWED_ORIGINS", _origins, ()),
            http_idle_timeout_seconds=read(
                "HTTP_IDLE_TIMEOUT_SECONDS", _positive_float, cls.http_idle_timeout_seconds
            ),
            request_body_timeout_seconds=read(
                "REQUEST_BODY_TIMEOUT_SECONDS", _positive_float, cls.request_body_timeout_seconds
            ),
            max_connections=read("MAX_CONNECTIONS", _positive_int, cls.max_connections),
            drain_seconds=read("DRAIN_SECONDS", _non_negative_float, None),
            metrics_token=read("METRICS_TOKEN", _metrics_token, None),
            log_format=read("LOG_FORMAT", _log_format, cls.log_format),
            max_sockets_per_user=read(
                "MAX_SOCKETS_PER_USER", _positive_int, cls.max_sockets_per_user
            ),
            max_sockets_per_admin=read(
                "MAX_SOCKETS_PER_ADMIN", _positive_int, cls.max_sockets_per_admin
            ),
            login_checks_per_client=read("LOGIN_CHECKS_PER_CLIENT", _positive_int, None),
            max_exports_per_user=read(
                "MAX_EXPORTS_PER_USER", _positive_int, cls.max_exports_per_user
            ),
            booking_writes_per_minute=read(
                "BOOKING_WRITES_PER_MINUTE", _positive_int, cls.booking_writes_per_minute
            ),
            smtp_host=read("SMTP_HOST", str, None),
            smtp_port=read("SMTP_PORT", _port, cls.smtp_port),
            smtp_username=read("SMTP_USERNAME", str, None),
            smtp_password=read("SMTP_PASSWORD", str, None),
            smtp_tls=read("SMTP_TLS", _smtp_tls, cls.smtp_tls),
            mail_from=read("MAIL_FROM", _mail_from, cls.mail_from),
        )


def _int(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError("must be an integer") from None


def _positive_int(raw: str) -> int:
    value = _int(raw)
    if value <= 0:
        raise ValueError("must be a positive integer")
    return value


def _positive_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("must be a number") from None
    if not value > 0:
        raise ValueError("must be a positive number")
    return value


def _non_negative_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("must be a number") from None
    if not 0 <= value < float("inf"):
        raise ValueError("must be zero or a positive number")
    return value


def _port(raw: str) -> int:
    value = _int(raw)
    if not 0 < value < 65536:
        raise ValueError("must be between 1 and 65535")
    return value


# HS256 with a short key is brute-forceable offline from any issued token.
MIN_SECRET_LENGTH = 32


def _secret(raw: str) -> str:
    if len(raw) < MIN_SECRET_LENGTH:
        raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters")
    return raw


# Sent by a scraper on every request; guessing one of this length is hopeless.
MIN_METRICS_TOKEN_LENGTH = 16
_PRINTABLE = re.compile(r"[!-~]+")


def _metrics_token(raw: str) -> str:
    if len(raw) < MIN_METRICS_TOKEN_LENGTH or not _PRINTABLE.fullmatch(raw):
        raise ValueError(
            f"must be at least {MIN_METRICS_TOKEN_LENGTH} visible ASCII characters, no spaces"
        )
    return raw


LOG_FORMATS = ("text", "json")


def _log_format(raw: str) -> str:
    if raw not in LOG_FORMATS:
        raise ValueError(f"must be one of {', '.join(LOG_FORMATS)}")
    return raw


def _timezone(raw: str) -> str:
    ZoneInfo(raw)
    return raw


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    for origin in origins:
        if not origin.startswith(("http://", "https://")):
            raise ValueError(f"{origin!r} must start with http:// or https://")
    return origins


def _public_url(raw: str) -> str:
    parts = urlsplit(raw.rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// address, e.g. https://parking.example.com")
    if parts.username is not None or parts.query or parts.fragment:
        raise ValueError("must be a plain address: no user, query or fragment")
    if parts.port == 0:  # reading .port also refuses a port that is not a number
        raise ValueError("must not use port 0")
    return parts.geturl()


def _smtp_tls(raw: str) -> str:
    if raw.lower() not in SMTP_TLS_MODES:
        raise ValueError(f"must be one of {', '.join(SMTP_TLS_MODES)}")
    return raw.lower()


def _mail_from(raw: str) -> str:
    _, address = parseaddr(raw)
    if "@" not in address:
        raise ValueError("must be an address such as Smart Parking <parking@example.com>")
    return raw



SETTINGS = web.AppKey("settings", Settings)
