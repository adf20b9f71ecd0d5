"""The application factory: wires settings, resources, middlewares and routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from . import db, frontend, ical, logs, metrics, offline, realtime
from .auth import (
    IDENTITIES,
    TOKENS,
    Identities,
    TokenService,
    admin_middleware,
    identity_middleware,
)
from .csv_export import EXPORTS_IN_FLIGHT, ExportsInFlight
from .drain import CLOSE_REASON, DRAIN, Drain
from .dispatcher import DELIVERIES_DUE, Dispatcher
from .embedded import EMBEDDED
from .errors import error_middleware
from .hub import HUB, Hub
from .listener import EventListener
from .lobby import LOBBY_FEED, LobbyFeed
from .mailer import Mailer
from .login import (
    LOGIN_THROTTLE,
    PASSWORD_AUTHENTICATOR,
    PASSWORD_CHECKS,
    LoginThrottle,
    PasswordAuthenticator,
    PasswordChecks,
)
from .metrics import METRICS, Metrics
from .session_secret import session_secret
from .settings import SETTINGS, Settings
from .sweeper import Sweeper
from .views import (
    admin_board,
    admin_lot,
    admin_notifications,
    calendar,
    drivers,
    gate,
    lobby,
    me,
    notifications,
    reports,
    series,
    session,
    vehicles,
    waitlist,
)
from .webhooks import WebhookSender
from .write_limit import BOOKING_WRITE_LIMIT, BookingWriteLimit

log = logging.getLogger(__name__)

# Every JSON body this API accepts is a few hundred bytes.
MAX_BODY_BYTES = 64 * 1024


def create_app(settings: Settings) -> web.Application:
    tokens = TokenService(
        session_secret(settings.jwt_secret, settings.jwt_secret_file), settings.jwt_ttl_seconds
    )

    drain = Drain()
    app_metrics = Metrics(enabled=settings.metrics_token is not None)
    app = web.Application(
        client_max_size=MAX_BODY_BYTES,
        middlewares=[
            logs.request_id_middleware,  # first: every line a request logs carries its id
            # Outside the error middleware: it times the answer as it was sent.
            *([app_metrics.middleware] if app_metrics.enabled else []),
            drain.middleware,  # outside the rest: a hurried stop cancels the whole request
            error_middleware,
            frontend.html_not_found,  # before the JWT check, which would answer 401
            tokens.middleware(),
            identity_middleware,
            admin_middleware,
            logs.user_id_middleware,
        ],
    )
    app[SETTINGS] = settings
    app[DRAIN] = drain
    app[TOKENS] = tokens
    app[IDENTITIES] = Identities()
    app[LOGIN_THROTTLE] = LoginThrottle(
        settings.login_max_failures, settings.login_failure_window_seconds
    )
    app[PASSWORD_CHECKS] = PasswordChecks(
        settings.login_queue_capacity, settings.login_checks_per_client
    )
    app[BOOKING_WRITE_LIMIT] = BookingWriteLimit(settings.booking_writes_per_minute)
    app[METRICS] = app_metrics
    app[EXPORTS_IN_FLIGHT] = ExportsInFlight(settings.max_exports_per_user)
    app[ical.RENDERED_FEEDS] = ical.RenderedFeeds(calendar.RENDERED_FEEDS_BYTES)
    app[HUB] = Hub(settings.max_sockets_per_user, settings.max_sockets_per_admin)
    app_metrics.websockets.set_function(app[HUB].__len__)
    app[DELIVERIES_DUE] = asyncio.Event()

    # Started in this order, stopped in reverse.
    app.cleanup_ctx.extend([_database, _event_listener, _sweeper, _dispatcher])
    # Sockets must close before aiohttp waits for handlers to finish on shutdown.
    app.on_shutdown.append(_close_sockets)
    for module in (
        session,
        drivers,
        series,
        reports,
        me,
        notifications,
        vehicles,
        calendar,
        admin_board,
        admin_lot,
        admin_notifications,
        gate,
        lobby,
        waitlist,
        realtime,
        metrics,
    ):
        app.add_routes(module.routes)
    frontend.setup(app, settings.static_dir)
    offline.setup(app, settings.static_dir)
    app.on_response_prepare.append(frontend.security_headers)
    app.on_response_prepare.append(logs.echo_request_id)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    async with db.open_database(settings) as (url, embedded):
        await db.run_migrations(url, settings.migrations_dir)
        pool = await db.create_pool(url, settings)
        app[db.DATABASE_URL] = url
        app[db.POOL] = pool
        app[METRICS].watch_pool(pool)
        app[PASSWORD_AUTHENTICATOR] = PasswordAuthenticator(pool)
        watcher = None
        if embedded is not None:
            app[EMBEDDED] = embedded
            watcher = asyncio.create_task(embedded.watch(), name="embedded-postgres-watcher")
        try:
            yield
        finally:
            if watcher is not None:
                await _stop(watcher)
            await pool.close()


async def _event_listener(app: web.Application) -> AsyncIterator[None]:
    feed = LobbyFeed(app[db.POOL], app[HUB], app[SETTINGS].tz)
    app[LOBBY_FEED] = feed
    listener = EventListener(
        app[db.DATABASE_URL],
        app[HUB],
        app[IDENTITIES],
        feed,
        metrics=app[METRICS],
        deliveries_due=app[DELIVERIES_DUE],
        tz=app[SETTINGS].tz,
    )
    task = asyncio.create_task(listener.run(), name="event-listener")
    try:
        # Serve only once events flow, so no change goes unseen after startup.
        async with asyncio.timeout(10):
            await listener.listening.wait()
        yield
    finally:
        await _stop(task)
        await feed.stop()


async def _sweeper(app: web.Application) -> AsyncIterator[None]:
    sweeper = Sweeper(
        app[db.POOL],
        app[SETTINGS].sweep_interval_seconds,
        login_window=app[LOGIN_THROTTLE].window,
        metrics=app[METRICS],
        tz=app[SETTINGS].tz,
    )
    task = asyncio.create_task(sweeper.run(), name="stale-booking-sweeper")
    yield
    # A sweep under way commits; the next does not start.
    sweeper.stop()
    await app[DRAIN].finish(task)


async def _dispatcher(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    mailer = None
    if settings.smtp_host is None:
        log.info("Mail is off (SMTP_HOST is unset): notifications reach the inbox only")
    else:
        mailer = Mailer(settings)
        log.info(
            "Mail goes through %s:%d (%s) from %s",
            settings.smtp_host, settings.smtp_port, settings.smtp_tls, settings.mail_from,
        )  # fmt: skip
    webhooks = WebhookSender()
    dispatcher = Dispatcher(
        app[db.POOL],
        mailer=mailer,
        webhooks=webhooks,
        wake=app[DELIVERIES_DUE],
        tz=settings.tz,
        mail_from=settings.mail_from,
        base_url=settings.base_url,
        concurrency=settings.delivery_concurrency,
        poll_seconds=settings.delivery_poll_seconds,
        retry_scale=settings.delivery_retry_scale,
        metrics=app[METRICS],
    )
    task = asyncio.create_task(dispatcher.run(), name="outbox-dispatcher")
    try:
        yield
    finally:
        await _stop(task)
        await webhooks.close()


async def _close_sockets(app: web.Application) -> None:
    await app[HUB].close_all(CLOSE_REASON)


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
