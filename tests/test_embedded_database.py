"""Without DATABASE_URL the app runs its own PostgreSQL and stops it on exit."""

from __future__ import annotations

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
