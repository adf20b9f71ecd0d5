"""Hostile input gets a clear 4xx in the JSON shape (or a 4401 close), never a 500."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import jwt
import pytest

from tests.support import DRIVER1, TEST_JWT_SECRET


def signed(claims: dict) -> str:
    return jwt.encode(claims, TEST_JWT_SECRET, algorithm="HS256")


def claims(**overrides) -> dict:
    now = int(time.time())
    return {"sub": "1", "iat": now, "exp": now + 600, **overrides}


async def raw_request(client, request: bytes) -> tuple[int, bytes]:
    """Send bytes no well-behaved client would; return the status and body."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(10):
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
            )
            body = await reader.readexactly(length)
        return int(head.split(b" ")[1]), body
    finally:
        writer.close()


@pytest.mark.parametrize(
    "token",
    [
        signed(claims(sub="²")),  # a digit to str.isdigit(), not to int()
        signed(claims(sub="1" * 30)),  # beyond PostgreSQL's bigint
        signed(claims(exp=10**400)),  # beyond any float
        signed(claims(exp="soon")),
        "a.b.c\u00e9",
    ],
)
async def test_malformed_tokens_are_a_json_401(client, token):
    response = await client.get("/spots", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 401
    assert (await response.json())["error"]["code"] in ("invalid_token", "unauthorized")


async def test_a_non_utf8_authorization_header_is_a_json_401(client):
    status, body = await raw_request(
        client, b"GET /spots HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\r\nConnection: close\r\n\r\n"
    )
    assert status == 401
    assert json.loads(body)["error"]["code"] == "invalid_token"


@pytest.mark.parametrize("field", ["email", "password"])
async def test_a_lone_surrogate_in_a_field_is_a_422_naming_it(client, field):
    body = {"email": DRIVER1, "password": "x", field: "\udfff"}
    # json.dumps writes the surrogate as the escape "\udfff", which JSON allows.
    response = await client.post("/login", data=json.dumps(body), headers={"Content-Type": "application/json"})
    assert response.status == 422
    assert (await response.json())["error"]["message"] == f"'{field}' must be valid Unicode text."


@pytest.mark.parametrize(
    "message",
    [
        '{"type": "auth", "token": ' + "[" * 2000 + "]" * 2000 + "}",  # nested deeper than the parser
        json.dumps({"type": "auth", "token": "\udfff"}),
        json.dumps({"type": "auth", "token": signed(claims(exp=10**400))}),
        json.dumps({"type": "auth", "token": signed(claims(sub="²"))}),
        json.dumps({"type": "auth", "token": "spk_\udfff"}),
    ],
)
async def test_a_bad_first_socket_message_closes_with_4401_at_once(client, message):
    ws = await client.ws_connect("/ws")
    await ws.send_str(message)
    closed = await ws.receive(timeout=5)
    # A close, not an HTTP 500 written into the open socket, which would be a protocol error.
    assert (closed.type, closed.data) == (aiohttp.WSMsgType.CLOSE, 4401)
