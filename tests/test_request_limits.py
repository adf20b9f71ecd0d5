"""Request bodies and WebSocket messages that are slow, broken, nested or too big: a clear 4xx."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.support import read_response

JSON = {"Content-Type": "application/json"}
# A body announced as 100 bytes of which only 10 ever come.
STALLED_BODY = (
    b"POST /login HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
    b"Content-Length: 100\r\n\r\n" + b'{"email": '
)


async def test_a_body_that_stops_arriving_gets_a_json_408(make_client):
    client = await make_client(request_body_timeout_seconds=1)
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    try:
        writer.write(STALLED_BODY)
        async with asyncio.timeout(20):  # a safety bound; the server's is 1 s
            status, headers, body = await read_response(reader)
    finally:
        writer.close()
    assert status == 408
    assert headers["connection"].lower() == "close"
    assert b'"code": "request_timeout"' in body


async def test_a_body_nested_two_thousand_deep_is_a_400(client):
    response = await client.post("/login", data="[" * 2000 + "]" * 2000, headers=JSON)
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "bad_request"


async def test_a_body_that_is_not_the_deflate_it_claims_is_a_400(client):
    headers = {**JSON, "Content-Encoding": "deflate"}
    response = await client.post("/login", data=b'{"email": "a@b.c"}', headers=headers)
    assert response.status == 400
    assert "Content-Encoding" in (await response.json())["error"]["message"]


async def test_a_websocket_message_over_16_kib_closes_the_socket_as_too_big(client):
    async with client.ws_connect("/ws") as ws:
        await ws.send_str('{"type": "auth", "token": "' + "x" * 17_000 + '"}')
        closed = await ws.receive(timeout=5)
    assert closed.type == aiohttp.WSMsgType.CLOSE
    assert closed.data == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
