"""Bounded waits on the database: for a pooled connection, and for a slow statement."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import asyncpg

from server.db import POOL
from tests.support import DRIVER1, DRIVER2, PASSWORD


async def test_a_request_waits_for_a_pooled_connection_only_briefly(make_client, auth):
    client = await make_client(database_pool_size=1, database_acquire_timeout_seconds=0.2)
    assert (await client.get("/spots", headers=auth())).status == 200
    # The pool's one connection is busy elsewhere for as long as the request waits.
    async with client.app[POOL].acquire():
        async with asyncio.timeout(10):  # a safety bound: unbounded, this never answers
            response = await client.get("/spots", headers=auth(DRIVER1))
    assert response.status == 503
    assert (await response.json())["error"]["code"] == "database_unavailable"


async def test_a_slow_statement_is_cancelled_by_the_database_itself(make_client, auth, db_conn):
    client = await make_client(database_statement_timeout_seconds=0.5)
    async with client.app[POOL].acquire() as conn:
        assert await conn.fetchval("SHOW statement_timeout") == "500ms"
        assert await conn.fetchval("SHOW idle_in_transaction_session_timeout") == "30s"
    assert (await client.get("/spots", headers=auth())).status == 200
    # The grid's query waits behind this lock until PostgreSQL gives up on it.
    async with db_conn.transaction():
        await db_conn.execute("LOCK TABLE spots IN ACCESS EXCLUSIVE MODE")
        async with asyncio.timeout(10):
            response = await client.get("/spots", headers=auth())
        assert response.status == 503
        assert (await response.json())["error"]["code"] == "query_timeout"
        # Cancelled, not abandoned: nothing of the app still waits on the lock.
        waiting = await db_conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE application_name = 'smart-parking' AND wait_event_type = 'Lock'"
        )
        assert waiting == 0
    assert (await client.get("/spots", headers=auth())).status == 200


@contextlib.asynccontextmanager
async def every_connection_taken(url: str) -> AsyncIterator[int]:
    """Hold real connections until PostgreSQL refuses the next one (max_connections reached)."""
    held: list[asyncpg.Connection] = []
    try:
        async with asyncio.timeout(60):  # a safety bound: max_connections is in the hundreds at most
            while True:
                try:
                    held.append(await asyncpg.connect(url))
                except asyncpg.TooManyConnectionsError:
                    break
        yield len(held)
    finally:
        await asyncio.gather(*(conn.close() for conn in held))


async def test_with_max_connections_full_login_and_spots_answer_503_at_once(make_client, auth, reset_db):
    client = await make_client()
    pool = client.app[POOL]
    async with contextlib.AsyncExitStack() as busy:
        held = await busy.enter_async_context(every_connection_taken(reset_db))
        assert held > 0
        # The pool's open connections are busy too, so each request needs a new one.
        while pool._pool.get_idle_size() > 0:  # asyncpg's pool, inside ours
            await busy.enter_async_context(pool.acquire())
        started = time.monotonic()
        login = await client.post("/login", json={"email": DRIVER1, "password": PASSWORD})
        spots = await client.get("/spots", headers=auth(DRIVER2))
        elapsed = time.monotonic() - started
        for response in (login, spots):
            assert response.status == 503
            assert (await response.json())["error"]["code"] == "database_unavailable"
        # Refused at once, not after a timeout (a bound for a busy machine, not a target).
        assert elapsed < 2.0
    assert (await client.get("/spots", headers=auth(DRIVER2))).status == 200
