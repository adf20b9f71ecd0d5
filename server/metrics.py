"""Prometheus metrics: what each instance counts, and GET /metrics behind METRICS_TOKEN."""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

from .db import BoundedPool
from .errors import (
    ApiError,
    Handler,
    InvalidCredentials,
    NotFound,
    ServerBusy,
    TooManyAttempts,
    TooManySignIns,
    Unauthorized,
)
from .settings import SETTINGS

PREFIX = "smart_parking"
# Latencies from a fraction of a millisecond (a cached grid) to the 2 s statement limit and beyond.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Any other method is counted as "other": a label never takes a value a client invents.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # no route: a 404 or 405 answered by the router


class Metrics:
    """This instance's metrics, in a registry of its own (tests run several apps in one process).

    Every label value comes from a fixed set (route templates, status codes,
    error codes, outcomes), never from a request: no id, key, email or token
    can reach a label. Without METRICS_TOKEN nothing is recorded: each metric
    is a stand-in that ignores its calls, so call sites need no condition.

    A metric is one line in __init__. A gauge the database knows best (the
    outbox's pending rows) is set before each scrape by refresh_on_scrape().
    """

    def __init__(self, enabled: bool) -> None:
        self.registry = CollectorRegistry() if enabled else None
        self._refreshers: list[Callable[[], Awaitable[None]]] = []
        self.requests = self._histogram(
            "http_request_duration_seconds",
            "HTTP requests by route template, method and status: the _count is the request count.",
            ["route", "method", "status"],
        )
        self.bookings = self._counter("bookings", "Bookings made, by drivers and by the attendant.")
        self.booking_refusals = self._counter(
            "booking_refusals", "Bookings refused, by error code.", ["code"]
        )
        self.logins = self._counter(
            "logins", "Sign-ins by outcome: ok, failed, throttled, busy, error.", ["outcome"]
        )
        self.websockets = self._gauge("websockets_open", "WebSockets registered on this instance.")
        self.events = self._counter(
            "events_fanned_out", "Database events this instance sent on to its WebSockets."
        )
        self.sweeper_releases = self._counter(
            "sweeper_releases", "Bookings the sweeper released: expired, no_show.", ["kind"]
        )
        self.listener_reconnects = self._counter(
            "listener_reconnects", "Times the LISTEN connection was lost and restored."
        )
        self.deliveries = self._counter(
            "notification_deliveries",
            "Mail and webhook attempts, by channel and outcome (delivered, retried, failed).",
            ["channel", "outcome"],
        )
        self.outbox_pending = self._gauge(
            "outbox_pending", "Deliveries in the outbox not yet delivered or failed (all instances)."
        )
        self.pool_size = self._gauge("db_pool_connections", "Open pooled database connections.")
        self.pool_max = self._gauge("db_pool_max_connections", "The pool's limit.")
        self.pool_in_use = self._gauge("db_pool_in_use", "Pooled connections lent out right now.")
        self.pool_waiting = self._gauge("db_pool_waiting", "Callers waiting for a connection.")

    @classmethod
    def disabled(cls) -> Metrics:
        return cls(enabled=False)

    @property
    def enabled(self) -> bool:
        return self.registry is not None

    def _counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Any:
        if self.registry is None:
            return _UNRECORDED
        return Counter(f"{PREFIX}_{name}", documentation, labels, registry=self.registry)

    def _gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Any:
        if self.registry is None:
            return _UNRECORDED
        return Gauge(f"{PREFIX}_{name}", documentation, labels, registry=self.registry)

    def _histogram(self, name: str, documentation: str, labels: Sequence[str]) -> Any:
        if self.registry is None:
            return _UNRECORDED
        return Histogram(
            f"{PREFIX}_{name}",
            documentation,
            labels,
            registry=self.registry,
            buckets=LATENCY_BUCKETS,
        )

    def refresh_on_scrape(self, refresh: Callable[[], Awaitable[None]]) -> None:
        """Run `refresh` before each scrape, e.g. to set a gauge from a query."""
        self._refreshers.append(refresh)

    async def refresh(self) -> None:
        for refresh in self._refreshers:
            await refresh()

    def watch_pool(self, pool: BoundedPool) -> None:
        """Read the pool's figures at each scrape."""
        self.pool_size.set_function(pool.size)
        self.pool_max.set_function(pool.max_size)
        self.pool_in_use.set_function(pool.in_use)
        self.pool_waiting.set_function(lambda: pool.waiting)

    @contextmanager
    def booking(self) -> Iterator[None]:
        """Around a booking: counts it made, or refused by its error code."""
        try:
            yield
        except ApiError as exc:
            if exc.status < 500:
                self.booking_refusals.labels(exc.code).inc()
            raise
        self.bookings.inc()

    @contextmanager
    def login(self) -> Iterator[None]:
        """Around a sign-in: counts its outcome."""
        outcome = "error"
        try:
            yield
            outcome = "ok"
        except InvalidCredentials:
            outcome = "failed"
            raise
        except TooManyAttempts:
            outcome = "throttled"
            raise
        except (ServerBusy, TooManySignIns):  # the queue, or this address's share of it, is full
            outcome = "busy"
            raise
        finally:
            self.logins.labels(outcome).inc()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Times every request; outside the error middleware, so it sees the status answered."""
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            resource = request.match_info.route.resource
            route = UNMATCHED if resource is None else resource.canonical
            method = request.method if request.method in METHODS else "other"
            self.requests.labels(route, method, str(status)).observe(time.perf_counter() - started)


METRICS = web.AppKey("metrics", Metrics)

routes = web.RouteTableDef()


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """The Prometheus text format, for Authorization: Bearer $METRICS_TOKEN only."""
    expected = request.app[SETTINGS].metrics_token
    recorded = request.app[METRICS]
    if expected is None or recorded.registry is None:
        raise NotFound("Metrics are off: set METRICS_TOKEN to turn them on.")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    # Compared in constant time: the comparison must not reveal how much of a guess was right.
    matches = hmac.compare_digest(token.strip().encode(), expected.encode())
    if scheme.lower() != "bearer" or not matches:
        raise Unauthorized(
            "GET /metrics needs 'Authorization: Bearer <METRICS_TOKEN>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    await recorded.refresh()
    return web.Response(
        body=generate_latest(recorded.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )


class _Unrecorded:
    """A metric that records nothing: what every metric is while metrics are off."""

    def labels(self, *values: str) -> _Unrecorded:
        return self

    def inc(self, amount: float = 1) -> None:
        pass

    def observe(self, value: float) -> None:
        pass

    def set(self, value: float) -> None:
        pass

    def set_function(self, function: Callable[[], float]) -> None:
        pass


_UNRECORDED = _Unrecorded()
