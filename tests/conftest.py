"""Shared fixtures: a real PostgreSQL (embedded, or DATABASE_URL), apps, servers, tokens."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from server import db
from server.access_log import RedactingAccessLogger
from server.app import create_app
from server.auth import TokenService
from server.repository.users import User
from server.settings import PROJECT_ROOT, Settings
from tests.support import (
    DRIVER1,
    TEST_JWT_SECRET,
    recreate_database,
    run_async,
    server_process,
    with_database,
)

TEST_PGDATA = PROJECT_ROOT / ".data" / "test-postgres"
TEST_MAX_CONNECTIONS = 500


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last.

    Playwright's sync API keeps its own event loop running in this thread for as
    long as the session-wide browser lives; asyncio tests after it could not
    start theirs.
    """
    items.sort(key=lambda item: "tests/e2e/" in item.nodeid)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """URL of a PostgreSQL server whose maintenance database we may connect to."""
    external = os.environ.get("DATABASE_URL")
    if external:
        yield with_database(external, "postgres")
        return
    import pgserver

    TEST_PGDATA.parent.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(TEST_PGDATA, cleanup_mode="stop")
    if int(server.psql("SHOW max_connections;").split()[2]) < TEST_MAX_CONNECTIONS:
        # The session keeps every server process it starts (each a pool and a
        # LISTEN connection) until it ends: more than the default 100.
        server.psql(f"ALTER SYSTEM SET max_connections = {TEST_MAX_CONNECTIONS};")
        server.cleanup()
        server = pgserver.get_server(TEST_PGDATA, cleanup_mode="stop")
    yield f"postgresql://postgres@/postgres?host={server.pgdata}"
    server.cleanup()


@pytest.fixture(scope="session")
def create_database(server_url: str) -> Iterator[Callable[[str], str]]:
    """Factory: a fresh, empty database with this name; dropped at session end."""
    created: list[str] = []

    def create(name: str) -> str:
        run_async(lambda: recreate_database(server_url, name))
        created.append(name)
        return with_database(server_url, name)

    yield create

    async def drop_all() -> None:
        conn = await asyncpg.connect(server_url)
        try:
            for name in created:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    run_async(drop_all)


@pytest.fixture(scope="session")
def database_url(create_database: Callable[[str], str]) -> str:
    """The session's test database, migrated."""
    url = create_database(f"smart_parking_test_{os.getpid()}")
    run_async(lambda: db.run_migrations(url, PROJECT_ROOT / "db" / "migrations"))
    return url


# The seed data only, as every test starts.
RESET = """
            TRUNCATE waitlist_entries, reservations, closures, login_attempts, vehicles, lobby_screen,
                reservation_series, series_occurrences, booking_writes, api_tokens,
                notifications, deliveries, webhook_endpoints, monthly_summaries,
                notification_settings RESTART IDENTITY;
            DELETE FROM spots WHERE spot_number > 5;
            UPDATE spots SET floor_number = CASE WHEN spot_number <= 3 THEN 1 ELSE 2 END,
                             type = CASE WHEN spot_number = 1 THEN 'handicap' ELSE 'regular' END;
            DELETE FROM users
            WHERE email NOT IN ('driver1@parking.com', 'driver2@parking.com', 'admin@parking.com');
            UPDATE users SET role = CASE WHEN email = 'admin@parking.com' THEN 'admin' ELSE 'driver' END;
            UPDATE lot_rules SET max_upcoming_per_driver = NULL, booking_horizon_days = 30,
                                 no_show_grace_minutes = 0, reminder_minutes_before = 30,
                                 updated_by = NULL;
            """


