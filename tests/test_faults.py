"""Database outages: quick JSON 503s, recovery without a restart, resync, and no booking lost or doubled."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pgserver
import psutil
import pytest
from aiohttp import web
from pgserver import pg_ctl

from server import db
from server.app import create_app
from server.auth import TokenService
from server.repository.users import User
from server.settings import PROJECT_ROOT, Settings
from tests.support import (
    DRIVER1,
    DRIVER2,
    PASSWORD,
    TEST_JWT_SECRET,
    eventually,
    next_of_type,
    open_socket,
    run_async,
    slot_body,
    tomorrow,
    with_database,
)

FAULT_PGDATA = PROJECT_ROOT / ".data" / "fault-postgres"
FAULT_DATABASE = "smart_parking_faults"
# Far above a 503's real cost (milliseconds), far below "hangs".
QUICK_SECONDS = 2.0


class Database:
    """This module's own embedded PostgreSQL, which the tests stop and start at will."""

    def __init__(self, server: pgserver.PostgresServer) -> None:
        self._server = server
        # Restarts must listen where the clients look: the socket directory of the first start.
        self._socket_dir = server.get_postmaster_info().socket_dir
        self.admin_url = f"postgresql://postgres@/postgres?host={self._socket_dir}"
        self.url = with_database(self.admin_url, FAULT_DATABASE)

    @property
    def running(self) -> bool:
        return (Path(self._server.pgdata) / "postmaster.pid").exists()

    def _pg_ctl(self, *args: str) -> None:
        pg_ctl(["-w", *args], pgdata=self._server.pgdata, user=self._server.system_user, timeout=60)

    def stop_now(self) -> None:
        # "fast": roll back open transactions and disconnect every client, as a crash or failover would.
        self._pg_ctl("-m", "fast", "stop")

    def start_now(self) -> None:
        # The arguments pgserver itself starts the server with: no TCP, socket in the same directory.
        self._pg_ctl("-o", '-h ""', "-o", f"-k {self._socket_dir}", "-l", str(self._server.log), "start")

    def _processes(self) -> list[psutil.Process]:
        """The postmaster (as postmaster.pid names it) and every backend it started."""
        pid = int((Path(self._server.pgdata) / "postmaster.pid").read_text().split()[0])
        postmaster = psutil.Process(pid)
        return [postmaster, *postmaster.children(recursive=True)]

    def pause(self) -> None:
        """Stall every process of this server (SIGSTOP): connections stay open, nothing answers."""
        for process in self._processes():
            process.suspend()

    def resume(self) -> None:
        for process in self._processes():
            process.resume()

    async def stop(self) -> None:
        await asyncio.to_thread(self.stop_now)

    async def start(self) -> None:
        await asyncio.to_thread(self.start_now)


