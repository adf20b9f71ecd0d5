"""server/openapi.yaml: a valid document, served, matching the routes, and what the server really answers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from aiohttp import web
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from openapi_spec_validator import validate

from server.app import create_app
from server.auth import PUBLIC_PATHS
from server.errors import _HTTP_CODES, ApiError
from server.frontend import APP_PAGES, DOCS_PAGE, OPENAPI_DOCUMENT, STATIC_PREFIX
from tests.support import ADMIN, DRIVER1, DRIVER2, PASSWORD, slot_body, tomorrow

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    with OPENAPI_DOCUMENT.open() as file:
        return yaml.safe_load(file)


def documented_operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method.upper(), path, operation


def registered_operations(app: web.Application) -> set[tuple[str, str]]:
    """(METHOD, path template) of every API route; HEAD, static files and HTML pages aside."""
    operations = set()
    for route in app.router.routes():
        resource = route.resource
        if route.method == "HEAD" or resource is None or resource.canonical.startswith(STATIC_PREFIX):
            continue
        if route.method == "GET" and resource.canonical in (*APP_PAGES, DOCS_PAGE):
            continue
        operations.add((route.method, resource.canonical))
    return operations


def test_the_document_is_valid_openapi_3(document):
    validate(document)
    assert document["openapi"].startswith("3.")


async def test_the_document_is_served_as_yaml(client, document):
    response = await client.get("/openapi.yaml")
    assert response.status == 200
    assert response.content_type == "application/yaml"
    assert yaml.safe_load(await response.text()) == document


def test_every_registered_route_is_documented(settings, document):
    documented = {(method, path) for method, path, _ in documented_operations(document)}
    missing = registered_operations(create_app(settings)) - documented
    assert not missing, f"routes missing from openapi.yaml: {sorted(missing)}"


def test_everything_documented_is_registered(settings, document):
    documented = {(method, path) for method, path, _ in documented_operations(document)}
    absent = documented - registered_operations(create_app(settings))
    assert not absent, f"openapi.yaml documents routes the app lacks: {sorted(absent)}"


def test_public_operations_are_exactly_the_unauthenticated_paths(document):
    for method, path, operation in documented_operations(document):
        # A path parameter stands for a value such as the server would see.
        concrete = re.sub(r"\{\w+\}", "x1", path)
        public = any(re.match(pattern, concrete) for pattern in PUBLIC_PATHS)
        # Public means "no session or API token": GET /metrics has a token of its own.
        schemes = {name for requirement in operation.get("security", document["security"]) for name in requirement}
        assert ("bearerAuth" not in schemes) == public, f"{method} {path}"
        if not public:
            assert "401" in operation["responses"], f"{method} {path} must document 401"


def all_subclasses(cls: type) -> set[type]:
    direct = set(cls.__subclasses__())
    return direct.union(*(all_subclasses(sub) for sub in direct))


def documented_error_codes(node: Any) -> set[str]:
    """Every value of an `enum` under a `code` property, anywhere in the document."""
    codes: set[str] = set()
    if isinstance(node, dict):
        code = node.get("code")
        if isinstance(code, dict) and "enum" in code:
            codes.update(code["enum"])
        for value in node.values():
            codes |= documented_error_codes(value)
    elif isinstance(node, list):
        for value in node:
            codes |= documented_error_codes(value)
    return codes


def test_error_codes_match_the_server(document):
    domain_codes = {cls.code for cls in all_subclasses(ApiError)} | {ApiError.code}
    # Codes the error middleware gives aiohttp's own exceptions.
    http_codes = set(_HTTP_CODES.values()) | {"invalid_token", "http_error"}
    documented = documented_error_codes(document)
    assert domain_codes <= documented, f"undocumented: {sorted(domain_codes - documented)}"
    unknown = documented - domain_codes - http_codes
    assert not unknown, f"codes the server never sends: {sorted(unknown)}"


# --- the server's answers conform to the document ------------------------------


def check(document: dict[str, Any], schema: dict[str, Any], instance: Any) -> None:
    # The schema travels with the components so that its #/components/... refs resolve.
    rooted = {**schema, "components": document["components"]}
    validator = OAS30Validator(rooted, format_checker=oas30_format_checker)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]
    assert not errors, errors


def documented_response(document: dict[str, Any], method: str, path: str, status: int) -> dict[str, Any]:
    """The response documented for this request's operation and status."""
    templates = [t for t in document["paths"] if t == path]
    templates += [
        t for t in document["paths"] if re.fullmatch(re.sub(r"\{\w+\}", "[^/]+", t), path)
    ]
    assert templates, f"{path} is not documented"
    responses = document["paths"][templates[0]][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {path} answered {status}, which is not documented"
    response = responses[str(status)]
    if "$ref" in response:
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return response


@pytest.fixture
def answer(document: dict[str, Any]) -> Any:
    """Send a request; check its status, content type, body and headers against the document."""

    async def request(client: Any, method: str, path_and_query: str, **kwargs: Any) -> Any:
        response = await client.request(method, path_and_query, **kwargs)
        path = path_and_query.split("?")[0]
        documented = documented_response(document, method, path, response.status)
        assert set(documented["content"]) == {response.content_type}
        body = await response.json()
        check(document, documented["content"][response.content_type]["schema"], body)
        for name, header in documented.get("headers", {}).items():
            if header.get("required"):
                assert name in response.headers, f"{name} header missing"
                value: Any = response.headers[name]
                if header["schema"]["type"] == "integer":
                    value = int(value)
                check(document, header["schema"], value)
        return body

    return request


async def test_login_answers_conform(make_client, answer):
    client = await make_client(login_max_failures=1)
    await answer(client, "POST", "/login", json={"email": DRIVER1, "password": PASSWORD})
    wrong = {"email": DRIVER1, "password": "wrong"}
    assert (await answer(client, "POST", "/login", json=wrong))["error"]["code"] == "invalid_credentials"
    assert (await answer(client, "POST", "/login", json=wrong))["error"]["code"] == "too_many_attempts"
    no_password = await answer(client, "POST", "/login", json={"email": DRIVER2})
    assert no_password["error"]["code"] == "validation_error"
    not_json = await answer(client, "POST", "/login", data=b"{", headers={"Content-Type": "application/json"})
    assert not_json["error"]["code"] == "bad_request"


async def test_spots_answers_conform(client, auth, spot_ids, answer):
    day = tomorrow()
    await client.post("/reservations", json=slot_body(spot_ids[1], day), headers=auth(DRIVER1))
    grid = await answer(client, "GET", f"/spots?date={day}", headers=auth(DRIVER1))
    assert grid["spots"][0]["slots"][0]["mine"] is True
    await answer(client, "GET", "/spots?date=tomorrow", headers=auth())
    await answer(client, "GET", "/spots")
    invalid = await answer(client, "GET", "/spots", headers={"Authorization": "Bearer not.a.jwt"})
    assert invalid["error"]["code"] == "invalid_token"


async def test_reservation_answers_conform(client, auth, spot_ids, answer):
    body = slot_body(spot_ids[2], tomorrow(), 1)
    created = await answer(client, "POST", "/reservations", json=body, headers=auth(DRIVER1))
    for request_body, headers, code in (
        (body, auth(DRIVER2), "slot_taken"),
        (slot_body(spot_ids[3], tomorrow(), 1), auth(DRIVER1), "already_booked_in_slot"),
        ({**body, "spot_id": 999_999}, auth(DRIVER2), "spot_not_found"),
        ({**body, "end_time": body["start_time"]}, auth(), "validation_error"),
    ):
        refused = await answer(client, "POST", "/reservations", json=request_body, headers=headers)
        assert refused["error"]["code"] == code

    one = f"/reservations/{created['id']}"
    await answer(client, "GET", one, headers=auth(DRIVER1))
    await answer(client, "GET", one, headers=auth(DRIVER2))
    await answer(client, "GET", "/reservations/abc", headers=auth())
    completed = await answer(client, "PUT", one + "/complete", headers=auth(DRIVER1))
    assert completed["released_by"] == "user"
    await answer(client, "PUT", one + "/complete", headers=auth(DRIVER2))
    listed = await answer(client, "GET", "/reservations", headers=auth(DRIVER1))
    assert [r["id"] for r in listed["reservations"]] == [created["id"]]
    await answer(client, "GET", "/reservations?status=open", headers=auth())


async def test_health_answers_conform(client, answer):
    await answer(client, "GET", "/healthz")
    await answer(client, "GET", "/readyz")


async def test_websocket_refusals_conform(client, answer):
    await answer(client, "GET", "/ws")
    upgrade = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    }
    foreign = await answer(client, "GET", "/ws", headers={**upgrade, "Origin": "https://elsewhere.example"})
    assert foreign["error"]["code"] == "forbidden"


