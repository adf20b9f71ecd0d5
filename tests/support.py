"""Shared by the tests and the benchmark: real server processes, databases, sync-to-async."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg

from server.settings import PROJECT_ROOT
from server.slots import slots_on, today

T = TypeVar("T")
TEST_JWT_SECRET = "test-secret-" + "0123456789abcdef" * 4  # 76 chars: long enough even for HS512
DRIVER1 = "driver1@parking.com"
DRIVER2 = "driver2@parking.com"
ADMIN = "admin@parking.com"
PASSWORD = "password123"


def run_async(make_coro: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from sync code, even while a loop is registered here.

    In a worker thread: pytest-asyncio's and Playwright's loops live on the
    calling thread, where asyncio.run() would refuse to start.
    """
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, make_coro()).result()


async def recreate_database(server_url: str, name: str) -> None:
    """Drop (disconnecting its users) and create an empty database."""
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_ready(base_url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with status {process.returncode}")
        try:
            with urllib.request.urlopen(base_url + "/readyz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)  # polling a condition under a deadline, not waiting for time
    raise TimeoutError(f"server at {base_url} not ready after {timeout}s")


@contextmanager
def server_process(
    env: Mapping[str, str],
    log_path: Path,
    port: int | None = None,
    *,
    open_files: int | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start the server on `port` (default: a free one) with `env` added; yield (base URL, process).

    `open_files` sets its descriptor limit (RLIMIT_NOFILE), soft and hard.
    """
    port = port or free_port()
    # No drain on SIGTERM unless a test asks for one: each stop would cost 5 s.
    environment = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "DRAIN_SECONDS": "0", **env}
    limit_descriptors = None
    if open_files is not None:
        limits = (open_files, open_files)
        limit_descriptors = functools.partial(resource.setrlimit, resource.RLIMIT_NOFILE, limits)
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "server"],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            preexec_fn=limit_descriptors,
        )
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_ready(base_url, process)
        yield base_url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response from a raw connection: (status, headers by lower-case name, body)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(status_line.split()[1]), headers, body


# --- databases ----------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


# --- bookings -----------------------------------------------------------------


def slot_body(spot_id: int, day: date, index: int = 0, tz: str = "UTC") -> dict[str, Any]:
    """A POST /reservations body for slot `index` (0-2) of `day` in zone `tz`."""
    slot = slots_on(day, ZoneInfo(tz))[index]
    return {"spot_id": spot_id, "start_time": slot.start.isoformat(), "end_time": slot.end.isoformat()}


def tomorrow(tz: str = "UTC") -> date:
    return today(ZoneInfo(tz)) + timedelta(days=1)


def afternoon_timezone() -> str:
    """An Etc/GMT±N zone in which it is now between 13:30 and 14:30.

    There today's 08:00–12:00 slot has ended, 12:00–16:00 is in progress and
    16:00–20:00 is ahead, whatever the hour the tests run at.
    """
    now = datetime.now(UTC)
    offset_hours = round(14 - (now.hour + now.minute / 60))
    offset_hours = (offset_hours + 12) % 24 - 12  # the same local hour, within Etc/GMT's range
    return f"Etc/GMT{-offset_hours:+d}"  # POSIX signs: Etc/GMT-3 is UTC+3


# --- waiting and WebSockets ---------------------------------------------------------


async def eventually(predicate: Callable[[], bool], timeout: float = 3.0) -> None:
    """Wait until predicate() holds, checking often, failing after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def receive_json(ws: Any, timeout: float = 1.0) -> dict[str, Any]:
    message = await ws.receive(timeout=timeout)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    return json.loads(message.data)


async def next_of_type(ws: Any, kind: str, timeout: float = 1.0) -> dict[str, Any]:
    """The next message of this type, skipping others, within `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while True:
            message = await receive_json(ws, timeout)
            if message["type"] == kind:
                return message


async def open_socket(session: Any, url: str, token: str | None) -> Any:
    """A socket on `url`, authenticated with `token` (and past "ready") unless it is None."""
    ws = await session.ws_connect(url)
    if token is not None:
        await ws.send_json({"type": "auth", "token": token})
        assert await receive_json(ws) == {"type": "ready"}
    return ws


class RestartableServer:
    """A server that can be stopped and started again on the same port, as `make run` is."""

    def __init__(self, database_url: str, log_dir: Path) -> None:
        self.database_url = database_url
        self.log_dir = log_dir
        self.port = free_port()
        self.starts = 0
        self.running = ExitStack()

    def start(self, jwt_secret: str) -> str:
        self.starts += 1
        env = {"DATABASE_URL": self.database_url, "JWT_SECRET": jwt_secret}
        log_path = self.log_dir / f"server-{self.starts}.log"
        base_url, _ = self.running.enter_context(server_process(env, log_path, port=self.port))
        return base_url

    def stop(self) -> None:
        self.running.close()


# --- many drivers -------------------------------------------------------------


async def create_drivers(url: str, count: int) -> list[int]:
    """`count` extra drivers (racer1@parking.com, ...), who sign in only by token; their ids."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            """
            INSERT INTO users (email, display_name)
            SELECT 'racer' || n || '@parking.com', 'Racer ' || n FROM generate_series(1, $1) n
            RETURNING id
            """,
            count,
        )
    finally:
        await conn.close()
    return [row["id"] for row in rows]


def any_spot_body(day: date, index: int = 0, tz: str = "UTC", **extra: Any) -> dict[str, Any]:
    """A POST /reservations body without a spot_id: any free spot in slot `index` of `day`."""
    body = slot_body(0, day, index, tz)
    del body["spot_id"]
    return {**body, **extra}
