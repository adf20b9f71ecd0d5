"""Links and the socket origin check follow PUBLIC_URL, never an arbitrary Host header."""

from __future__ import annotations

import aiohttp
import pytest

from server.settings import Settings, SettingsError
from tests.support import ADMIN, DRIVER1

FEED_PATH = r"/calendar/[A-Za-z0-9_-]{43}\.ics"


async def feed_link(client, auth, **headers) -> dict:
    response = await client.post("/me/calendar", headers={**auth(DRIVER1), **headers})
    assert response.status == 201
    return await response.json()


async def test_a_foreign_host_header_never_makes_an_absolute_link(client, auth):
    made = await feed_link(client, auth, Host="attacker.example")
    assert "attacker.example" not in made["url"]
    # Relative: the browser resolves it against the address it really used.
    assert made["url"] == made["path"]


async def test_a_loopback_host_gets_an_absolute_link_from_the_request(client, auth):
    made = await feed_link(client, auth)  # the test client's Host is 127.0.0.1:<port>
    assert made["url"] == f"http://{client.host}:{client.port}{made['path']}"
    localhost = await feed_link(client, auth, Host=f"localhost:{client.port}")
    assert localhost["url"].startswith(f"http://localhost:{client.port}/calendar/")


async def test_with_public_url_every_link_uses_it_whatever_the_host(make_client, auth):
    client = await make_client(public_url="https://parking.example.com")
    for host in ("attacker.example", f"127.0.0.1:{client.port}"):
        made = await feed_link(client, auth, Host=host)
        assert made["url"] == "https://parking.example.com" + made["path"]


async def test_behind_a_tls_proxy_the_public_origin_may_open_a_socket(make_client):
    client = await make_client(public_url="https://parking.example.com")
    # The proxy speaks plain http to the app; the browser's origin is https.
    ws = await client.ws_connect("/ws", headers={"Origin": "https://parking.example.com"})
    await ws.close()
    for foreign in ("http://parking.example.com", "https://attacker.example"):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/ws", headers={"Origin": foreign})
        assert refused.value.status == 403


def test_public_url_is_read_and_checked():
    assert Settings.from_env({}).public_url is None
    assert Settings.from_env({"PUBLIC_URL": "https://parking.example.com/"}).public_url == "https://parking.example.com"
    assert Settings.from_env({"PUBLIC_URL": "http://10.0.0.5:8080"}).public_url == "http://10.0.0.5:8080"
    for bad in ("parking.example.com", "ftp://parking.example.com", "https://", "https://a.example?x=1", "https://u@a.example", "https://a.example:http"):
        with pytest.raises(SettingsError, match="^PUBLIC_URL="):
            Settings.from_env({"PUBLIC_URL": bad})


async def test_the_lobby_screens_link_follows_the_same_rule(make_client, auth):
    plain, public = await make_client(), await make_client(public_url="https://parking.example.com")
    for client, expected in ((plain, ""), (public, "https://parking.example.com")):
        response = await client.post("/admin/lobby", headers={**auth(ADMIN), "Host": "attacker.example"})
        made = await response.json()
        assert made["url"] == expected + made["path"]