async def test_websocket_messages_match_their_schemas(client, auth, spot_ids, document):
    schemas = document["components"]["schemas"]
    token = auth(DRIVER2)["Authorization"].removeprefix("Bearer ")
    check(document, schemas["WsAuth"], {"type": "auth", "token": token})
    ws = await client.ws_connect("/ws")
    await ws.send_json({"type": "auth", "token": token})
    check(document, schemas["WsReady"], await ws.receive_json(timeout=2))

    desk = await client.ws_connect("/ws")
    await desk.send_json({"type": "auth", "token": auth(ADMIN)["Authorization"].removeprefix("Bearer ")})
    check(document, schemas["WsReady"], await desk.receive_json(timeout=2))

    audit_records = []

    async def next_event(socket):
        """The next event, after checking any audit records (the attendant's) on the way."""
        while True:
            event = json.loads((await socket.receive(timeout=2)).data)
            if event["type"] != "audit.recorded":
                return event
            check(document, schemas["WsAuditEvent"], event)
            audit_records.append(event)

    body = slot_body(spot_ids[4], tomorrow(), 2)
    created = await (await client.post("/reservations", json=body, headers=auth(DRIVER1))).json()
    await client.put(f"/reservations/{created['id']}/complete", headers=auth(DRIVER1))
    for expected_type in ("reservation.booked", "reservation.released"):
        event = json.loads((await ws.receive(timeout=2)).data)
        check(document, schemas["WsReservationEvent"], event)
        assert (event["type"], event["start_time"]) == (expected_type, created["start_time"])
        seen_by_desk = await next_event(desk)
        check(document, schemas["WsReservationEvent"], seen_by_desk)
        assert seen_by_desk["reservation_id"] == created["id"]

    closed = await client.post(
        "/admin/closures", json={**slot_body(spot_ids[4], tomorrow(), 2), "reason": "Paint"}, headers=auth(ADMIN)
    )
    closure_id = (await closed.json())["closure"]["id"]
    await client.delete(f"/admin/closures/{closure_id}", headers=auth(ADMIN))
    for socket in (ws, desk):
        for expected_type in ("closure.created", "closure.deleted"):
            event = await next_event(socket)
            check(document, schemas["WsClosureEvent"], event)
            assert event["type"] == expected_type
    await client.post("/admin/spots", json={"spot_number": 6, "floor_number": 3}, headers=auth(ADMIN))
    check(document, schemas["WsSpotEvent"], json.loads((await ws.receive(timeout=2)).data))
    await client.put("/admin/rules", json={"booking_horizon_days": 20}, headers=auth(ADMIN))
    check(document, schemas["WsRulesEvent"], json.loads((await ws.receive(timeout=2)).data))
    check(document, schemas["WsResync"], {"type": "resync"})
    assert (await next_event(desk))["type"] == "spot.created"
    assert (await next_event(desk))["type"] == "rules.changed"
    last = json.loads((await desk.receive(timeout=2)).data)  # each change's record follows its event
    check(document, schemas["WsAuditEvent"], last)
    audit_records.append(last)
    assert [r["action"] for r in audit_records][:2] == ["closure.created", "closure.deleted"]
    assert [r["action"] for r in audit_records][-2:] == ["spot.created", "rules.changed"]
    await ws.close()
    await desk.close()


