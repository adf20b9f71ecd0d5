"""One account cannot hold every connection: a cap on its open WebSockets per server."""

from __future__ import annotations

import aiohttp

from tests.support import ADMIN, DRIVER1, DRIVER2, open_socket

DEFAULT_CAP = 10


def token(auth, email: str) -> str:
    return auth(email)["Authorization"].removeprefix("Bearer ")


async def test_the_11th_socket_of_one_user_is_refused_with_1008_and_another_user_connects(client, auth):
    mine = [await open_socket(client, "/ws", token(auth, DRIVER1)) for _ in range(DEFAULT_CAP)]

    refused = await client.ws_connect("/ws")
    await refused.send_json({"type": "auth", "token": token(auth, DRIVER1)})
    message = await refused.receive(timeout=5)
    assert message.type == aiohttp.WSMsgType.CLOSE
    assert refused.close_code == aiohttp.WSCloseCode.POLICY_VIOLATION
    assert message.extra.startswith("too many open sockets")
    assert "at most 10" in message.extra

    other = await open_socket(client, "/ws", token(auth, DRIVER2))
    # The first ten still work, and a closed one makes room for the next.
    await mine[0].close()
    again = await open_socket(client, "/ws", token(auth, DRIVER1))
    for ws in [*mine[1:], again, other]:
        assert not ws.closed
        await ws.close()


async def test_the_attendant_may_open_more_sockets_and_each_cap_is_a_setting(make_client, auth):
    client = await make_client(max_sockets_per_user=2, max_sockets_per_admin=3)
    admin = [await open_socket(client, "/ws", token(auth, ADMIN)) for _ in range(3)]
    drivers = [await open_socket(client, "/ws", token(auth, DRIVER1)) for _ in range(2)]
    for email in (DRIVER1, ADMIN):
        refused = await client.ws_connect("/ws")
        await refused.send_json({"type": "auth", "token": token(auth, email)})
        assert (await refused.receive(timeout=5)).type == aiohttp.WSMsgType.CLOSE
        assert refused.close_code == aiohttp.WSCloseCode.POLICY_VIOLATION
    for ws in admin + drivers:
        await ws.close()
