"""The attendant's changes, live: who is told what, and roles that change under open sessions."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime

import aiohttp
import asyncpg
import jwt

from server import repository
from server.auth import Identities
from tests.support import (
    ADMIN,
    DRIVER1,
    DRIVER2,
    TEST_JWT_SECRET,
    next_of_type,
    open_socket,
    receive_json,
    slot_body,
    tomorrow,
)


def token(user_id: int) -> str:
    now = int(time.time())
    claims = {"sub": str(user_id), "role": "driver", "iat": now, "exp": now + 600}
    return jwt.encode(claims, TEST_JWT_SECRET, algorithm="HS256")


async def test_a_driver_never_learns_who_holds_a_slot(client, auth, spot_ids, user_ids):
    """Every kind of change by driver 1 and the attendant, as seen from driver 2's socket."""
    watcher = await open_socket(client, "/ws", token(user_ids[DRIVER2]))
    day = tomorrow()
    own = await (await client.post("/reservations", json=slot_body(spot_ids[1], day, 0), headers=auth(DRIVER1))).json()
    for_driver = await (
        await client.post(
            "/admin/reservations",
            json={**slot_body(spot_ids[2], day, 1), "user_id": user_ids[DRIVER1]},
            headers=auth(ADMIN),
        )
    ).json()
    guest = {"name": "Grace Hopper", "licence_plate": "COBOL-59"}
    await client.post("/admin/reservations", json={**slot_body(spot_ids[3], day, 0), "guest": guest}, headers=auth(ADMIN))
    await client.put(f"/admin/reservations/{own['id']}/release", json={"reason": "Secret reason"}, headers=auth(ADMIN))
    closure = await (
        await client.post(
            "/admin/closures", json={**slot_body(spot_ids[2], day, 1), "reason": "Private repairs"}, headers=auth(ADMIN)
        )
    ).json()
    assert closure["released"] == [for_driver["id"]]
    await client.delete(f"/admin/closures/{closure['closure']['id']}", headers=auth(ADMIN))
    await client.post("/admin/spots", json={"spot_number": 7, "floor_number": 1}, headers=auth(ADMIN))
    # Driver 2's own booking last: events arrive in commit order.
    marker = await (await client.post("/reservations", json=slot_body(spot_ids[5], day, 2), headers=auth(DRIVER2))).json()

    seen = []
    async with asyncio.timeout(5):
        while not seen or seen[-1].get("reservation_id") != marker["id"]:
            seen.append(await receive_json(watcher, timeout=5))
    kinds = [message["type"] for message in seen]
    assert kinds.count("reservation.booked") == 4 and "closure.created" in kinds and "spot.created" in kinds
    others = [message for message in seen if not message.get("mine")]
    for message in others:
        assert not {"user_id", "holder", "reservation_id", "release_reason", "checked_in_at"} & message.keys()
    text = json.dumps(others)
    for secret in ("Driver 1", DRIVER1, "Grace Hopper", "COBOL-59", "Secret reason", "Private repairs"):
        assert secret not in text
    assert seen[-1]["mine"] is True
    await watcher.close()


async def test_the_holder_sees_the_attendants_reason_live(client, auth, spot_ids, user_ids):
    holder = await open_socket(client, "/ws", token(user_ids[DRIVER1]))
    created = await (
        await client.post("/reservations", json=slot_body(spot_ids[4], tomorrow()), headers=auth(DRIVER1))
    ).json()
    await client.put(f"/admin/reservations/{created['id']}/release", json={"reason": "Barrier fault"}, headers=auth(ADMIN))
    released = await next_of_type(holder, "reservation.released")
    assert (released["mine"], released["reservation_id"], released["reason"], released["release_reason"]) == (
        True,
        created["id"],
        "admin",
        "Barrier fault",
    )
    await holder.close()


async def test_every_attendant_change_reaches_a_socket_on_another_process(start_server, auth, spot_ids, user_ids):
    first, second = start_server(), start_server()
    day = tomorrow()
    async with aiohttp.ClientSession() as session:
        watcher = await open_socket(session, second + "/ws", token(user_ids[DRIVER2]))

        async def send(method: str, path: str, body: dict | None = None) -> dict:
            async with session.request(method, first + path, json=body, headers=auth(ADMIN)) as response:
                assert response.status < 300, await response.text()
                return await response.json() if response.status != 204 else {}

        booked = await send("POST", "/admin/reservations", {**slot_body(spot_ids[1], day), "user_id": user_ids[DRIVER1]})
        assert (await next_of_type(watcher, "reservation.booked"))["spot_id"] == spot_ids[1]
        await send("PUT", f"/admin/reservations/{booked['id']}/release", {"reason": "x"})
        assert (await next_of_type(watcher, "reservation.released"))["reason"] == "admin"
        closure = await send("POST", "/admin/closures", {**slot_body(spot_ids[2], day), "reason": "x"})
        assert (await next_of_type(watcher, "closure.created"))["spot_id"] == spot_ids[2]
        await send("DELETE", f"/admin/closures/{closure['closure']['id']}")
        assert (await next_of_type(watcher, "closure.deleted"))["spot_id"] == spot_ids[2]
        await send("POST", "/admin/spots", {"spot_number": 8, "floor_number": 2})
        assert (await next_of_type(watcher, "spot.created"))["spot_number"] == 8
        await watcher.close()