async def test_admin_answers_conform(client, auth, spot_ids, user_ids, answer):
    day = tomorrow()
    assert (await answer(client, "GET", f"/admin/board?date={day}", headers=auth(DRIVER1)))["error"]["code"] == "forbidden"
    for_driver = await answer(
        client, "POST", "/admin/reservations",
        json={**slot_body(spot_ids[1], day), "user_id": user_ids[DRIVER1]}, headers=auth(ADMIN),
    )
    walk_in = await answer(
        client, "POST", "/admin/reservations",
        json={**slot_body(spot_ids[2], day), "guest": {"name": "Ada", "licence_plate": "ab-1"}}, headers=auth(ADMIN),
    )
    assert walk_in["holder"] == {"guest_name": "Ada", "licence_plate": "AB-1"}
    for request_body, code in (
        ({**slot_body(spot_ids[1], day), "guest": {"name": "B", "licence_plate": "C"}}, "slot_taken"),
        ({**slot_body(spot_ids[3], day), "user_id": user_ids[DRIVER1]}, "already_booked_in_slot"),
        ({**slot_body(spot_ids[3], day), "user_id": 999_999}, "user_not_found"),
        ({**slot_body(spot_ids[3], day)}, "validation_error"),
    ):
        refused = await answer(client, "POST", "/admin/reservations", json=request_body, headers=auth(ADMIN))
        assert refused["error"]["code"] == code
    board = await answer(client, "GET", f"/admin/board?date={day}", headers=auth(ADMIN))
    assert board["spots"][0]["slots"][0]["holder"]["user_id"] == user_ids[DRIVER1]
    await answer(client, "GET", f"/admin/reservations/{for_driver['id']}", headers=auth(ADMIN))
    released = await answer(
        client, "PUT", f"/admin/reservations/{for_driver['id']}/release", json={"reason": "Barrier fault"},
        headers=auth(ADMIN),
    )
    assert (released["released_by"], released["release_reason"]) == ("admin", "Barrier fault")
    await answer(client, "PUT", f"/admin/reservations/{walk_in['id']}/release", json={}, headers=auth(ADMIN))
    await answer(client, "GET", "/admin/users", headers=auth(ADMIN))
    closure = await answer(
        client, "POST", "/admin/closures",
        json={**slot_body(spot_ids[2], day, 0), "end_time": slot_body(spot_ids[2], day, 2)["end_time"], "reason": "Paint"},
        headers=auth(ADMIN),
    )
    assert closure["released"] == [walk_in["id"]]  # its 422 release above changed nothing
    taken = await answer(client, "POST", "/reservations", json=slot_body(spot_ids[2], day, 1), headers=auth(DRIVER2))
    assert taken["error"]["code"] == "spot_closed"
    await answer(client, "GET", "/admin/closures", headers=auth(ADMIN))
    await answer(client, "POST", "/admin/closures", json={**slot_body(999_999, day), "reason": "x"}, headers=auth(ADMIN))
    spot = await answer(client, "POST", "/admin/spots", json={"spot_number": 6, "floor_number": 0}, headers=auth(ADMIN))
    duplicate = await answer(client, "POST", "/admin/spots", json={"spot_number": 6, "floor_number": 0}, headers=auth(ADMIN))
    assert duplicate["error"]["code"] == "spot_number_taken"
    await answer(client, "PATCH", f"/admin/spots/{spot['id']}", json={"type": "handicap"}, headers=auth(ADMIN))
    await answer(client, "PATCH", "/admin/spots/999999", json={"type": "handicap"}, headers=auth(ADMIN))


