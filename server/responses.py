"""JSON responses: one encoder for every answer, errors included."""

from __future__ import annotations

import functools
import json

from aiohttp import web

# Messages contain en dashes ("08:00–12:00"); send them as UTF-8, not \u escapes.
json_dumps = functools.partial(json.dumps, ensure_ascii=False)
json_response = functools.partial(web.json_response, dumps=json_dumps)


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    return json_response(
        {"error": {"code": code, "message": message}}, status=status, headers=headers
    )
