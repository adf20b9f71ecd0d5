"""WebSockets: first-message auth, events for every slot change, fan-out across processes."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time
from typing import Any

import aiohttp
import asyncpg
import jwt
import pytest

from server.db import POOL
from server.listener import LISTENER_NAME
from server.sweeper import Sweeper
from tests.support import (
    ADMIN,
    DRIVER1,
    DRIVER2,
    TEST_JWT_SECRET,
    database_name,
    eventually,
    next_of_type,
    open_socket,
    receive_json,
    slot_body,
    tomorrow,
)


def _token(user_id: int, lifetime: int = 600) -> str:
    now = int(time.time())
    claims = {"sub": str(user_id), "email": "x", "role": "driver", "iat": now, "exp": now + lifetime}
    return jwt.encode(claims, TEST_JWT_SECRET, algorithm="HS256")


async def close_code(ws: Any, timeout: float = 3.0) -> int | None:
    message = await ws.receive(timeout=timeout)
    assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    return ws.close_code


@pytest.fixture
def driver_ids(user_ids):
    return user_ids[DRIVER1], user_ids[DRIVER2]


@pytest.fixture
def admin_id(user_ids):
    return user_ids[ADMIN]


async def test_a_good_token_gets_ready(client, driver_ids):
    ws = await open_socket(client, "/ws", _token(driver_ids[0]))
    await ws.close()


@pytest.mark.parametrize(
    "first_message",
    [
        {"type": "auth", "token": "garbage"},
        {"type": "auth", "token": jwt.encode({"sub": "1", "exp": 1}, TEST_JWT_SECRET)},
        {"type": "auth"},
        {"type": "hello"},
        "not json",
    ],
    ids=["bad token", "expired token", "no token", "wrong message type", "not json"],
)
async def test_a_bad_first_message_closes_with_4401(client, first_message):
    ws = await client.ws_connect("/ws")
    if isinstance(first_message, str):
        await ws.send_str(first_message)
    else:
        await ws.send_json(first_message)
    assert await close_code(ws) == 4401


async def test_no_auth_message_in_time_closes_with_4401(make_client):
    client = await make_client(ws_auth_timeout_seconds=0.3)
    ws = await client.ws_connect("/ws")
    assert await close_code(ws) == 4401


async def test_the_socket_closes_with_4401_when_the_token_expires(client, driver_ids):
    # exp counts whole seconds from a truncated now: 1 s could be almost none.
    ws = await open_socket(client, "/ws", _token(driver_ids[0], lifetime=3))
    assert await close_code(ws, timeout=6) == 4401


async def test_a_database_too_busy_to_check_the_token_closes_with_1013_not_4401(make_client, driver_ids):
    # 4401 tells the browser to sign in again; a busy database is "try again later".
    client = await make_client(database_pool_size=1, database_acquire_timeout_seconds=0.2)
    async with client.app[POOL].acquire():
        ws = await client.ws_connect("/ws")
        await ws.send_json({"type": "auth", "token": _token(driver_ids[0])})
        assert await close_code(ws) == aiohttp.WSCloseCode.TRY_AGAIN_LATER


async def test_a_foreign_origin_is_refused_before_the_upgrade(client, make_client, driver_ids):
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws", headers={"Origin": "https://evil.example.com"})
    assert refused.value.status == 403
    own = await client.ws_connect("/ws", headers={"Origin": str(client.make_url("")).rstrip("/")})
    await own.close()
    trusted = await make_client(allowed_origins=("https://parking.example.com",))
    allowed = await trusted.ws_connect("/ws", headers={"Origin": "https://parking.example.com"})
    await allowed.close()


async def test_booking_and_release_reach_another_drivers_socket_within_a_second(client, auth, spot_ids, driver_ids):
    watcher = await open_socket(client, "/ws", _token(driver_ids[1]))
    body = slot_body(spot_ids[2], tomorrow(), 1)
    created = await (await client.post("/reservations", json=body, headers=auth(DRIVER1))).json()

    booked = await next_of_type(watcher, "reservation.booked", timeout=1)
    # That the slot is taken, never by whom.
    assert booked == {
        "type": "reservation.booked",
        "spot_id": spot_ids[2],
        "spot_number": 2,
        "start_time": created["start_time"],
        "end_time": created["end_time"],
        "reason": "booked",
    }
    await client.put(f"/reservations/{created['id']}/complete", headers=auth(DRIVER1))
    released = await next_of_type(watcher, "reservation.released", timeout=1)
    assert (released["spot_id"], released["start_time"], released["reason"]) == (
        spot_ids[2],
        created["start_time"],
        "completed",
    )
    await watcher.close()


async def test_the_holders_own_sockets_learn_the_change_is_theirs(client, auth, spot_ids, driver_ids):
    # Two tabs of driver 1: the one that did not book still shows it as "Yours".
    other_tab = await open_socket(client, "/ws", _token(driver_ids[0]))
    created = await (
        await client.post("/reservations", json=slot_body(spot_ids[1], tomorrow()), headers=auth(DRIVER1))
    ).json()
    booked = await next_of_type(other_tab, "reservation.booked")
    assert (booked["mine"], booked["reservation_id"]) == (True, created["id"])
    assert "user_id" not in booked and "holder" not in booked
    await other_tab.close()


async def test_the_attendants_socket_sees_who_holds_the_slot(client, auth, spot_ids, driver_ids, admin_id):
    desk = await open_socket(client, "/ws", _token(admin_id))
    created = await (
        await client.post("/reservations", json=slot_body(spot_ids[1], tomorrow()), headers=auth(DRIVER1))
    ).json()
    booked = await next_of_type(desk, "reservation.booked")
    assert booked["reservation_id"] == created["id"]
    assert booked["holder"] == {
        "user_id": driver_ids[0], "display_name": "Driver 1", "email": DRIVER1, "licence_plate": None
    }
    await desk.close()


async def test_a_lost_race_and_an_idempotent_complete_publish_nothing(
    client, auth, spot_ids, driver_ids, admin_id
):
    watcher = await open_socket(client, "/ws", _token(admin_id))
    body = slot_body(spot_ids[3], tomorrow())
    created = await (await client.post("/reservations", json=body, headers=auth(DRIVER1))).json()
    assert (await client.post("/reservations", json=body, headers=auth(DRIVER2))).status == 409
    await client.put(f"/reservations/{created['id']}/complete", headers=auth(DRIVER1))
    await client.put(f"/reservations/{created['id']}/complete", headers=auth(DRIVER1))
    marker = await (await client.post("/reservations", json=slot_body(spot_ids[4], tomorrow()), headers=auth(DRIVER2))).json()
    # Events arrive in commit order, so everything before the marker has arrived by then.
    seen = []
    async with asyncio.timeout(2):
        while not seen or seen[-1]["reservation_id"] != marker["id"]:
            seen.append(await receive_json(watcher))
    assert [(e["type"], e["reservation_id"]) for e in seen] == [
        ("reservation.booked", created["id"]),
        ("reservation.released", created["id"]),
        ("reservation.booked", marker["id"]),
    ]
    await watcher.close()


async def _insert_expired_bookings(conn: asyncpg.Connection, user_id: int, spot_ids: list[int]) -> list[int]:
    rows = await conn.fetch(
        """
        INSERT INTO reservations (user_id, spot_id, start_time, end_time)
        SELECT $1, spot_id, now() - interval '5 hours' - n * interval '1 day', now() - interval '1 hour'
        FROM unnest($2::int[]) WITH ORDINALITY AS u (spot_id, n)
        RETURNING id
        """,
        user_id, spot_ids,
    )
    return [r["id"] for r in rows]


async def test_the_sweeper_releases_an_ended_booking_logs_it_and_publishes_it(
    make_client, db_conn, spot_ids, driver_ids, caplog
):
    client = await make_client(sweep_interval_seconds=0.2)
    watcher = await open_socket(client, "/ws", _token(driver_ids[0]))
    caplog.set_level("INFO", logger="server.sweeper")
    [reservation_id] = await _insert_expired_bookings(db_conn, driver_ids[0], [spot_ids[5]])

    released = await next_of_type(watcher, "reservation.released", timeout=3)
    assert (released["reservation_id"], released["reason"], released["spot_number"]) == (reservation_id, "expired", 5)
    line = f"Auto-released Spot #5 (Reservation ID {reservation_id})"
    await eventually(lambda: line in caplog.messages)
    row = await db_conn.fetchrow("SELECT status, released_by, completed_at FROM reservations WHERE id = $1", reservation_id)
    assert (row["status"], row["released_by"]) == ("completed", "expired") and row["completed_at"] is not None
    # The slot is free again: the same spot and start can be booked.
    await db_conn.execute(
        "INSERT INTO reservations (user_id, spot_id, start_time, end_time) "
        "SELECT $1, spot_id, start_time, end_time FROM reservations WHERE id = $2",
        driver_ids[1], reservation_id,
    )
    await watcher.close()


async def test_two_sweepers_at_once_release_each_booking_exactly_once(
    make_client, db_conn, spot_ids, driver_ids, caplog
):
    caplog.set_level("INFO", logger="server.sweeper")
    first, second = await make_client(), await make_client()
    watcher = await open_socket(first, "/ws", _token(driver_ids[0]))
    ids = await _insert_expired_bookings(db_conn, driver_ids[0], list(spot_ids.values()))
    results = await asyncio.gather(
        # Each app's own pool, as its sweeper task uses it; four sweeps at once.
        *(Sweeper(app.app[POOL], 60).release_expired() for app in (first, second, first, second))
    )
    released_ids = sorted(row["id"] for result in results for row in result)
    assert released_ids == sorted(ids)
    assert len([m for m in caplog.messages if m.startswith("Auto-released")]) == len(ids)
    events = [await next_of_type(watcher, "reservation.released") for _ in ids]
    assert sorted(e["reservation_id"] for e in events) == sorted(ids)
    with pytest.raises(TimeoutError):
        await next_of_type(watcher, "reservation.released", timeout=0.3)
    await watcher.close()


async def test_a_failing_sweep_is_logged_and_the_next_one_still_runs(
    make_client, server_url, database_url, spot_ids, driver_ids, caplog
):
    caplog.set_level("INFO", logger="server.sweeper")
    await make_client(sweep_interval_seconds=0.1)
    name = database_name(database_url)
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)
        await eventually(lambda: any("Sweep failed" in m for m in caplog.messages), timeout=5)
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()
    conn = await asyncpg.connect(database_url)
    try:
        [reservation_id] = await _insert_expired_bookings(conn, driver_ids[0], [spot_ids[1]])
    finally:
        await conn.close()
    line = f"Auto-released Spot #1 (Reservation ID {reservation_id})"
    await eventually(lambda: line in caplog.messages, timeout=5)


async def test_a_booking_on_one_instance_reaches_a_socket_on_another(start_server, auth, spot_ids, driver_ids):
    first, second = start_server(), start_server()
    async with aiohttp.ClientSession() as session:
        watcher = await open_socket(session, second + "/ws", _token(driver_ids[0]))
        async with session.post(first + "/reservations", json=slot_body(spot_ids[1], tomorrow(), 2), headers=auth()) as r:
            assert r.status == 201
            created = await r.json()
        event = await next_of_type(watcher, "reservation.booked", timeout=1)
        assert event["reservation_id"] == created["id"]
        await watcher.close()


async def test_a_killed_listen_connection_reconnects_and_sends_resync(client, auth, db_conn, spot_ids, driver_ids):
    watcher = await open_socket(client, "/ws", _token(driver_ids[0]))
    killed = await db_conn.fetchval(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE application_name = $1 AND datname = current_database()",
        LISTENER_NAME,
    )
    assert killed >= 1
    await next_of_type(watcher, "resync", timeout=5)
    response = await client.post("/reservations", json=slot_body(spot_ids[3], tomorrow(), 2), headers=auth())
    assert response.status == 201
    event = await next_of_type(watcher, "reservation.booked", timeout=1)
    assert event["reservation_id"] == (await response.json())["id"]
    await watcher.close()


async def _stalled_socket(host: str, port: int, token: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A real WebSocket client that authenticates, then never reads again."""
    sock = socket.socket()
    # A tiny receive window so the server's buffers fill after a few events.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=4096)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
    payload = json.dumps({"type": "auth", "token": token}).encode()
    mask = os.urandom(4)
    # One masked text frame (clients must mask) with a 16-bit payload length.
    header = bytes([0x81, 0x80 | 126]) + len(payload).to_bytes(2, "big") + mask
    writer.write(header + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
    await writer.drain()
    assert b"ready" in await reader.read(64)
    return reader, writer


async def test_a_client_that_never_reads_does_not_hold_up_the_others(client, db_conn, driver_ids, caplog):
    stalled = await _stalled_socket(client.host, client.port, _token(driver_ids[0]))
    healthy = await open_socket(client, "/ws", _token(driver_ids[1]))
    # Thousands of events in one transaction: far more than the stalled client's
    # buffers hold. They are not valid slots, which the database does not mind.
    count = 20_000
    await db_conn.execute(
        """
        INSERT INTO reservations (user_id, spot_id, start_time, end_time)
        SELECT $1, (SELECT min(id) FROM spots), t, t + interval '1 hour'
        FROM generate_series(timestamptz '2031-01-01', timestamptz '2031-01-01' + ($2 - 1) * interval '1 hour',
                             interval '1 hour') AS t
        """,
        driver_ids[1], count,
    )
    # A safety bound for 20,000 events on a shared machine, not a speed target.
    async with asyncio.timeout(30):
        for _ in range(count):
            assert (await receive_json(healthy, timeout=5))["type"] == "reservation.booked"
    # The stalled client really was blocking sends: it is dropped after its timeout.
    await eventually(lambda: "Dropping a WebSocket client that stopped reading" in caplog.messages, timeout=5)
    await healthy.close()
    stalled[1].close()
