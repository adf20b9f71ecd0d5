"""The system under test: embedded PostgreSQL, a seeded database and `python -m server`."""

from __future__ import annotations

import asyncio
import os
import resource
import sys
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import psutil

from server import db
from server.auth import TokenService
from server.repository.users import User
from server.settings import PROJECT_ROOT, Settings
from server.slots import Slot, slots_on, today
from tests.catchers import MailCatcher
from tests.support import recreate_database, server_process

PGDATA = PROJECT_ROOT / ".data" / "bench-postgres"
SERVER_LOG = PROJECT_ROOT / ".data" / "bench-server.log"
DATABASE = "smart_parking_bench"
JWT_SECRET = "bench-secret-" + "0123456789abcdef" * 3  # fixed, so the bench can mint tokens
TZ = ZoneInfo("UTC")
# Spots x 3 slots x days distinct slots; one bench driver per spot, so every
# driver books at most one spot per slot and the one-car rule never refuses.
SPOTS = 200
DAYS = 120

CREATE_SPOTS = """
INSERT INTO spots (spot_number, floor_number)
SELECT n, 1 + n / 50 FROM generate_series(1 + (SELECT max(spot_number) FROM spots), $1) AS n
"""
# No password: bench drivers get minted tokens; only the seed drivers log in.
CREATE_DRIVERS = """
INSERT INTO users (email, display_name)
SELECT 'bench-driver-' || n || '@bench.invalid', 'Bench driver ' || n
FROM generate_series(1, $1) AS n
"""
SPOT_IDS = "SELECT id FROM spots ORDER BY spot_number"
DRIVER_IDS = "SELECT id FROM users WHERE email LIKE 'bench-driver-%' ORDER BY id"
TRUNCATE = "TRUNCATE reservations"
# So that flushing one phase's writes is less likely to land inside the next.
CHECKPOINT = "CHECKPOINT"


@dataclass(frozen=True)
class Booking:
    """One POST /reservations: who books which spot for which slot."""

    user_id: int
    spot_id: int
    slot: Slot

    def body(self) -> dict[str, object]:
        return {
            "spot_id": self.spot_id,
            "start_time": self.slot.start.isoformat(),
            "end_time": self.slot.end.isoformat(),
        }


@dataclass(frozen=True)
class Database:
    url: str
    postmaster_pid: int
    settings: Settings  # what the server gets too: same pool size, same zone
    spot_ids: list[int]
    driver_ids: list[int]
    tokens: TokenService

    def token(self, user_id: int) -> str:
        return self.tokens.issue(User(user_id, f"user-{user_id}", "Bench", "driver"))

    def distinct_bookings(self) -> Iterator[Booking]:
        """Every (spot, day, slot) once, from tomorrow on; driver i always takes spot i."""
        first = today(TZ)
        for offset in range(1, DAYS + 1):
            for slot in slots_on(first + timedelta(days=offset), TZ):
                for user_id, spot_id in zip(self.driver_ids, self.spot_ids, strict=True):
                    yield Booking(user_id, spot_id, slot)

    async def reset(self) -> None:
        conn = await asyncpg.connect(self.url)
        try:
            await conn.execute(TRUNCATE)
            await conn.execute(CHECKPOINT)
        finally:
            await conn.close()


@asynccontextmanager
async def database() -> AsyncIterator[Database]:
    """Embedded PostgreSQL with a fresh, migrated bench database; stopped on exit."""
    # pgserver asks platformdirs for a runtime dir; without XDG_RUNTIME_DIR it warns.
    warnings.filterwarnings("ignore", category=UserWarning, module="platformdirs")
    server = await asyncio.to_thread(_start_postgres)
    try:
        admin_url = f"postgresql://postgres@/postgres?host={server.pgdata}"
        await recreate_database(admin_url, DATABASE)
        url = f"postgresql://postgres@/{DATABASE}?host={server.pgdata}"
        settings = Settings.from_env(_pool_size_env())
        await db.run_migrations(url, settings.migrations_dir)
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(CREATE_SPOTS, SPOTS)
            await conn.execute(CREATE_DRIVERS, SPOTS)
            # Far enough ahead for every distinct booking the phases make.
            await conn.execute("UPDATE lot_rules SET booking_horizon_days = $1", DAYS + 1)
            spot_ids = [r["id"] for r in await conn.fetch(SPOT_IDS)]
            driver_ids = [r["id"] for r in await conn.fetch(DRIVER_IDS)]
        finally:
            await conn.close()
        yield Database(
            url=url,
            postmaster_pid=server.get_pid(),
            settings=settings,
            spot_ids=spot_ids,
            driver_ids=driver_ids,
            tokens=TokenService(JWT_SECRET, 3600),
        )
    finally:
        await asyncio.to_thread(server.cleanup)


def _start_postgres():  # -> pgserver.PostgresServer
    import pgserver

    PGDATA.parent.mkdir(parents=True, exist_ok=True)
    return pgserver.get_server(PGDATA, cleanup_mode="stop")


def _pool_size_env() -> dict[str, str]:
    # Only the pool size is taken from the caller's environment: everything else
    # (database, secret, port, zone) is the bench's own.
    return {"DATABASE_POOL_SIZE": os.environ.get("DATABASE_POOL_SIZE", "")}


@dataclass(frozen=True)
class Server:
    base_url: str
    process: psutil.Process
    mail: MailCatcher  # where the server's mail goes


@asynccontextmanager
async def app_server(database: Database, log_path: Path = SERVER_LOG, **extra_env: str) -> AsyncIterator[Server]:
    """`python -m server` in its own process, so the load generator never shares its loop.

    Its mail goes to an aiosmtpd server in the bench's own loop.
    """
    async with MailCatcher() as mail:
        env = {
            "DATABASE_URL": database.url,
            "DATABASE_POOL_SIZE": str(database.settings.database_pool_size),
            "JWT_SECRET": JWT_SECRET,
            "PARKING_TIMEZONE": TZ.key,
            # The bench's drivers book thousands of times a minute each; the write
            # limit's counter still runs on every booking, it only never refuses.
            "BOOKING_WRITES_PER_MINUTE": "1000000000",
            # The fan-out phase holds 5,000 sockets for the 200 bench drivers, 25 each.
            "MAX_SOCKETS_PER_USER": "50",
            **mail.env,
            **extra_env,
        }
        running = server_process(env, log_path)
        # Entered in a thread: starting and stopping block until the server answers.
        base_url, process = await asyncio.to_thread(running.__enter__)
        try:
            yield Server(base_url, psutil.Process(process.pid), mail)
        finally:
            await asyncio.to_thread(running.__exit__, None, None, None)


def open_files_limit() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return sys.maxsize if soft == resource.RLIM_INFINITY else soft


def raise_open_files_limit(wanted: int) -> int:
    """Raise this process's descriptor limit (RLIMIT_NOFILE) to `wanted` if it can; return it.

    Processes started afterwards (PostgreSQL, the server, the watchers) inherit it.
    """
    if open_files_limit() < wanted:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY or hard >= wanted:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        else:
            try:  # beyond the hard limit: only with CAP_SYS_RESOURCE (root)
                resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
            except (ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return open_files_limit()