@pytest.fixture(scope="module")
def database() -> Iterator[Database]:
    FAULT_PGDATA.parent.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(FAULT_PGDATA, cleanup_mode="stop")
    database = Database(server)

    async def create() -> None:
        conn = await asyncpg.connect(database.admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{FAULT_DATABASE}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{FAULT_DATABASE}"')
        finally:
            await conn.close()

    run_async(create)
    run_async(lambda: db.run_migrations(database.url, PROJECT_ROOT / "db" / "migrations"))
    yield database
    # pgserver's cleanup only stops the postmaster it started itself, not one of our restarts.
    if database.running:
        database.stop_now()
    server.cleanup()


@pytest.fixture
def fault_db(database: Database) -> Database:
    """The database up, with only the seed data, whatever the previous test left."""
    if not database.running:
        database.start_now()

    async def reset() -> None:
        conn = await asyncpg.connect(database.url)
        try:
            await conn.execute("TRUNCATE reservations RESTART IDENTITY")
        finally:
            await conn.close()

    run_async(reset)
    return database


@pytest.fixture
async def fault_client(aiohttp_client: Any, fault_db: Database) -> Any:
    # The booking load below books far faster than one driver may (30 writes a
    # minute), and this module is about outages, not that limit, which
    # tests/test_booking_write_limit.py proves on its own.
    settings = Settings(
        database_url=fault_db.url,
        jwt_secret=TEST_JWT_SECRET,
        sweep_interval_seconds=0.2,
        booking_writes_per_minute=1_000_000,
    )
    return await aiohttp_client(create_app(settings))


@pytest.fixture
async def drivers(fault_db: Database) -> dict[str, int]:
    conn = await asyncpg.connect(fault_db.url)
    try:
        return {r["email"]: r["id"] for r in await conn.fetch("SELECT id, email FROM users")}
    finally:
        await conn.close()


@pytest.fixture
def token_for(drivers: dict[str, int]) -> Callable[[str], str]:
    tokens = TokenService(TEST_JWT_SECRET, 3600)
    return lambda email: tokens.issue(User(drivers[email], email, email, "driver"))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def spot_ids(url: str) -> dict[int, int]:
    conn = await asyncpg.connect(url)
    try:
        return {r["spot_number"]: r["id"] for r in await conn.fetch("SELECT id, spot_number FROM spots")}
    finally:
        await conn.close()


async def until_status(request: Callable[[], Awaitable[Any]], status: int, timeout: float) -> Any:
    """Repeat the request until it answers `status`, failing after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while True:
            response = await request()
            if response.status == status:
                return response
            await asyncio.sleep(0.1)  # polling a condition with a deadline


# --- the API while the database is down, and after ---------------------------------------


async def test_while_the_database_is_down_the_api_answers_a_quick_json_503_then_recovers_alone(
    fault_db, fault_client, token_for
):
    headers = bearer(token_for(DRIVER1))
    spots = await spot_ids(fault_db.url)
    body = slot_body(spots[1], tomorrow())
    needing_the_database = [
        ("POST", "/login", {"email": DRIVER1, "password": PASSWORD}),
        ("GET", "/spots", None),
        ("POST", "/reservations", body),
        ("GET", "/reservations", None),
        ("GET", "/reservations/1", None),
        ("PUT", "/reservations/1/complete", None),
        ("GET", "/stats", None),
        ("GET", "/reservations/export.csv", None),
    ]
    assert (await fault_client.get("/spots", headers=headers)).status == 200

    await fault_db.stop()
    slow, wrong = [], []
    for method, path, json_body in needing_the_database:
        started = time.monotonic()
        try:
            async with asyncio.timeout(15):  # whatever the answer, it must come
                response = await fault_client.request(method, path, json=json_body, headers=headers)
                text = await response.text()
        except aiohttp.ClientError as exc:  # e.g. a response the client cannot parse
            wrong.append((method, path, f"{type(exc).__name__}: {getattr(exc, 'message', exc)}"[:200]))
            continue
        elapsed = time.monotonic() - started
        if elapsed > QUICK_SECONDS:
            slow.append((method, path, round(elapsed, 2)))
        if response.status != 503 or '"code": "database_unavailable"' not in text:
            wrong.append((method, path, response.status, response.content_type, text[:120]))
    assert not wrong
    assert not slow
    readyz = await fault_client.get("/readyz")
    assert readyz.status == 503 and (await readyz.json())["error"]["code"] == "database_unavailable"
    assert (await fault_client.get("/healthz")).status == 200

    await fault_db.start()
    await until_status(lambda: fault_client.get("/spots", headers=headers), 200, timeout=20)
    booked = await fault_client.post("/reservations", json=body, headers=headers)
    assert booked.status == 201
    reservation_id = (await booked.json())["id"]
    assert (await fault_client.get(f"/reservations/{reservation_id}", headers=headers)).status == 200
    assert (await fault_client.get("/readyz")).status == 200


async def test_the_listen_connection_comes_back_and_sockets_get_resync_then_events(
    fault_db, fault_client, token_for
):
    # The booking driver's own socket, the one that is told the reservation's id.
    watcher = await open_socket(fault_client, "/ws", token_for(DRIVER1))
    await fault_db.stop()
    await fault_db.start()
    # The listener retries with backoff (at most 30 s), then tells every socket to resync.
    await next_of_type(watcher, "resync", timeout=45)

    spots = await spot_ids(fault_db.url)
    response = await until_status(
        lambda: fault_client.post(
            "/reservations", json=slot_body(spots[2], tomorrow(), 1), headers=bearer(token_for(DRIVER1))
        ),
        201,
        timeout=20,
    )
    event = await next_of_type(watcher, "reservation.booked", timeout=5)
    assert event["reservation_id"] == (await response.json())["id"]
    await watcher.close()


# --- bookings across an outage ------------------------------------------------------------


@dataclass
class BookingLoad:
    """Two drivers racing for one slot after another, retrying a slot that got a 503."""

    client: Any
    headers: list[dict[str, str]]
    bodies: list[dict[str, Any]]
    statuses: list[int] = field(default_factory=list)
    booked_ids: set[int] = field(default_factory=set)
    saw_503: asyncio.Event = field(default_factory=asyncio.Event)
    restarted: bool = False
    booked_after_restart: asyncio.Event = field(default_factory=asyncio.Event)
    done: bool = False

    async def _attempt(self, headers: dict[str, str], body: dict[str, Any]) -> int:
        response = await self.client.post("/reservations", json=body, headers=headers)
        self.statuses.append(response.status)
        if response.status == 201:
            self.booked_ids.add((await response.json())["id"])
            if self.restarted:
                self.booked_after_restart.set()
        return response.status

    async def run(self) -> None:
        for body in self.bodies:
            while not self.done:
                results = await asyncio.gather(*(self._attempt(h, body) for h in self.headers))
                if 503 not in results:
                    break
                self.saw_503.set()
                await asyncio.sleep(0.05)  # a client's retry backoff, not a wait for a condition
            if self.done:
                return


async def test_every_201_before_an_outage_survives_it_and_no_slot_is_ever_booked_twice(
    fault_db, fault_client, token_for
):
    spots = await spot_ids(fault_db.url)
    first_day = tomorrow()
    bodies = [
        slot_body(spots[number], first_day + timedelta(days=day), index)
        for day in range(20)
        for index in range(3)
        for number in sorted(spots)
    ]
    load = BookingLoad(fault_client, [bearer(token_for(DRIVER1)), bearer(token_for(DRIVER2))], bodies)
    task = asyncio.create_task(load.run())
    try:
        await eventually(lambda: len(load.booked_ids) >= 5, timeout=20)
        await fault_db.stop()
        async with asyncio.timeout(20):
            await load.saw_503.wait()
        await fault_db.start()
        load.restarted = True
        async with asyncio.timeout(30):
            await load.booked_after_restart.wait()
    finally:
        load.done = True
        async with asyncio.timeout(30):
            await task

    assert set(load.statuses) <= {201, 409, 503}, sorted(set(load.statuses))
    conn = await asyncpg.connect(fault_db.url)
    try:
        kept = await conn.fetch(
            "SELECT id FROM reservations WHERE id = ANY($1::bigint[]) AND status = 'booked'", list(load.booked_ids)
        )
        doubled = await conn.fetch(
            "SELECT spot_id, start_time, count(*) FROM reservations WHERE status = 'booked' "
            "GROUP BY spot_id, start_time HAVING count(*) > 1"
        )
    finally:
        await conn.close()
    assert {r["id"] for r in kept} == load.booked_ids
    assert doubled == []


async def test_a_pooled_connection_the_database_dropped_is_a_503_not_a_500(fault_db, aiohttp_client, token_for):
    """What asyncpg raises when PostgreSQL ends an idle pooled connection just before it is used.

    The race (MagicStack/asyncpg#1069) is real but rare per request: the test above
    meets it in about a third of its runs. This pins the answer down deterministically.
    """
    settings = Settings(database_url=fault_db.url, jwt_secret=TEST_JWT_SECRET)
    app = create_app(settings)

    async def dropped_connection(request: web.Request) -> web.Response:
        raise asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is in progress")

    app.router.add_get("/dropped-connection", dropped_connection)
    client = await aiohttp_client(app)
    response = await client.get("/dropped-connection", headers=bearer(token_for(DRIVER1)))
    assert response.status == 503
    assert (await response.json())["error"]["code"] == "database_unavailable"


# --- the sweeper ---------------------------------------------------------------------------------


async def test_the_sweeper_survives_an_outage_and_then_releases_an_ended_booking(
    fault_db, fault_client, drivers, caplog
):
    caplog.set_level("INFO", logger="server.sweeper")
    await fault_db.stop()
    await eventually(lambda: any("Sweep failed" in m for m in caplog.messages), timeout=10)
    await fault_db.start()

    conn = await asyncpg.connect(fault_db.url)
    try:
        reservation_id = await conn.fetchval(
            "INSERT INTO reservations (user_id, spot_id, start_time, end_time) "
            "SELECT $1, min(id), now() - interval '5 hours', now() - interval '1 hour' FROM spots RETURNING id",
            drivers[DRIVER1],
        )
        line = f"Auto-released Spot #1 (Reservation ID {reservation_id})"
        await eventually(lambda: line in caplog.messages, timeout=20)
        row = await conn.fetchrow("SELECT status, released_by FROM reservations WHERE id = $1", reservation_id)
    finally:
        await conn.close()
    assert (row["status"], row["released_by"]) == ("completed", "expired")


# Far above the bounds' sum (command 2 s + release 1 s; readyz 2 s), well
# below how long a stalled database holds a request without them (12 to 20 s).
STALL_SAFETY_SECONDS = 10


async def test_a_stalled_database_gives_503s_within_seconds_not_when_it_resumes(
    fault_db, aiohttp_client, token_for
):
    settings = Settings(
        database_url=fault_db.url,
        jwt_secret=TEST_JWT_SECRET,
        database_statement_timeout_seconds=1.0,
        database_acquire_timeout_seconds=1.0,
        database_connect_timeout_seconds=1.0,
    )
    client = await aiohttp_client(create_app(settings))
    headers = bearer(token_for(DRIVER1))
    assert (await client.get("/spots", headers=headers)).status == 200  # a warm pool and identity
    fault_db.pause()
    try:
        # The database stays stalled until both have answered: no answer would be a hang.
        async with asyncio.timeout(STALL_SAFETY_SECONDS):
            ready, spots = await asyncio.gather(client.get("/readyz"), client.get("/spots", headers=headers))
        assert (ready.status, spots.status) == (503, 503)
        assert (await spots.json())["error"]["code"] == "database_unavailable"
    finally:
        fault_db.resume()
    await until_status(lambda: client.get("/spots", headers=headers), 200, timeout=20)
