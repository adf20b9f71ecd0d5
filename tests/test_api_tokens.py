"""Personal API tokens: created by a session, shown once, acting as their owner, revocable everywhere."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from datetime import datetime, timedelta

import aiohttp
import pytest

from tests.support import ADMIN, DRIVER1, DRIVER2, open_socket, slot_body, tomorrow


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def new_token(client, headers, name="script") -> dict:
    response = await client.post("/me/tokens", json={"name": name}, headers=headers)
    assert response.status == 201
    return await response.json()


async def test_a_token_is_shown_once_stored_hashed_and_acts_as_its_owner(client, auth, db_conn, spot_ids):
    created = await new_token(client, auth(DRIVER1), name="  lobby display  ")
    assert created["name"] == "lobby display" and created["token"].startswith("spk_")
    assert len(created["token"]) >= 4 + 43  # 256 random bits
    stored = await db_conn.fetchrow("SELECT * FROM api_tokens WHERE id = $1", created["id"])
    assert bytes(stored["token_hash"]) == hashlib.sha256(created["token"].encode()).digest()
    assert created["token"] not in repr(dict(stored))

    booked = await client.post("/reservations", json=slot_body(spot_ids[1], tomorrow()), headers=bearer(created["token"]))
    assert booked.status == 201
    mine = await (await client.get("/reservations", headers=auth(DRIVER1))).json()
    assert [r["id"] for r in mine["reservations"]] == [(await booked.json())["id"]]

    listed = await (await client.get("/me/tokens", headers=auth(DRIVER1))).json()
    assert listed["tokens"] == [
        {
            "id": created["id"],
            "name": "lobby display",
            "created_at": created["created_at"],
            "last_used_at": listed["tokens"][0]["last_used_at"],
            "expires_at": None,
        }
    ]
    assert listed["tokens"][0]["last_used_at"] is not None
    # Another user's list does not show it.
    assert (await (await client.get("/me/tokens", headers=auth(DRIVER2))).json())["tokens"] == []


async def test_a_token_has_its_owners_current_role(client, auth, db_conn):
    token = (await new_token(client, auth(ADMIN)))["token"]
    assert (await client.get("/admin/board", headers=bearer(token))).status == 200
    await db_conn.execute("UPDATE users SET role = 'driver' WHERE email = $1", ADMIN)
    assert (await client.get("/admin/board", headers=bearer(token))).status == 403


async def test_a_token_cannot_create_credentials(client, auth):
    token = (await new_token(client, auth(DRIVER1)))["token"]
    for path, body in (("/me/tokens", {"name": "another"}), ("/me/calendar", None)):
        response = await client.post(path, json=body, headers=bearer(token))
        assert response.status == 403
        assert (await response.json())["error"]["code"] == "forbidden"


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 101}, {"name": 3}])
async def test_a_token_needs_a_name(client, auth, body):
    response = await client.post("/me/tokens", json=body, headers=auth(DRIVER1))
    assert response.status == 422 and "'name'" in (await response.json())["error"]["message"]


async def test_revoking_ends_the_token_and_only_the_owner_may(client, auth):
    created = await new_token(client, auth(DRIVER1))
    other = await client.delete(f"/me/tokens/{created['id']}", headers=auth(DRIVER2))
    assert (other.status, (await other.json())["error"]["code"]) == (404, "token_not_found")
    assert (await client.get("/spots", headers=bearer(created["token"]))).status == 200
    assert (await client.delete(f"/me/tokens/{created['id']}", headers=auth(DRIVER1))).status == 204
    refused = await client.get("/spots", headers=bearer(created["token"]))
    assert (refused.status, (await refused.json())["error"]["code"]) == (401, "invalid_token")
    again = await client.delete(f"/me/tokens/{created['id']}", headers=auth(DRIVER1))
    assert again.status == 404


@pytest.mark.parametrize("token", ["spk_", "spk_not-a-real-token", "spk_" + "A" * 43])
async def test_an_unknown_token_is_a_json_401(client, token):
    response = await client.get("/spots", headers=bearer(token))
    assert (response.status, (await response.json())["error"]["code"]) == (401, "invalid_token")


async def test_a_token_revoked_on_one_instance_fails_on_another_at_once(start_server, auth):
    first, second = start_server(), start_server()
    async with aiohttp.ClientSession() as session:
        async with session.post(first + "/me/tokens", json={"name": "cron"}, headers=auth(DRIVER1)) as response:
            created = await response.json()
        async with session.get(second + "/spots", headers=bearer(created["token"])) as response:
            assert response.status == 200
        socket = await open_socket(session, second + "/ws", created["token"])
        async with session.delete(first + f"/me/tokens/{created['id']}", headers=auth(DRIVER1)) as response:
            assert response.status == 204
        # The very next request: no cache to wait out.
        async with session.get(second + "/spots", headers=bearer(created["token"])) as response:
            assert response.status == 401
        closed = await socket.receive(timeout=3)
        assert (closed.type, closed.data, closed.extra) == (aiohttp.WSMsgType.CLOSE, 4401, "token revoked")


# --- the cap and expiry ---------------------------------------------------------

TOKEN_CAP = 20


async def test_racing_creations_on_two_servers_stop_at_twenty_live_tokens(make_client, auth, db_conn, user_ids):
    first, second = await make_client(), await make_client()
    headers = auth(DRIVER1)
    responses = await asyncio.gather(
        *((first, second)[i % 2].post("/me/tokens", json={"name": f"t{i}"}, headers=headers) for i in range(30))
    )
    statuses = Counter(r.status for r in responses)
    assert statuses == {201: TOKEN_CAP, 409: 30 - TOKEN_CAP}
    refused = next(r for r in responses if r.status == 409)
    assert (await refused.json())["error"]["code"] == "token_limit_reached"
    stored = await db_conn.fetchval("SELECT count(*) FROM api_tokens WHERE user_id = $1", user_ids[DRIVER1])
    assert stored == TOKEN_CAP
    # The cap is per user.
    await new_token(first, auth(DRIVER2))


async def test_an_expired_token_is_refused_and_no_longer_counts(client, auth, db_conn):
    created = [await new_token(client, auth(DRIVER1), name=f"t{i}") for i in range(TOKEN_CAP)]
    assert (await client.post("/me/tokens", json={"name": "one more"}, headers=auth(DRIVER1))).status == 409
    await db_conn.execute("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1", created[0]["id"])

    refused = await client.get("/spots", headers=bearer(created[0]["token"]))
    assert (refused.status, (await refused.json())["error"]["code"]) == (401, "invalid_token")
    assert (await client.get("/spots", headers=bearer(created[1]["token"]))).status == 200
    await new_token(client, auth(DRIVER1), name="replacement")


async def test_a_token_may_be_given_an_expiry_of_up_to_a_year(client, auth, db_conn):
    response = await client.post("/me/tokens", json={"name": "ci", "expires_in_days": 365}, headers=auth(DRIVER1))
    assert response.status == 201
    created = await response.json()
    lifetime = await db_conn.fetchval("SELECT expires_at - created_at FROM api_tokens WHERE id = $1", created["id"])
    assert lifetime == timedelta(days=365)
    assert datetime.fromisoformat(created["expires_at"]) - datetime.fromisoformat(created["created_at"]) == timedelta(days=365)
    listed = (await (await client.get("/me/tokens", headers=auth(DRIVER1))).json())["tokens"]
    assert listed[0]["expires_at"] == created["expires_at"]
    assert (await client.get("/spots", headers=bearer(created["token"]))).status == 200


@pytest.mark.parametrize("days", [0, 366, -1, "30", True, 1.5])
async def test_an_expiry_outside_one_to_365_days_is_a_422(client, auth, days):
    response = await client.post("/me/tokens", json={"name": "ci", "expires_in_days": days}, headers=auth(DRIVER1))
    assert response.status == 422
    assert "'expires_in_days'" in (await response.json())["error"]["message"]


async def test_a_socket_on_an_expiring_token_closes_when_it_expires(client, auth, db_conn):
    created = await new_token(client, auth(DRIVER1))
    await db_conn.execute("UPDATE api_tokens SET expires_at = now() + interval '1 second' WHERE id = $1", created["id"])
    async with aiohttp.ClientSession() as session:
        ws = await open_socket(session, str(client.make_url("/ws")), created["token"])
        closed = await ws.receive(timeout=5)
        assert closed.type == aiohttp.WSMsgType.CLOSE and ws.close_code == 4401
