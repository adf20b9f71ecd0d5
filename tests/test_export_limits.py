"""CSV exports that cannot take the database from everyone: paged reads, a cap per user, slow readers dropped."""

from __future__ import annotations

import asyncio
import socket
import time

from server.repository.users import User
from tests.support import ADMIN, DRIVER1, DRIVER2, tomorrow

# About 5 MB of CSV: far more than the kernel's buffers take in from a client that reads nothing.
HISTORY_ROWS = 45_000


async def insert_history(db_conn, user_id: int, spot_id: int, rows: int = HISTORY_ROWS) -> None:
    await db_conn.execute("SET session_replication_role = replica")  # no events for the inserts
    await db_conn.execute(
        "INSERT INTO reservations (user_id, spot_id, start_time, end_time, status, completed_at, "
        "released_by, created_by) "
        "SELECT $1, $2, t, t + interval '4 hours', 'completed', t, 'user', $1 "
        "FROM generate_series(timestamptz '2000-01-01', "
        "timestamptz '2000-01-01' + interval '4 hours' * ($3 - 1), interval '4 hours') t",
        user_id, spot_id, rows,
    )
    await db_conn.execute("RESET session_replication_role")


async def stalled_export(client, authorization: str, path: str = "/reservations/export.csv"):
    """An export whose client reads its head and then nothing more."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # no room to take it all in
    sock.connect((client.host, client.port))
    reader, writer = await asyncio.open_connection(sock=sock)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {authorization}\r\n\r\n".encode())
    # Generous: the first page follows the query, on a machine that may be busy.
    assert (await asyncio.wait_for(reader.readline(), 30)).startswith(b"HTTP/1.1 200")
    return reader, writer


async def test_ten_exports_that_read_nothing_leave_spots_answering_200_for_everyone(
    client, auth, tokens, db_conn, user_ids, spot_ids
):
    # Five drivers with long histories, two stalled downloads each: as many as the pool's connections.
    exporters = []
    for n in range(5):
        user_id = await db_conn.fetchval(
            "INSERT INTO users (email, display_name) VALUES ($1, $2) RETURNING id",
            f"exporter{n}@parking.com", f"Exporter {n}",
        )
        await insert_history(db_conn, user_id, spot_ids[1 + n])
        user = User(user_id, f"exporter{n}@parking.com", f"Exporter {n}", "driver")
        exporters.append(f"Bearer {tokens.issue(user)}")
    stalled = [await stalled_export(client, authorization) for authorization in exporters * 2]
    try:
        for _ in range(3):
            for email in (DRIVER1, DRIVER2, ADMIN):
                started = time.perf_counter()
                response = await client.get(f"/spots?date={tomorrow().isoformat()}", headers=auth(email))
                assert response.status == 200, await response.text()
                assert time.perf_counter() - started < 2
        # No connection waits in a transaction for its reader.
        idle = await db_conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' AND pid <> pg_backend_pid()"
        )
        assert idle == 0
    finally:
        for _, writer in stalled:
            writer.transport.abort()


async def test_a_third_export_at_once_is_refused_with_429_until_one_ends(
    client, auth, db_conn, user_ids, spot_ids
):
    await insert_history(db_conn, user_ids[DRIVER1], spot_ids[2])
    first = await stalled_export(client, auth(DRIVER1)["Authorization"])
    second = await stalled_export(client, auth(DRIVER1)["Authorization"])
    refused = await client.get("/reservations/export.csv", headers=auth(DRIVER1))
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "10"
    error = (await refused.json())["error"]
    assert error["code"] == "too_many_exports" and "2 downloads" in error["message"]
    # Somebody else's downloads are their own.
    assert (await client.get("/reservations/export.csv", headers=auth(DRIVER2))).status == 200

    for _, writer in (first, second):
        writer.transport.abort()
    async with asyncio.timeout(15):
        while (response := await client.get("/reservations/export.csv", headers=auth(DRIVER1))).status != 200:
            assert response.status == 429
            await asyncio.sleep(0.1)
    assert len((await response.text()).splitlines()) == 1 + HISTORY_ROWS


async def test_a_stalled_export_ends_in_a_closed_connection_never_a_second_http_head(
    make_client, auth, db_conn, user_ids, spot_ids, caplog
):
    caplog.set_level("INFO")
    await insert_history(db_conn, user_ids[DRIVER1], spot_ids[3])
    client = await make_client(request_body_timeout_seconds=1.0)
    reader, writer = await stalled_export(client, auth(DRIVER1)["Authorization"])
    try:
        async with asyncio.timeout(20):
            while not any("client was too slow" in m for m in caplog.messages):
                await asyncio.sleep(0.05)
        received = b""
        try:
            async with asyncio.timeout(20):
                while chunk := await reader.read(65536):
                    received += chunk
        except ConnectionResetError:
            pass  # the server broke the connection: what was still buffered may be lost
    finally:
        writer.transport.abort()
    assert b"HTTP/1.1" not in received, "a second HTTP head was written into the body"
    assert not received.endswith(b"0\r\n\r\n"), "a cut-short download must not look complete"
    lines = [r for r in caplog.records if r.name == "server.csv_export"]
    assert [r.getMessage() for r in lines] == ["CSV export dropped: the client was too slow, reading nothing for 1s"]
    assert not any("Database unavailable" in m for m in caplog.messages)
