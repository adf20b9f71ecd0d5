"""`python -m server` as a process: JSON parser errors, broken bodies, a clean stop, a busy port."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest

from server.settings import PROJECT_ROOT
from tests.support import TEST_JWT_SECRET, open_socket, read_response, server_process

# Sent where the parser refuses the request: it must not reach the log.
MARKER = "marker-8f3a1c-not-for-the-log"
HEAD = "Host: test\r\nContent-Type: application/json\r\n"
MALFORMED = {
    "an unknown method": (f"FOO /spots HTTP/1.1\r\n{HEAD}\r\n", 501),
    "a header over 8 KB": (f"GET /healthz HTTP/1.1\r\n{HEAD}X-Big: {'a' * 9000}\r\n\r\n", 431),
    "a bad header line": (f"GET /healthz HTTP/1.1\r\n{HEAD}Bad Header: {MARKER}\r\n\r\n", 400),
    "a bad chunk size": (
        f"POST /login HTTP/1.1\r\n{HEAD}Transfer-Encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n",
        400,
    ),
    "both Content-Length and chunked": (
        f"POST /login HTTP/1.1\r\n{HEAD}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
        "0\r\n\r\n",
        400,
    ),
    "a body that is not the deflate it claims": (
        f"POST /login HTTP/1.1\r\n{HEAD}Content-Encoding: deflate\r\nContent-Length: 19\r\n\r\n"
        f'{{"email": "{MARKER[:6]}"}}',
        400,
    ),
}


@pytest.fixture(scope="module")
def server_log(
    tmp_path_factory: pytest.TempPathFactory, database_url: str
) -> Iterator[tuple[int, Path]]:
    """(port, log file) of a `python -m server` process shared by this module's tests."""
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    env = {"DATABASE_URL": database_url, "JWT_SECRET": TEST_JWT_SECRET}
    with server_process(env, log_path) as (base_url, _):
        yield urlsplit(base_url).port or 0, log_path


@pytest.mark.parametrize("request_text, status", MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_malformed_request_gets_a_json_error_and_its_bytes_stay_out_of_the_log(
    server_log, request_text, status
):
    port, log_path = server_log
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request_text.encode("latin-1"))
        async with asyncio.timeout(20):
            answer_status, headers, body = await read_response(reader)
    finally:
        writer.close()
    assert answer_status == status
    assert headers["content-type"].startswith("application/json")
    assert set(json.loads(body)["error"]) == {"code", "message"}
    log = log_path.read_text()
    assert MARKER not in log and MARKER[:6] not in log
    assert "Traceback" not in log


async def test_a_client_leaving_mid_body_is_not_logged_as_a_database_outage(server_log):
    port, log_path = server_log
    logged_before = len(log_path.read_text())
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"POST /login HTTP/1.1\r\n{HEAD}Content-Length: 100\r\nExpect: 100-continue\r\n\r\n"
    writer.write(head.encode())
    # aiohttp answers 100 Continue from inside the app: from then on, the body is awaited.
    async with asyncio.timeout(20):
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 100")
    writer.write(b'{"email": ')
    writer.close()
    await writer.wait_closed()

    async with asyncio.timeout(20):
        while '"POST /login HTTP/1.1"' not in (logged := log_path.read_text()[logged_before:]):
            await asyncio.sleep(0.05)  # polling the log for the request's access line
    assert "Database unavailable" not in logged


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_signal_closes_sockets_going_away_and_stops_the_app_cleanly(
    tmp_path, database_url, auth, signum
):
    log_path = tmp_path / "server.log"
    env = {"DATABASE_URL": database_url, "JWT_SECRET": TEST_JWT_SECRET}
    with server_process(env, log_path) as (base_url, process):
        token = auth()["Authorization"].removeprefix("Bearer ")
        async with aiohttp.ClientSession() as session:
            ws = await open_socket(session, base_url.replace("http", "ws") + "/ws", token)
            process.send_signal(signum)
            closed = await ws.receive(timeout=20)
            assert closed.type == aiohttp.WSMsgType.CLOSE
            assert closed.data == aiohttp.WSCloseCode.GOING_AWAY
        assert await asyncio.to_thread(process.wait, 20) == 0
    # The last thing serving does, after the app's on_shutdown and cleanup_ctx.
    assert log_path.read_text().rstrip().endswith("server.serving: Stopped")


def test_a_second_server_on_a_busy_port_says_so_in_one_line(database_url):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "server"],
            cwd=PROJECT_ROOT,
            env={
                "PATH": "/usr/bin:/bin",
                "HOST": "127.0.0.1",
                "PORT": str(port),
                "DATABASE_URL": database_url,
                "JWT_SECRET": TEST_JWT_SECRET,
            },
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert f"Port {port} is already in use" in line and "PORT=" in line