async def test_rules_and_check_in_answers_conform(client, auth, spot_ids, db_conn, user_ids, answer):
    await answer(client, "GET", "/rules", headers=auth())
    await answer(client, "PUT", "/admin/rules", json={"max_upcoming_per_driver": 1}, headers=auth(ADMIN))
    await answer(client, "PUT", "/admin/rules", json={"booking_horizon_days": 0}, headers=auth(ADMIN))
    await answer(client, "POST", "/reservations", json=slot_body(spot_ids[1], tomorrow(), 0), headers=auth(DRIVER1))
    limited = await answer(client, "POST", "/reservations", json=slot_body(spot_ids[1], tomorrow(), 1), headers=auth(DRIVER1))
    assert limited["error"]["code"] == "booking_limit_reached"
    now_id = await db_conn.fetchval(
        "INSERT INTO reservations (user_id, spot_id, start_time, end_time) "
        "VALUES ($1, $2, now() - interval '1 hour', now() + interval '3 hours') RETURNING id",
        user_ids[DRIVER2], spot_ids[3],
    )
    await answer(client, "PUT", f"/reservations/{now_id}/check-in", headers=auth(DRIVER2))
    await answer(client, "PUT", f"/admin/reservations/{now_id}/check-in", headers=auth(ADMIN))
    later = (await (await client.get("/reservations", headers=auth(DRIVER1))).json())["reservations"][0]
    closed = await answer(client, "PUT", f"/reservations/{later['id']}/check-in", headers=auth(DRIVER1))
    assert closed["error"]["code"] == "check_in_closed"
    await answer(client, "GET", "/stats", headers=auth())


async def test_token_and_calendar_answers_conform(client, auth, answer):
    created = await answer(client, "POST", "/me/tokens", json={"name": "script"}, headers=auth(DRIVER1))
    bearer = {"Authorization": f"Bearer {created['token']}"}
    await answer(client, "GET", "/me/tokens", headers=bearer)
    refused = await answer(client, "POST", "/me/tokens", json={"name": "again"}, headers=bearer)
    assert refused["error"]["code"] == "forbidden"
    await answer(client, "POST", "/me/tokens", json={"name": ""}, headers=auth(DRIVER1))
    feed = await answer(client, "POST", "/me/calendar", headers=auth(DRIVER1))
    response = await client.get(feed["path"])
    assert response.status == 200 and response.content_type == "text/calendar"
    await answer(client, "GET", "/calendar/nothing-here.ics")
    missing = await answer(client, "DELETE", "/me/tokens/999999", headers=auth(DRIVER1))
    assert missing["error"]["code"] == "token_not_found"
    await client.delete(f"/me/tokens/{created['id']}", headers=auth(DRIVER1))
    revoked = await answer(client, "GET", "/me/tokens", headers=bearer)
    assert revoked["error"]["code"] == "invalid_token"
