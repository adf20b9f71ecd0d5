"""Typed application keys, shared by the app factory and the handlers."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from .auth import Authenticator, KnownUsers, LoginThrottle, TokenService
from .realtime import Hub
from .settings import Settings
from .sweeper import Sweeper

SETTINGS = web.AppKey("settings", Settings)
DATABASE_URL = web.AppKey("database_url", str)
POOL = web.AppKey("pool", asyncpg.Pool)
TOKENS = web.AppKey("tokens", TokenService)
PASSWORD_AUTHENTICATOR = web.AppKey("password_authenticator", Authenticator)
LOGIN_THROTTLE = web.AppKey("login_throttle", LoginThrottle)
KNOWN_USERS = web.AppKey("known_users", KnownUsers)
HUB = web.AppKey("hub", Hub)
SWEEPER = web.AppKey("sweeper", Sweeper)
