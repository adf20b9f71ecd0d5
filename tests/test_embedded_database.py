"""Without DATABASE_URL the app runs its own PostgreSQL and stops it on exit."""

from __future__ import annotations

import asyncio
import shutil

import psutil

from server.app import create_app
from server.settings import PROJECT_ROOT, Settings


def _postgres_running_on(pgdata) -> bool:
    for proc in psutil.process_iter(["name", "cmdline"]):
        if proc.info["name"] == "postgres" and str(pgdata) in (proc.info["cmdline"] or []):
            return True
    return False


async def test_embedded_postgres_starts_with_the_app_and_stops_with_it(aiohttp_server, aiohttp_client):
    pgdata = PROJECT_ROOT / ".data" / "test-embedded"
    shutil.rmtree(pgdata, ignore_errors=True)
    app = create_app(Settings(database_url=None, embedded_pgdata=pgdata, jwt_secret="x" * 64))
    server = await aiohttp_server(app)
    client = await aiohttp_client(server)
    try:
        assert (await client.get("/readyz")).status == 200
        assert _postgres_running_on(pgdata)
        login = await client.post("/login", json={"email": "driver2@parking.com", "password": "password123"})
        assert login.status == 200
    finally:
        await client.close()
        await server.close()
    assert not _postgres_running_on(pgdata)


def _kill_postmaster(pgdata) -> None:
    """SIGKILL this data directory's postmaster (never anyone else's), as an OOM killer would."""
    pid = int((pgdata / "postmaster.pid").read_text().split()[0])
    psutil.Process(pid).kill()


async def _until_ready_is(client, status: int, timeout: float = 30) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            response = await client.get("/readyz")
            if response.status == status:
                return await response.json()


async def test_a_killed_embedded_postgres_is_restarted_and_said_so(aiohttp_server, aiohttp_client, caplog):
    caplog.set_level("WARNING", logger="server.embedded")
    pgdata = PROJECT_ROOT / ".data" / "test-embedded-restart"
    shutil.rmtree(pgdata, ignore_errors=True)
    app = create_app(Settings(database_url=None, embedded_pgdata=pgdata, jwt_secret="x" * 64))
    server = await aiohttp_server(app)
    client = await aiohttp_client(server)
    try:
        assert (await client.get("/readyz")).status == 200
        _kill_postmaster(pgdata)
        await _until_ready_is(client, 503, timeout=10)
        await _until_ready_is(client, 200)
        login = await client.post("/login", json={"email": "driver1@parking.com", "password": "password123"})
        assert login.status == 200
        stopped = [m for m in caplog.messages if "is no longer running; restarting it" in m]
        assert stopped and str(pgdata) in stopped[0] and "log" in stopped[0]
    finally:
        await client.close()
        await server.close()


async def test_an_embedded_postgres_that_keeps_dying_is_reported_not_restarted(aiohttp_server, aiohttp_client):
    pgdata = PROJECT_ROOT / ".data" / "test-embedded-stopped"
    shutil.rmtree(pgdata, ignore_errors=True)
    settings = Settings(database_url=None, embedded_pgdata=pgdata, jwt_secret="x" * 64, embedded_max_restarts=0)
    server = await aiohttp_server(create_app(settings))
    client = await aiohttp_client(server)
    try:
        _kill_postmaster(pgdata)
        body = await _until_ready_is(client, 503)
        # Until the watcher has looked, the ping fails; then the reason is given.
        async with asyncio.timeout(10):
            while "not being restarted" not in body["error"]["message"]:
                body = await _until_ready_is(client, 503)
        assert body["error"]["code"] == "database_unavailable"
        assert str(pgdata / "log") in body["error"]["message"]
        assert (await client.get("/healthz")).status == 200  # the process itself is alive
    finally:
        await client.close()
        await server.close()
