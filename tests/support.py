"""Shared by the tests and the benchmark: real server processes, databases, sync-to-async."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import asyncpg

from server.settings import PROJECT_ROOT

T = TypeVar("T")


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
    env: Mapping[str, str], log_path: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start the server on a free loopback port with `env` added; yield (base URL, process)."""
    port = free_port()
    environment = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), **env}
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "server"],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=log_file,
            stderr=subprocess.STDOUT,
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
