"""A driver's own vehicles: the plates the gate knows them by."""

from __future__ import annotations

from aiohttp import web

from .. import repository
from ..auth import IDENTITY
from ..db import POOL
from ..plates import spelled_plate
from ..responses import json_response
from ..settings import SETTINGS
from ..shapes import vehicle_json
from ..validation import ID_PARAM, MAX_VEHICLE_LABEL, json_object, path_id, string_field

routes = web.RouteTableDef()


@routes.get("/me/vehicles")
async def list_vehicles(request: web.Request) -> web.Response:
    tz = request.app[SETTINGS].tz
    vehicles = await repository.vehicles.list_vehicles(
        request.app[POOL], user_id=request[IDENTITY].user_id
    )
    return json_response({"vehicles": [vehicle_json(v, tz) for v in vehicles]})


@routes.post("/me/vehicles")
async def add_vehicle(request: web.Request) -> web.Response:
    """Register a plate (at most 3); stored upper-cased, matched without spaces, hyphens, dots."""
    body = await json_object(request)
    plate = spelled_plate(string_field(body, "licence_plate"))
    label = None
    if body.get("label") is not None:
        label = string_field(body, "label", max_length=MAX_VEHICLE_LABEL).strip()
    vehicle = await repository.vehicles.add_vehicle(
        request.app[POOL], user_id=request[IDENTITY].user_id, licence_plate=plate, label=label
    )
    return json_response(
        vehicle_json(vehicle, request.app[SETTINGS].tz),
        status=201,
        headers={"Location": f"/me/vehicles/{vehicle['id']}"},
    )


@routes.delete(f"/me/vehicles/{ID_PARAM}")
async def remove_vehicle(request: web.Request) -> web.Response:
    """Bookings that named it keep their spot, without a vehicle."""
    await repository.vehicles.delete_vehicle(
        request.app[POOL], vehicle_id=path_id(request), user_id=request[IDENTITY].user_id
    )
    return web.Response(status=204)
