"""Typed application keys, shared by the app factory and the handlers."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from .auth import Authenticator, KnownUsers, LoginThrottle, TokenService
from .settings import Settings

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
TOKENS = web.AppKey("tokens", TokenService)
PASSWORD_AUTHENTICATOR = web.AppKey("password_authenticator", Authenticator)
LOGIN_THROTTLE = web.AppKey("login_throttle", LoginThrottle)
KNOWN_USERS = web.AppKey("known_users", KnownUsers)
