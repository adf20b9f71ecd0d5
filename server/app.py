"""The application factory: wires settings, resources, middlewares and routes."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator

from aiohttp import web

from . import db, frontend
from .auth import KnownUsers, LoginThrottle, PasswordAuthenticator, TokenService, identity_middleware
from .errors import error_middleware
from .keys import KNOWN_USERS, LOGIN_THROTTLE, PASSWORD_AUTHENTICATOR, POOL, SETTINGS, TOKENS
from .settings import Settings
from .views import routes

log = logging.getLogger(__name__)

# Every JSON body this API accepts is a few hundred bytes.
MAX_BODY_BYTES = 64 * 1024


def create_app(settings: Settings) -> web.Application:
    secret = settings.jwt_secret
    if secret is None:
        secret = secrets.token_urlsafe(48)
        log.warning("JWT_SECRET is not set: using a random secret; tokens die with this process")
    tokens = TokenService(secret, settings.jwt_ttl_seconds)
    known_users = KnownUsers()

    app = web.Application(
        client_max_size=MAX_BODY_BYTES,
        middlewares=[
            error_middleware,
            tokens.middleware(),
            identity_middleware(known_users, POOL),
        ],
    )
    app[SETTINGS] = settings
    app[TOKENS] = tokens
    app[KNOWN_USERS] = known_users
    app[LOGIN_THROTTLE] = LoginThrottle(
        settings.login_max_failures, settings.login_failure_window_seconds
    )

    app.cleanup_ctx.append(_database)
    app.add_routes(routes)
    frontend.setup(app, settings.static_dir)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    async with db.database_url(settings) as url:
        await db.run_migrations(url, settings.migrations_dir)
        pool = await db.create_pool(url, settings)
        app[POOL] = pool
        app[PASSWORD_AUTHENTICATOR] = PasswordAuthenticator(pool)
        try:
            yield
        finally:
            await pool.close()
