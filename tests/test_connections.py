"""Slow, idle and too many connections: timeouts, the connection cap, descriptor exhaustion."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import resource
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen
from urllib.parse import urlsplit

import pytest

from server import connections
from server.connections import (
    ACCEPT_EXHAUSTED,
    AcceptErrorLog,
    EveryInterval,
    connection_limit,
)
from server.settings import Settings, SettingsError
from tests.support import TEST_JWT_SECRET, read_response, server_process

# Safety timeouts: far above the configured limits, and far below aiohttp's own
# 75 s keep-alive, which is what closed idle connections before these limits.
SAFETY_SECONDS = 20
PARTIAL_HEAD = b"GET /healthz HT"
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"


@dataclass(frozen=True)
class Running:
    port: int
    process: Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)


@pytest.fixture(scope="module")
def run_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., Running]]:
    """Factory: `python -m server` in its own process, with these settings and descriptor limit."""
    with contextlib.ExitStack() as running:

        def start(open_files: int | None = None, **env: str) -> Running:
            log_path = tmp_path_factory.mktemp("server") / "server.log"
            settings = {"DATABASE_URL": database_url, "JWT_SECRET": TEST_JWT_SECRET, **env}
            base_url, process = running.enter_context(
                server_process(settings, log_path, open_files=open_files)
            )
            return Running(urlsplit(base_url).port or 0, process, log_path)

        yield start


@pytest.fixture(scope="module")
def impatient_server(run_server: Callable[..., Running]) -> Running:
    return run_server(HTTP_IDLE_TIMEOUT_SECONDS="1")


@contextlib.asynccontextmanager
async def closing(writers: list[asyncio.StreamWriter]) -> AsyncIterator[None]:
    try:
        yield
    finally:
        for writer in writers:
            writer.close()


async def test_a_client_that_never_finishes_its_request_head_is_disconnected(impatient_server):
    reader, writer = await impatient_server.connect()
    async with closing([writer]):
        writer.write(PARTIAL_HEAD)
        async with asyncio.timeout(SAFETY_SECONDS):
            assert await reader.read() == b"", "closed without an answer"


async def test_an_idle_keep_alive_connection_is_closed(impatient_server):
    reader, writer = await impatient_server.connect()
    async with closing([writer]):
        writer.write(HEALTHZ)
        status, headers, _ = await read_response(reader)
        assert status == 200 and headers.get("connection", "").lower() != "close"
        async with asyncio.timeout(SAFETY_SECONDS):
            assert await reader.read() == b""


async def healthz(server: Running) -> tuple[int, dict[str, str], bytes]:
    """GET /healthz on a new connection; a connection reset or EOF raises."""
    reader, writer = await server.connect()
    async with closing([writer]):
        writer.write(HEALTHZ)
        return await read_response(reader)


def assert_server_busy(status: int, headers: dict[str, str], body: bytes) -> None:
    assert status == 503
    assert headers["content-type"].startswith("application/json")
    assert int(headers["retry-after"]) > 0
    assert json.loads(body)["error"]["code"] == "server_busy"


async def test_the_connection_over_the_cap_gets_a_json_503_and_a_freed_place_is_reused(
    run_server,
):
    server = run_server(MAX_CONNECTIONS="5")
    held: list[asyncio.StreamWriter] = []
    async with closing(held):
        # Kept-alive connections that were answered, so the server surely counts them.
        async with asyncio.timeout(SAFETY_SECONDS):
            while len(held) < 5:
                reader, writer = await server.connect()
                writer.write(HEALTHZ)
                if (await read_response(reader))[0] == 200:
                    held.append(writer)
                else:
                    writer.close()
        assert_server_busy(*await healthz(server))

        held.pop().close()
        async with asyncio.timeout(SAFETY_SECONDS):
            while (await healthz(server))[0] != 200:
                await asyncio.sleep(0.05)  # polling for the close to reach the server


async def test_slow_clients_on_few_descriptors_leave_room_for_an_answer_and_no_log_flood(
    run_server,
):
    server = run_server(open_files=256)
    slow: list[asyncio.StreamWriter] = []
    readers: list[asyncio.Task[bytes]] = []
    async with closing(slow):
        # More slow clients than the process has descriptors; each reads what it gets.
        for _ in range(400):
            reader, writer = await server.connect()
            writer.write(PARTIAL_HEAD)
            slow.append(writer)
            readers.append(asyncio.create_task(reader.read()))

        async with asyncio.timeout(SAFETY_SECONDS):
            while True:
                # A refusal beyond those answered at once is a plain close: ask again.
                with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
                    assert_server_busy(*await healthz(server))
                    break
                await asyncio.sleep(0.05)
        assert server.log().count("out of system resource") <= 1

        for writer in slow:
            writer.close()
        async with asyncio.timeout(SAFETY_SECONDS):
            await asyncio.gather(*readers, return_exceptions=True)
            while True:
                with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
                    if (await healthz(server))[0] == 200:
                        break
                await asyncio.sleep(0.05)
    assert server.log().count("out of system resource") <= 1


async def test_descriptor_exhaustion_on_accept_is_logged_once_per_interval(caplog):
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(AcceptErrorLog(interval=60))
    try:
        with caplog.at_level(logging.DEBUG):
            for _ in range(100):
                loop.call_exception_handler(
                    {"message": ACCEPT_EXHAUSTED, "exception": OSError(24, "Too many open files")}
                )
            loop.call_exception_handler({"message": "something else went wrong"})
    finally:
        loop.set_exception_handler(None)
    reported = [r for r in caplog.records if ACCEPT_EXHAUSTED in r.getMessage()]
    assert len(reported) == 1 and "MAX_CONNECTIONS" in reported[0].getMessage()
    # Anything else still reaches asyncio's default handler.
    assert any(r.getMessage() == "something else went wrong" for r in caplog.records)


def test_an_interval_reports_once_then_what_it_held_back():
    every_minute = EveryInterval(60)
    assert every_minute.due(now=0) == 1
    assert [every_minute.due(now=t) for t in range(1, 60)] == [None] * 59
    assert every_minute.due(now=60) == 60


Limits = tuple[int, int]


@pytest.fixture
def descriptor_limit(monkeypatch: pytest.MonkeyPatch) -> Callable[[int, int], list[Limits]]:
    """Pretend RLIMIT_NOFILE is (soft, hard); returns the limits the code then sets."""

    def pretend(soft: int, hard: int) -> list[Limits]:
        set_to: list[Limits] = []
        monkeypatch.setattr(connections.resource, "getrlimit", lambda _: (soft, hard))
        monkeypatch.setattr(connections.resource, "setrlimit", lambda _, new: set_to.append(new))
        return set_to

    return pretend


RESERVED = connections.SPARE_DESCRIPTORS + connections.REFUSING_AT_ONCE + connections.ACCEPT_BACKLOG


def test_the_cap_stays_below_a_descriptor_limit_it_cannot_raise(descriptor_limit, caplog):
    set_to = descriptor_limit(1024, 1024)
    settings = Settings(max_connections=10_000, database_pool_size=10)
    assert connection_limit(settings) == 1024 - 10 - RESERVED
    assert set_to == []
    assert "MAX_CONNECTIONS=10000 does not fit" in caplog.text


def test_the_soft_descriptor_limit_is_raised_as_far_as_the_cap_needs(descriptor_limit):
    set_to = descriptor_limit(1024, resource.RLIM_INFINITY)
    settings = Settings(max_connections=5_000, database_pool_size=10)
    assert connection_limit(settings) == 5_000
    assert set_to == [(5_000 + 10 + RESERVED, resource.RLIM_INFINITY)]


def test_connection_settings_are_read_and_checked():
    defaults = Settings.from_env({})
    assert (defaults.http_idle_timeout_seconds, defaults.request_body_timeout_seconds) == (30, 10)
    assert defaults.max_connections >= 5_100, "the benchmark holds 5,000 sockets"
    settings = Settings.from_env(
        {
            "HTTP_IDLE_TIMEOUT_SECONDS": "2.5",
            "REQUEST_BODY_TIMEOUT_SECONDS": "4",
            "MAX_CONNECTIONS": "50",
        }
    )
    assert (settings.http_idle_timeout_seconds, settings.request_body_timeout_seconds) == (2.5, 4)
    assert settings.max_connections == 50
    for name, value in [("MAX_CONNECTIONS", "0"), ("HTTP_IDLE_TIMEOUT_SECONDS", "-1")]:
        with pytest.raises(SettingsError, match=f"^{name}="):
            Settings.from_env({name: value})
