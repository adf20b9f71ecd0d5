"""The lobby screen: a secret, rotatable URL; a board of free spots; a socket that learns counts only."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import aiohttp
import pytest

from zoneinfo import ZoneInfo

from server.slots import today
from tests.support import ADMIN, DRIVER1, afternoon_timezone, receive_json, slot_body

# What a lobby message may never contain: no reservation, person or plate.
FORBIDDEN_KEYS = {"reservation_id", "id", "user_id", "holder", "guest_name", "licence_plate", "display_name",
                  "email", "reason", "release_reason", "closure_id", "spot_id"}  # fmt: skip


def keys_in(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_in(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_in(v)}
    return set()


async def make_lobby(client, auth) -> str:
    response = await client.post("/admin/lobby", headers=auth(ADMIN))
    assert response.status == 201
    body = await response.json()
    assert body["path"].startswith("/lobby?key=") and body["url"].endswith(body["path"])
    return body["path"].removeprefix("/lobby?key=")


async def lobby_socket(session: aiohttp.ClientSession, base: str, key: str):
    ws = await session.ws_connect(base.replace("http", "ws", 1) + "/ws")
    await ws.send_json({"type": "lobby", "key": key})
    return ws


def free_count(board: dict, floor: int, slot: int) -> int:
    return next(f for f in board["floors"] if f["floor_number"] == floor)["slots"][slot]["free_count"]


async def test_without_the_key_the_page_and_board_are_404(client, auth):
    for path in ("/lobby", "/lobby/board", "/lobby?key=", "/lobby/board?key=nope"):
        assert (await client.get(path)).status == 404, path
    key = await make_lobby(client, auth)
    page = await client.get(f"/lobby?key={key}")
    assert page.status == 200 and page.content_type == "text/html"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert "script-src" not in page.headers["Content-Security-Policy"]  # nothing inline, no eval
    board = await (await client.get(f"/lobby/board?key={key}")).json()
    assert [f["floor_number"] for f in board["floors"]] == [1, 2]
    assert [len(f["slots"]) for f in board["floors"]] == [3, 3]


async def test_a_new_key_replaces_the_old_one_and_closes_its_sockets(client, auth):
    old = await make_lobby(client, auth)
    ws = await lobby_socket(client.session, str(client.make_url("")), old)
    assert await receive_json(ws) == {"type": "ready"}
    new = await make_lobby(client, auth)
    closed = await ws.receive(timeout=3)
    assert (closed.type, closed.data) == (aiohttp.WSMsgType.CLOSE, 4404)
    assert (await client.get(f"/lobby/board?key={old}")).status == 404
    assert (await client.get(f"/lobby/board?key={new}")).status == 200
    refused = await lobby_socket(client.session, str(client.make_url("")), old)
    closed = await refused.receive(timeout=3)
    assert (closed.type, closed.data) == (aiohttp.WSMsgType.CLOSE, 4404)


async def test_a_driver_cannot_make_the_lobby_url(client, auth):
    assert (await client.post("/admin/lobby", headers=auth(DRIVER1))).status == 403


async def test_the_access_log_redacts_the_key(client, auth, caplog):
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    key = await make_lobby(client, auth)
    await client.get(f"/lobby?key={key}")
    await client.get(f"/lobby/board?key={key}&x=1")
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "aiohttp.access")
    assert "/lobby?key=REDACTED" in logged and "/lobby/board?key=REDACTED&x=1" in logged
    assert key not in logged


async def test_counts_change_live_from_another_server_and_say_nothing_of_anyone(
    make_client, auth, spot_ids, user_ids, start_server: Callable[..., str], db_conn
):
    """Every lobby message, for a booking, a walk-in, a release and a closure: counts only."""
    zone = afternoon_timezone()  # today's 16:00–20:00 slot has not begun
    client = await make_client(parking_timezone=zone)
    key = await make_lobby(client, auth)
    other = start_server(PARKING_TIMEZONE=zone)  # a second instance on the same database
    day = today(ZoneInfo(zone))
    # Driver 1's one car: the attendant's events name its plate, the lobby's must not.
    await client.post("/me/vehicles", json={"licence_plate": "LOBBY-1"}, headers=auth(DRIVER1))
    lobby_base = str(client.make_url(""))
    async with aiohttp.ClientSession() as session:
        ws = await lobby_socket(session, lobby_base, key)
        assert await receive_json(ws) == {"type": "ready"}
        token = (await (await session.post(other + "/login", json={"email": ADMIN, "password": "password123"})).json())[
            "token"
        ]
        headers = {"Authorization": f"Bearer {token}"}
        initial = await (await session.get(f"{other}/lobby/board?key={key}")).json()
        last_slot = 2
        before = free_count(initial, 2, last_slot)

        async def change(method: str, path: str, body: dict | None = None) -> dict:
            response = await session.request(method, other + path, json=body, headers=headers)
            assert response.status in (200, 201, 204), await response.text()
            message = await receive_json(ws, timeout=5)
            assert message["type"] == "lobby.board"
            assert not keys_in(message) & FORBIDDEN_KEYS, message
            text = json.dumps(message)
            for secret in ("Grace", "COBOL", "LOBBY-1", "Bob", "Driver 1", "Repainting", "Hurt"):
                assert secret not in text
            return message

        booking = {**slot_body(spot_ids[4], day, last_slot, zone), "user_id": user_ids[DRIVER1]}
        booked = await change("POST", "/admin/reservations", booking)
        assert free_count(booked, 2, last_slot) == before - 1
        walk_in = {**slot_body(spot_ids[5], day, last_slot, zone), "guest": {"name": "Grace", "licence_plate": "COBOL-1"}}
        walked = await change("POST", "/admin/reservations", walk_in)
        assert free_count(walked, 2, last_slot) == before - 2
        reservation_id = await db_conn.fetchval("SELECT id FROM reservations WHERE spot_id = $1", spot_ids[4])
        released = await change("PUT", f"/admin/reservations/{reservation_id}/release", {"reason": "Hurt"})
        assert free_count(released, 2, last_slot) == before - 1
        closed = await change("POST", "/admin/closures", {**slot_body(spot_ids[4], day, last_slot, zone), "reason": "Repainting"})
        floor = next(f for f in closed["floors"] if f["floor_number"] == 2)
        assert 4 in floor["slots"][last_slot]["closed_spots"]
        await ws.close()


@pytest.mark.parametrize("first", [{"type": "lobby"}, {"type": "lobby", "key": 5}, {"type": "lobby", "key": "x" * 65}])
async def test_a_lobby_socket_without_a_valid_key_is_closed(client, first):
    ws = await client.session.ws_connect(str(client.make_url("/ws")))
    await ws.send_json(first)
    closed = await ws.receive(timeout=3)
    assert (closed.type, closed.data) == (aiohttp.WSMsgType.CLOSE, 4404)

