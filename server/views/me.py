"""The caller's own credentials: personal API tokens for scripts, and their calendar feed's URL."""

from __future__ import annotations

from aiohttp import web

from .. import repository
from ..auth import API_TOKEN_PREFIX, IDENTITY, new_secret, secret_hash
from ..db import POOL
from ..errors import Forbidden
from ..public_url import link
from ..responses import json_response
from ..settings import SETTINGS
from ..shapes import calendar_feed_json, new_token_json, tokens_json
from ..validation import (
    ID_PARAM,
    int_field,
    json_object,
    next_page,
    page_params,
    path_id,
    string_field,
)

routes = web.RouteTableDef()

MAX_TOKEN_NAME = 100
MAX_TOKEN_DAYS = 365


def require_session(request: web.Request) -> int:
    """The caller's id, if they signed in: a token may not mint further credentials."""
    identity = request[IDENTITY]
    if identity.token_id is not None:
        raise Forbidden("An API token cannot create credentials; sign in to do this.")
    return identity.user_id


@routes.post("/me/tokens")
async def create_token(request: web.Request) -> web.Response:
    """A new personal API token, shown this once; only its hash is kept.

    The api_tokens_enforce_live_limit trigger caps the live ones per user.
    """
    user_id = require_session(request)
    body = await json_object(request)
    name = string_field(body, "name", max_length=MAX_TOKEN_NAME).strip()
    expires_in_days = None
    if body.get("expires_in_days") is not None:
        expires_in_days = int_field(body, "expires_in_days", maximum=MAX_TOKEN_DAYS)
    token = new_secret(API_TOKEN_PREFIX)
    created = await repository.credentials.create_token(
        request.app[POOL],
        user_id=user_id,
        name=name,
        token_hash=secret_hash(token),
        expires_in_days=expires_in_days,
    )
    tz = request.app[SETTINGS].tz
    return json_response(new_token_json(created, token, tz), status=201)


@routes.get("/me/tokens")
async def list_tokens(request: web.Request) -> web.Response:
    """The caller's tokens, newest first, a page at a time (`next` links the rest)."""
    tz = request.app[SETTINGS].tz
    limit, before = page_params(request)
    tokens = await repository.credentials.list_tokens(
        request.app[POOL], user_id=request[IDENTITY].user_id, limit=limit + 1, before=before
    )
    return json_response(
        tokens_json(tokens[:limit], tz, next_link=next_page(request, tokens, limit, "id"))
    )


@routes.delete(f"/me/tokens/{ID_PARAM}")
async def revoke_token(request: web.Request) -> web.Response:
    """Revoke one of the caller's tokens: its next request fails, on every server."""
    await repository.credentials.delete_token(
        request.app[POOL], token_id=path_id(request), user_id=request[IDENTITY].user_id
    )
    return web.Response(status=204)


@routes.post("/me/calendar")
async def rotate_calendar_feed(request: web.Request) -> web.Response:
    """Create the caller's private feed URL, or replace it: the old one stops at once."""
    user_id = require_session(request)
    key = new_secret()
    created_at = await repository.credentials.rotate_feed(
        request.app[POOL], user_id=user_id, key_hash=secret_hash(key)
    )
    path = f"/calendar/{key}.ics"
    url = link(request, path)
    tz = request.app[SETTINGS].tz
    return json_response(calendar_feed_json(url, path, created_at, tz), status=201)
