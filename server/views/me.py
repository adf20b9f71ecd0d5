"""The caller's own credentials: personal API tokens for scripts, and their calendar feed's URL."""

from __future__ import annotations

from aiohttp import web

from .. import repository
from ..auth import API_TOKEN_PREFIX, IDENTITY, new_secret, secret_hash
from ..db import POOL
from ..errors import Forbidden
from ..responses import json_response
from ..settings import SETTINGS
from ..slots import local_time
from ..validation import ID_PARAM, json_object, path_id, string_field

routes = web.RouteTableDef()

MAX_TOKEN_NAME = 100


def require_session(request: web.Request) -> int:
    """The caller's id, if they signed in: a token may not mint further credentials."""
    identity = request[IDENTITY]
    if identity.token_id is not None:
        raise Forbidden("An API token cannot create credentials; sign in to do this.")
    return identity.user_id


@routes.post("/me/tokens")
async def create_token(request: web.Request) -> web.Response:
    """A new personal API token, shown this once; only its hash is kept."""
    user_id = require_session(request)
    name = string_field(await json_object(request), "name", max_length=MAX_TOKEN_NAME).strip()
    token = new_secret(API_TOKEN_PREFIX)
    created = await repository.credentials.create_token(
        request.app[POOL], user_id=user_id, name=name, token_hash=secret_hash(token)
    )
    tz = request.app[SETTINGS].tz
    return json_response(
        {
            "id": created["id"],
            "name": created["name"],
            "token": token,
            "created_at": local_time(created["created_at"], tz),
        },
        status=201,
    )


@routes.get("/me/tokens")
async def list_tokens(request: web.Request) -> web.Response:
    tz = request.app[SETTINGS].tz
    tokens = await repository.credentials.list_tokens(
        request.app[POOL], user_id=request[IDENTITY].user_id
    )
    return json_response(
        {
            "tokens": [
                {
                    "id": token["id"],
                    "name": token["name"],
                    "created_at": local_time(token["created_at"], tz),
                    "last_used_at": local_time(token["last_used_at"], tz),
                }
                for token in tokens
            ]
        }
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
    return json_response(
        {
            # The key is the credential: calendar apps cannot send headers.
            "url": f"{request.scheme}://{request.host}{path}",
            "path": path,
            "created_at": local_time(created_at, request.app[SETTINGS].tz),
        },
        status=201,
    )