async def _reset(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for attempt in range(3):
            try:
                await conn.execute(RESET)
                return
            except asyncpg.DeadlockDetectedError:
                # Servers still running (a module's or the browser tests') read
                # these tables; PostgreSQL aborted the reset, not them: again.
                if attempt == 2:
                    raise
    finally:
        await conn.close()


@pytest.fixture
def reset_db(database_url: str) -> str:
    """Start from the seed data only: no reservations or closures, no extra users or spots."""
    run_async(lambda: _reset(database_url))
    return database_url


@pytest.fixture
def settings(reset_db: str) -> Settings:
    return Settings(database_url=reset_db, jwt_secret=TEST_JWT_SECRET)


class ProductionLikeServer(TestServer):
    """A test server whose runner is set up like python -m server's.

    TestServer drops the runner options its caller gives (server_kwargs), so
    they are set here: the access log that redacts feed keys, and handlers
    that run on when their client leaves (TestServer cancels them instead).
    """

    async def _make_runner(self, **kwargs: Any) -> web.AppRunner:
        kwargs["handler_cancellation"] = False
        return web.AppRunner(self.app, access_log_class=RedactingAccessLogger, **kwargs)


@pytest.fixture
def make_client(aiohttp_client: Any, settings: Settings) -> Callable[..., Awaitable[Any]]:
    """Factory: a test client for a new app instance; keyword arguments override settings."""

    async def make(**overrides: Any) -> Any:
        return await aiohttp_client(ProductionLikeServer(create_app(replace(settings, **overrides))))

    return make


@pytest.fixture
async def client(make_client: Callable[..., Awaitable[Any]]) -> Any:
    return await make_client()


@pytest.fixture
async def db_conn(reset_db: str) -> Any:
    conn = await asyncpg.connect(reset_db)
    yield conn
    await conn.close()


@pytest.fixture(scope="session")
def user_ids(database_url: str) -> dict[str, int]:
    async def fetch() -> dict[str, int]:
        conn = await asyncpg.connect(database_url)
        try:
            return {r["email"]: r["id"] for r in await conn.fetch("SELECT id, email FROM users")}
        finally:
            await conn.close()

    return run_async(fetch)


@pytest.fixture(scope="session")
def tokens() -> TokenService:
    return TokenService(TEST_JWT_SECRET, 3600)


@pytest.fixture
def auth(user_ids: dict[str, int], tokens: TokenService) -> Callable[[str], dict[str, str]]:
    """Authorization headers for a seed user, without paying for a bcrypt login.

    The role claim says "driver" whoever it is: the server reads the role from
    the database, so auth(ADMIN) is the attendant.
    """

    def headers(email: str = DRIVER1) -> dict[str, str]:
        user = User(user_ids[email], email, email, "driver")
        return {"Authorization": f"Bearer {tokens.issue(user)}"}

    return headers


@contextlib.contextmanager
def servers(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., str]]:
    """Factory: run `python -m server` as a subprocess on a free port; all stop on leaving."""
    with contextlib.ExitStack() as running:

        def start(**env: str) -> str:
            log_path = tmp_path_factory.mktemp("server") / "server.log"
            settings = {"DATABASE_URL": database_url, "JWT_SECRET": TEST_JWT_SECRET, **env}
            base_url, _ = running.enter_context(server_process(settings, log_path))
            return base_url

        yield start


@pytest.fixture
def start_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., str]]:
    """Servers that stop when the test ends.

    A server left running would sweep and dispatch on the shared database
    during later tests, and take work (and its log lines) from their apps.
    """
    with servers(database_url, tmp_path_factory) as start:
        yield start


@pytest.fixture(scope="module")
def start_module_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., str]]:
    """Servers shared by one module's tests, stopped when the module ends."""
    with servers(database_url, tmp_path_factory) as start:
        yield start


@pytest.fixture(scope="session")
def start_session_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., str]]:
    """Servers shared by the browser tests; those run last, so nothing after them shares these."""
    with servers(database_url, tmp_path_factory) as start:
        yield start


@pytest.fixture(scope="session")
def spot_ids(database_url: str) -> dict[int, int]:
    """Seed spot id by spot number."""

    async def fetch() -> dict[int, int]:
        conn = await asyncpg.connect(database_url)
        try:
            return {r["spot_number"]: r["id"] for r in await conn.fetch("SELECT id, spot_number FROM spots")}
        finally:
            await conn.close()

    return run_async(fetch)
