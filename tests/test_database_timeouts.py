"""Bounded waits on the database: for a pooled connection, and for a slow statement."""

from __future__ import annotations

import asyncio

from server.db import POOL
from tests.support import DRIVER1


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
