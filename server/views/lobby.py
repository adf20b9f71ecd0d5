"""The lobby screen: its page and board at a secret URL, and the attendant making that URL."""

from __future__ import annotations

from aiohttp import web

from .. import lobby, repository
from ..auth import IDENTITY, new_secret, secret_hash
from ..db import POOL
from ..errors import NotFound
from ..public_url import link
from ..responses import json_response
from ..settings import SETTINGS
from ..slots import local_time

routes = web.RouteTableDef()

LOBBY_PAGE = "lobby/index.html"


async def _require_key(request: web.Request) -> None:
    """The page and its board exist only for the current key: anything else is a 404."""
    key = request.query.get("key", "")
    if not (
        key
        and len(key) <= 64
        and await repository.lobby.key_is_current(request.app[POOL], key_hash=secret_hash(key))
    ):
        raise NotFound("There is no lobby screen at this address; it may have been replaced.")


# Public (see auth.PUBLIC_PATHS): the key in the query is the credential, as
# a screen in the entrance signs in to nothing; the access log redacts it.
@routes.get("/lobby")
async def lobby_page(request: web.Request) -> web.FileResponse:
    """The full-screen, read-only board; static/lobby/ draws it and keeps it live."""
    await _require_key(request)
    page = request.app[SETTINGS].static_dir / LOBBY_PAGE
    return web.FileResponse(page, headers={"Cache-Control": "no-cache"})


@routes.get("/lobby/board")
async def lobby_board(request: web.Request) -> web.Response:
    """Today's free spots per floor and slot: counts and spot numbers, nothing about anyone."""
    await _require_key(request)
    return json_response(await lobby.board(request.app[POOL], request.app[SETTINGS].tz))


@routes.post("/admin/lobby")
async def rotate_lobby_key(request: web.Request) -> web.Response:
    """Make the lobby screen's secret URL, or replace it: the old one stops at once."""
    key = new_secret()
    created_at = await repository.lobby.rotate_key(
        request.app[POOL], key_hash=secret_hash(key), created_by=request[IDENTITY].user_id
    )
    path = f"/lobby?key={key}"
    return json_response(
        {
            "url": link(request, path),
            "path": path,
            "created_at": local_time(created_at, request.app[SETTINGS].tz),
        },
        status=201,
    )
