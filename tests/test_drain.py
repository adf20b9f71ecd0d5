"""SIGTERM drains: /readyz fails first, serving goes on, then new connections are refused and work in flight ends."""

from __future__ import annotations

import asyncio
import json
import signal
import socket

import aiohttp
import asyncpg
import pytest

from server import db
from server.drain import CLOSE_REASON, DRAIN, IN_FLIGHT_SECONDS, Drain
from server.sweeper import Sweeper
from tests.support import (
    DRIVER1,
    TEST_JWT_SECRET,
    open_socket,
    server_process,
)

# Long enough for the checks made during it, on a busy machine too.
DRAIN_SECONDS = 4
EXPORTED_ROWS = 100_000


async def status_of(session: aiohttp.ClientSession, url: str, **kwargs) -> tuple[int, dict]:
    async with session.get(url, **kwargs) as response:
        return response.status, await response.json()


def dechunked(body: bytes) -> bytes:
    """A chunked transfer-encoded body, decoded; AssertionError unless it ends properly."""
    decoded = bytearray()
    while True:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            assert body == b"\r\n", "the body does not end with the last chunk"
            return bytes(decoded)
        decoded += body[:size]
        assert body[size : size + 2] == b"\r\n"
        body = body[size + 2 :]


async def refuses_connections(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except ConnectionRefusedError:
        return True
    writer.close()
    return False


async def test_sigterm_drains_then_refuses_new_connections_and_finishes_what_is_in_flight(
    tmp_path, database_url, db_conn, auth, user_ids, spot_ids
):
    # A CSV export too big for the socket buffers of a client that reads nothing
    # yet: its handler is still writing when the drain ends.
    await db_conn.execute(
        "INSERT INTO reservations (user_id, spot_id, start_time, end_time, status, completed_at, released_by) "
        "SELECT $1, $2, t, t + interval '4 hours', 'completed', t, 'user' FROM generate_series("
        "timestamptz '1990-01-01', timestamptz '1990-01-01' + interval '4 hours' * ($3 - 1), interval '4 hours') t",
        user_ids[DRIVER1], spot_ids[4], EXPORTED_ROWS,
    )
    log_path = tmp_path / "server.log"
    env = {"DATABASE_URL": database_url, "JWT_SECRET": TEST_JWT_SECRET, "DRAIN_SECONDS": str(DRAIN_SECONDS)}
    with server_process(env, log_path) as (base_url, process):
        port = int(base_url.rsplit(":", 1)[1])
        headers = auth(DRIVER1)
        token = headers["Authorization"].removeprefix("Bearer ")
        async with aiohttp.ClientSession() as session:
            ws = await open_socket(session, base_url.replace("http", "ws") + "/ws", token)
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # no room to take it all in
            sock.connect(("127.0.0.1", port))
            reader, writer = await asyncio.open_connection(sock=sock)
            writer.write(
                f"GET /reservations/export.csv HTTP/1.1\r\nHost: test\r\n"
                f"Authorization: {headers['Authorization']}\r\n\r\n".encode()
            )
            # Generous: the first batch follows the query, on a machine that may be busy.
            async with asyncio.timeout(30):
                assert (await reader.readline()).startswith(b"HTTP/1.1 200")

            process.send_signal(signal.SIGTERM)
            readiness: list[tuple[int, dict]] = []

            async def draining() -> bool:
                readiness.append(await status_of(session, base_url + "/readyz"))
                return readiness[-1][0] == 503

            async with asyncio.timeout(DRAIN_SECONDS):
                while not await draining():
                    pass
                # Still serving in every other way, on new connections too.
                assert (await status_of(session, base_url + "/healthz"))[0] == 200
                async with aiohttp.ClientSession() as fresh:
                    assert (await status_of(fresh, base_url + "/spots", headers=headers))[0] == 200
                assert not ws.closed
            assert readiness[-1][1]["error"]["code"] == "draining"

            # The drain ends: the listener closes, and the socket is told to reconnect.
            async with asyncio.timeout(DRAIN_SECONDS + 10):
                while not await refuses_connections(port):
                    await asyncio.sleep(0.05)  # polling the port under a deadline
            closed = await ws.receive(timeout=10)
            assert closed.type == aiohttp.WSMsgType.CLOSE
            assert (closed.data, closed.extra) == (aiohttp.WSCloseCode.GOING_AWAY, CLOSE_REASON)

            # The export, in flight since before the drain (its access line is
            # written when it ends), is delivered whole.
            assert "GET /reservations/export.csv" not in log_path.read_text()
            async with asyncio.timeout(IN_FLIGHT_SECONDS):
                rest = await reader.read()
            writer.close()
            csv_lines = dechunked(rest.partition(b"\r\n\r\n")[2]).splitlines()
            assert len(csv_lines) == 1 + EXPORTED_ROWS
        assert await asyncio.to_thread(process.wait, 20) == 0
    assert '"GET /reservations/export.csv HTTP/1.1" 200' in log_path.read_text()


async def test_a_second_signal_cuts_the_drain_short(tmp_path, database_url):
    env = {"DATABASE_URL": database_url, "JWT_SECRET": TEST_JWT_SECRET, "DRAIN_SECONDS": "600"}
    with server_process(env, tmp_path / "server.log") as (base_url, process):
        process.send_signal(signal.SIGTERM)
        async with aiohttp.ClientSession() as session:
            async with asyncio.timeout(10):
                while (await status_of(session, base_url + "/readyz"))[0] != 503:
                    pass
        process.send_signal(signal.SIGINT)
        # Far sooner than the 600 s drain would have taken.
        assert await asyncio.to_thread(process.wait, 30) == 0
    assert "SIGINT: stopping at once" in (tmp_path / "server.log").read_text()


@pytest.mark.parametrize(
    "signum, drain_seconds, drains",
    [
        (signal.SIGTERM, "", "5.0 s"),  # the default for SIGTERM
        (signal.SIGINT, "", None),  # Ctrl+C in a terminal stays quick
        (signal.SIGINT, "0.5", "0.5 s"),  # unless DRAIN_SECONDS asks for one
    ],
    ids=["SIGTERM", "SIGINT", "SIGINT with DRAIN_SECONDS"],
)
async def test_only_sigterm_or_drain_seconds_makes_a_stop_drain(
    tmp_path, database_url, signum, drain_seconds, drains
):
    log_path = tmp_path / "server.log"
    env = {"DATABASE_URL": database_url, "JWT_SECRET": TEST_JWT_SECRET, "DRAIN_SECONDS": drain_seconds}
    with server_process(env, log_path) as (_, process):
        process.send_signal(signum)
        assert await asyncio.to_thread(process.wait, 30) == 0
    log = log_path.read_text()
    if drains is None:
        assert "Draining" not in log
    else:
        assert f"serving {drains} more" in log
    assert log.rstrip().endswith("server.serving: Stopped")


async def test_a_stopped_sweeper_commits_the_sweep_under_way_and_starts_no_other(
    settings, db_conn, reset_db, user_ids, spot_ids
):
    # Its own pool, not an app's: an app's own sweeper would sweep the row too.
    pool = await db.create_pool(reset_db, settings)
    reservation_id = await db_conn.fetchval(
        "INSERT INTO reservations (user_id, spot_id, start_time, end_time) "
        "VALUES ($1, $2, now() - interval '5 hours', now() - interval '1 hour') RETURNING id",
        next(iter(user_ids.values())), spot_ids[2],
    )
    # Another transaction locks the table, so the sweep waits inside its statement
    # (a locked row alone would be skipped: the sweep takes rows FOR UPDATE SKIP LOCKED).
    blocker = await asyncpg.connect(reset_db)
    try:
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute("LOCK TABLE reservations IN EXCLUSIVE MODE")
        sweeper = Sweeper(pool, 0.01)
        task = asyncio.create_task(sweeper.run())
        waiting = (
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND query LIKE '%SKIP LOCKED%'"
        )
        seen: list[int] = []

        async def sweep_is_waiting() -> bool:
            seen.append(await db_conn.fetchval(waiting))
            return seen[-1] > 0

        async with asyncio.timeout(5):
            while not await sweep_is_waiting():
                pass
        sweeper.stop()
        await transaction.rollback()
        await Drain().finish(task, timeout=5)
    finally:
        await blocker.close()
        await pool.close()
    assert not task.cancelled()
    status = await db_conn.fetchval("SELECT status FROM reservations WHERE id = $1", reservation_id)
    assert status == "completed"


async def test_finish_cancels_a_task_that_outlasts_its_step():
    never_done = asyncio.create_task(asyncio.Event().wait(), name="stuck-task")
    await Drain().finish(never_done, timeout=0.1)
    assert never_done.cancelled()


async def test_readyz_says_draining_once_the_drain_begins(client):
    assert (await client.get("/readyz")).status == 200
    client.app[DRAIN].begin()
    response = await client.get("/readyz")
    assert response.status == 503
    assert (await response.json())["error"]["code"] == "draining"
    assert (await client.get("/healthz")).status == 200
