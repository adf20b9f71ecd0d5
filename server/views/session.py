"""Signing in, and the health checks that load balancers and containers ask."""

from __future__ import annotations

from aiohttp import web

from .. import repository
from ..auth import TOKENS
from ..db import POOL, within
from ..drain import DRAIN
from ..embedded import EMBEDDED
from ..errors import DatabaseUnavailable
from ..login import LOGIN_THROTTLE, PASSWORD_AUTHENTICATOR, PASSWORD_CHECKS
from ..metrics import METRICS
from ..responses import json_response
from ..shapes import session_json
from ..validation import json_object, string_field

routes = web.RouteTableDef()

READY_WITHIN_SECONDS = 2.0


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    body = await json_object(request)
    email = string_field(body, "email", max_length=254).strip()
    password = string_field(body, "password", max_length=1024)
    pool = request.app[POOL]
    throttle = request.app[LOGIN_THROTTLE]
    # Keyed by client too, so an attacker cannot lock a driver out from elsewhere.
    client = request.remote or ""
    # Admitted first (a full queue, or this address's full share of it, refuses
    # at once, counting nothing), then the attempt is counted, then the password
    # checked: a failure stays counted.
    with request.app[METRICS].login():
        with request.app[PASSWORD_CHECKS].admit(client):
            await throttle.reserve(pool, email=email, client=client)
            user = await request.app[PASSWORD_AUTHENTICATOR].authenticate(
                {"email": email, "password": password}
            )
        await throttle.clear(pool, email=email, client=client)
    tokens = request.app[TOKENS]
    return json_response(session_json(tokens.issue(user), tokens.ttl_seconds, user))


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    # First: a draining instance is out of rotation whatever its database says.
    request.app[DRAIN].check_ready()
    embedded = request.app.get(EMBEDDED)
    if embedded is not None and embedded.state != "running":
        raise DatabaseUnavailable(embedded.detail)
    try:
        # within(), not wait_for(): that would wait for a stalled query's cleanup.
        await within(READY_WITHIN_SECONDS, repository.database.ping(request.app[POOL]))
    except Exception as exc:  # any failure means "not ready", whatever its type
        raise DatabaseUnavailable(f"Database check failed: {type(exc).__name__}") from None
    return json_response({"status": "ready"})
