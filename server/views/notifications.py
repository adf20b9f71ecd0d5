"""A driver's notifications: the inbox, marking it read, and what they are sent."""

from __future__ import annotations

from aiohttp import web

from .. import repository
from ..auth import IDENTITY
from ..db import POOL
from ..errors import ValidationFailed
from ..responses import json_response
from ..settings import SETTINGS
from ..shapes import notification_json
from ..validation import bool_field, int_field, int_param, json_object, only_fields

routes = web.RouteTableDef()

DEFAULT_PAGE, MAX_PAGE = 20, 100
# The largest id a route accepts (ID_PARAM: 18 digits).
MAX_ID = 10**18 - 1
SETTINGS_FIELDS = ("email", "reminders")


@routes.get("/me/notifications")
async def list_notifications(request: web.Request) -> web.Response:
    """The caller's inbox, newest first: ?before=ID pages back, ?limit=N (at most 100)."""
    query = request.query
    before = int_param(request, "before", maximum=MAX_ID) if "before" in query else None
    limit = int_param(request, "limit", maximum=MAX_PAGE) if "limit" in query else DEFAULT_PAGE
    rows, unread = await repository.notifications.list_notifications(
        request.app[POOL], user_id=request[IDENTITY].user_id, before=before, limit=limit
    )
    tz = request.app[SETTINGS].tz
    return json_response(
        {"notifications": [notification_json(row, tz) for row in rows], "unread_count": unread}
    )


@routes.post("/me/notifications/read")
async def mark_read(request: web.Request) -> web.Response:
    """Mark read up to an id ({"up_to": ID}), or everything ({})."""
    body = await json_object(request)
    only_fields(body, ("up_to",))
    up_to = int_field(body, "up_to", maximum=MAX_ID) if "up_to" in body else None
    unread = await repository.notifications.mark_read(
        request.app[POOL], user_id=request[IDENTITY].user_id, up_to=up_to
    )
    return json_response({"unread_count": unread})


@routes.get("/me/notification-settings")
async def get_settings(request: web.Request) -> web.Response:
    return json_response(
        await repository.notifications.get_settings(
            request.app[POOL], user_id=request[IDENTITY].user_id
        )
    )


@routes.put("/me/notification-settings")
async def put_settings(request: web.Request) -> web.Response:
    """Mail off still fills the inbox; reminders off stops them on every channel."""
    body = await json_object(request)
    only_fields(body, SETTINGS_FIELDS)
    if not body:
        raise ValidationFailed("Send 'email', 'reminders', or both.")
    changes = {name: bool_field(body, name) for name in body}
    settings = await repository.notifications.put_settings(
        request.app[POOL],
        user_id=request[IDENTITY].user_id,
        email=changes.get("email"),
        reminders=changes.get("reminders"),
    )
    return json_response(settings)