async def test_a_demoted_attendant_loses_access_on_every_instance_at_once(start_server, auth, reset_db, user_ids):
    servers = [start_server(), start_server()]
    async with aiohttp.ClientSession() as session:
        for server in servers:
            async with session.get(server + "/admin/users", headers=auth(ADMIN)) as response:
                assert response.status == 200
        desk = await open_socket(session, servers[1] + "/ws", token(user_ids[ADMIN]))
        conn = await asyncpg.connect(reset_db)
        try:
            await conn.execute("UPDATE users SET role = 'driver' WHERE email = $1", ADMIN)
        finally:
            await conn.close()
        # The role change is published: each instance forgets the cached role and
        # closes the user's sockets, which reconnect with their new rights.
        closed = await desk.receive(timeout=3)
        assert (closed.type, closed.data, closed.extra) == (aiohttp.WSMsgType.CLOSE, 4401, "role changed")
        for server in servers:
            async with asyncio.timeout(3):
                while True:
                    async with session.get(server + "/admin/users", headers=auth(ADMIN)) as response:
                        if response.status == 403:
                            break


async def test_a_deleted_users_token_and_sockets_end_at_once(client, db_conn, spot_ids):
    user_id = await db_conn.fetchval(
        "INSERT INTO users (email, display_name) VALUES ('temp@parking.com', 'Temp') RETURNING id"
    )
    headers = {"Authorization": f"Bearer {token(user_id)}"}
    assert (await client.get("/spots", headers=headers)).status == 200
    ws = await open_socket(client, "/ws", token(user_id))
    await db_conn.execute("DELETE FROM users WHERE id = $1", user_id)
    closed = await ws.receive(timeout=3)
    assert (closed.type, closed.data, closed.extra) == (aiohttp.WSMsgType.CLOSE, 4401, "account deleted")
    async with asyncio.timeout(3):
        while (await client.get("/spots", headers=headers)).status != 401:
            pass


async def test_roles_are_remembered_for_the_ttl_and_forgotten_on_demand(reset_db, user_ids):
    pool = await asyncpg.create_pool(reset_db, min_size=1, max_size=1)
    try:
        cached, uncached = Identities(ttl_seconds=60), Identities(ttl_seconds=0)
        assert (await cached.get(pool, user_ids[ADMIN])).is_admin
        await pool.execute("UPDATE users SET role = 'driver' WHERE id = $1", user_ids[ADMIN])
        assert (await cached.get(pool, user_ids[ADMIN])).is_admin  # within the TTL, no query
        assert not (await uncached.get(pool, user_ids[ADMIN])).is_admin
        cached.forget(user_ids[ADMIN])
        assert not (await cached.get(pool, user_ids[ADMIN])).is_admin
        assert await repository.users.role_of(pool, user_id=10**15) is None
    finally:
        await pool.close()


async def test_a_role_read_that_overlaps_a_published_change_is_not_remembered(reset_db, user_ids):
    # The read may have answered before the change committed: serving it from
    # the cache for a minute would undo the forget().
    admin = user_ids[ADMIN]
    pool = await asyncpg.create_pool(reset_db, min_size=1, max_size=1)
    locker = await asyncpg.connect(reset_db)
    identities = Identities(ttl_seconds=60)
    try:
        async with locker.transaction():
            await locker.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
            reading = asyncio.create_task(identities.get(pool, admin))
            async with asyncio.timeout(3):  # until the read queues behind the lock
                while not await locker.fetchval("SELECT count(*) FROM pg_locks WHERE NOT granted"):
                    await asyncio.sleep(0.01)
            identities.forget(admin)
        assert (await reading).is_admin
        await locker.execute("UPDATE users SET role = 'driver' WHERE id = $1", admin)
        assert not (await identities.get(pool, admin)).is_admin
    finally:
        await locker.close()
        await pool.close()


async def test_a_demoted_attendants_socket_hears_nothing_committed_after_the_demotion(
    client, db_conn, spot_ids, user_ids
):
    # The demotion and a booking commit together, so their events arrive in one
    # read: the socket must be out of the hub before the booking is fanned out.
    desk = await open_socket(client, "/ws", token(user_ids[ADMIN]))
    start = datetime.combine(tomorrow(), dtime(8), tzinfo=UTC)
    async with db_conn.transaction():
        await db_conn.execute("UPDATE users SET role = 'driver' WHERE id = $1", user_ids[ADMIN])
        await db_conn.execute(
            "INSERT INTO reservations (user_id, spot_id, start_time, end_time) VALUES ($1, $2, $3, $4)",
            user_ids[DRIVER1], spot_ids[1], start, start + timedelta(hours=4),
        )
    closed = await desk.receive(timeout=3)
    assert (closed.type, closed.data, closed.extra) == (aiohttp.WSMsgType.CLOSE, 4401, "role changed")
