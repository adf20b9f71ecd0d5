"""`python -m server` as a process: a clean stop on a signal, one line for a busy port."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys

import aiohttp
import pytest

from server.settings import PROJECT_ROOT
from tests.support import TEST_JWT_SECRET, open_socket, server_process


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
