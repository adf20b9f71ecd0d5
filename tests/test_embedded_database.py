"""Without DATABASE_URL the app runs its own PostgreSQL and stops it on exit."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys

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


# Starts the embedded PostgreSQL as the app does, says so, and waits to be killed.
_START_AND_WAIT = """
import asyncio, sys
from pathlib import Path
from server.embedded import EmbeddedPostgres

async def main():
    await EmbeddedPostgres(Path(sys.argv[1])).start()
    print("started", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


async def test_a_postgres_adopted_after_a_kill_9_stops_with_the_app_that_adopted_it(
    aiohttp_server, aiohttp_client, caplog
):
    caplog.set_level("WARNING", logger="server.embedded")
    pgdata = PROJECT_ROOT / ".data" / "test-embedded-adopted"
    shutil.rmtree(pgdata, ignore_errors=True)
    crashed = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _START_AND_WAIT, str(pgdata), cwd=PROJECT_ROOT, stdout=asyncio.subprocess.PIPE
    )
    try:
        async with asyncio.timeout(60):
            assert await crashed.stdout.readline() == b"started\n"
        # pgserver's record of who holds the server: the adoption fix relies on its shape.
        assert json.loads((pgdata / ".handle_pids.json").read_text()) == [crashed.pid]
        crashed.kill()  # as kill -9 would: nothing stops the postmaster
        await crashed.wait()
        assert _postgres_running_on(pgdata)

        app = create_app(Settings(database_url=None, embedded_pgdata=pgdata, jwt_secret="x" * 64))
        server = await aiohttp_server(app)
        client = await aiohttp_client(server)
        try:
            assert (await client.get("/readyz")).status == 200
        finally:
            await client.close()
            await server.close()
        assert not _postgres_running_on(pgdata)
        assert any(f"left running by process {crashed.pid}" in m for m in caplog.messages)
    finally:
        if crashed.returncode is None:
            crashed.kill()
            await crashed.wait()
        _stop_postgres_on(pgdata)


def _stop_postgres_on(pgdata) -> None:
    """Leave no server behind, whatever the test's outcome."""
    for proc in psutil.process_iter(["name", "cmdline"]):
        if proc.info["name"] == "postgres" and str(pgdata) in (proc.info["cmdline"] or []):
            proc.terminate()
