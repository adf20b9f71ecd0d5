"""A rolling restart through the real load balancer (HAProxy, server/haproxy.cfg) fails no request and leaves no stale grid."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
import asyncpg
import pytest

from server.auth import TokenService
from server.repository.users import User
from tests.balancer import Instance, haproxy, require_haproxy, server_states
from tests.support import TEST_JWT_SECRET, slot_body, tomorrow

BOOKING_CLIENTS = 20
WATCHERS = 50
# Every answer within this, or it counts as a failure (a timeout).
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=10)
# How long HAProxy may take to put a started instance back (two checks 2 s apart).
BACK_IN_ROTATION_SECONDS = 30

Cell = tuple[int, datetime]  # (spot id, slot start)


@dataclass
class Tally:
    requests: int = 0
    failures: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)


def cell(spot_id: int, start_time: str) -> Cell:
    # Events and the grid may spell an instant differently ("Z", "+00:00").
    return spot_id, datetime.fromisoformat(start_time)


def booked_cells(grid: dict[str, Any]) -> set[Cell]:
    return {
        cell(spot["id"], slot["start_time"])
        for spot in grid["spots"]
        for slot in spot["slots"]
        if slot["state"] == "booked"
    }


class Watcher:
    """A phone on the grid: its socket through the load balancer, its view kept by events and refetches."""

    def __init__(self, base_url: str, token: str, days: list[date]) -> None:
        self._base_url = base_url
        self._headers = {"Authorization": f"Bearer {token}"}
        self._token = token
        self._days = days
        self.view: set[Cell] = set()
        self.seen_booked: set[Cell] = set()
        self.connections = 0
        self.close_codes: list[int | None] = []
        self.gaps: list[float] = []
        self.connected = asyncio.Event()
        self.failures: list[str] = []

    async def refetch(self, session: aiohttp.ClientSession) -> set[Cell]:
        cells: set[Cell] = set()
        for day in self._days:
            async with session.get(
                f"{self._base_url}/spots?date={day.isoformat()}", headers=self._headers, timeout=REQUEST_TIMEOUT
            ) as response:
                if response.status != 200:
                    self.failures.append(f"GET /spots: {response.status}")
                cells |= booked_cells(await response.json())
        return cells

    async def run(self, session: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        closed_at: float | None = None
        while not stop.is_set():
            try:
                ws = await asyncio.wait_for(session.ws_connect(self._base_url.replace("http", "ws") + "/ws"), 10)
            except (aiohttp.ClientError, TimeoutError) as exc:
                self.failures.append(f"connect: {exc!r}")
                await asyncio.sleep(0.1)  # the browser's retry: a short, jittered pause
                continue
            async with ws:
                await ws.send_json({"type": "auth", "token": self._token})
                async for message in ws:
                    if message.type != aiohttp.WSMsgType.TEXT:
                        break
                    data = message.json()
                    if data["type"] == "ready":
                        self.connections += 1
                        if closed_at is not None:
                            self.gaps.append(time.monotonic() - closed_at)
                        self.connected.set()
                    if data["type"] in ("ready", "resync"):
                        # As the browser does. Events that arrive meanwhile wait in
                        # the socket's queue, and are applied after the snapshot.
                        self.view = await self.refetch(session)
                    else:
                        self._apply(data)
            self.connected.clear()
            closed_at = time.monotonic()
            self.close_codes.append(ws.close_code)
            if not stop.is_set():
                # static/parking/socket.js: at once, with jitter, after 1001.
                await asyncio.sleep(random.uniform(0, 0.25))

    def _apply(self, event: dict[str, Any]) -> None:
        if event["type"] == "reservation.booked":
            self.view.add(cell(event["spot_id"], event["start_time"]))
            self.seen_booked.add(cell(event["spot_id"], event["start_time"]))
        elif event["type"] == "reservation.released":
            self.view.discard(cell(event["spot_id"], event["start_time"]))


async def book_and_release(
    session: aiohttp.ClientSession,
    base_url: str,
    token: str,
    bodies: list[dict[str, Any]],
    tally: Tally,
    stop: asyncio.Event,
    rng: random.Random,
) -> None:
    """One driver, booking a random slot and releasing it, until stopped."""
    headers = {"Authorization": f"Bearer {token}"}

    async def call(method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        tally.requests += 1
        try:
            async with session.request(
                method, base_url + path, headers=headers, timeout=REQUEST_TIMEOUT, **kwargs
            ) as response:
                body = await response.json()
                tally.statuses[response.status] = tally.statuses.get(response.status, 0) + 1
                if response.status >= 500:
                    tally.failures.append(f"{method} {path}: {response.status} {body}")
                return response.status, body
        except (aiohttp.ClientError, TimeoutError) as exc:
            tally.failures.append(f"{method} {path}: {exc!r}")
            return 0, None

    while not stop.is_set():
        status, body = await call("POST", "/reservations", json=rng.choice(bodies))
        if status == 201:
            await call("PUT", f"/reservations/{body['id']}/complete")


def the_days() -> list[date]:
    return [tomorrow(), tomorrow() + timedelta(days=1)]


def bodies_for(spot_ids: list[int], days: list[date]) -> Iterator[dict[str, Any]]:
    for day in days:
        for spot_id in spot_ids:
            for index in range(3):
                yield slot_body(spot_id, day, index)


async def booked_in_database(conn: asyncpg.Connection, days: list[date]) -> set[Cell]:
    rows = await conn.fetch(
        "SELECT spot_id, start_time FROM reservations "
        "WHERE status = 'booked' AND start_time >= $1 AND start_time < $2",
        datetime.combine(days[0], datetime.min.time(), UTC),
        datetime.combine(days[-1] + timedelta(days=1), datetime.min.time(), UTC),
    )
    return {(r["spot_id"], r["start_time"]) for r in rows}


async def until(predicate, timeout: float, what: str) -> None:
    """Poll an async or sync predicate until it holds, failing with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not within {timeout} s")
        await asyncio.sleep(0.05)  # polling a condition under a deadline


async def test_a_rolling_restart_through_haproxy_fails_nothing_and_leaves_no_stale_grid(
    tmp_path, database_url, db_conn, spot_ids
):
    require_haproxy()
    drivers = await db_conn.fetch(
        "INSERT INTO users (email, display_name) "
        "SELECT 'rolling-' || n || '@test.invalid', 'Rolling driver ' || n "
        "FROM generate_series(1, $1) AS n RETURNING id, email",
        BOOKING_CLIENTS,
    )
    tokens = TokenService(TEST_JWT_SECRET, 3600)
    driver_tokens = [tokens.issue(User(r["id"], r["email"], "Driver", "driver")) for r in drivers]
    days = the_days()
    bodies = list(bodies_for(sorted(spot_ids.values()), days))
    # DRAIN_SECONDS unset: SIGTERM drains for the default 5 s, as in production.
    env = {
        "DATABASE_URL": database_url,
        "JWT_SECRET": TEST_JWT_SECRET,
        "DRAIN_SECONDS": "",
        # 20 clients book and release without pause: far past a driver's limit.
        "BOOKING_WRITES_PER_MINUTE": "1000000",
    }

    with ExitStack() as stack:
        instances = [Instance(name, env, tmp_path) for name in ("app", "app2")]
        for instance in instances:
            stack.callback(instance.close)
            await asyncio.to_thread(instance.start)
        lb_url, stats_url = stack.enter_context(
            haproxy((instances[0].address, instances[1].address), tmp_path / "haproxy.log")
        )

        async def in_rotation(*names: str) -> bool:
            states = await asyncio.to_thread(server_states, stats_url)
            return all(states.get(name) == "UP" for name in names)

        await until(lambda: in_rotation("app", "app2"), BACK_IN_ROTATION_SECONDS, "both instances UP")

        stop_booking, stop_watching = asyncio.Event(), asyncio.Event()
        tally = Tally()
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            watchers = [Watcher(lb_url, driver_tokens[i % len(driver_tokens)], days) for i in range(WATCHERS)]
            watching = [asyncio.create_task(w.run(session, stop_watching)) for w in watchers]
            try:
                await until(lambda: all(w.connected.is_set() for w in watchers), 30, "every watcher connected")
                booking = [
                    asyncio.create_task(
                        book_and_release(session, lb_url, token, bodies, tally, stop_booking, random.Random(i))
                    )
                    for i, token in enumerate(driver_tokens)
                ]
                try:
                    for instance in instances:
                        assert await asyncio.to_thread(instance.stop) == 0, f"{instance.name} exited non-zero"
                        await asyncio.to_thread(instance.start)
                        await until(
                            lambda: in_rotation("app", "app2"), BACK_IN_ROTATION_SECONDS,
                            f"{instance.name} back in rotation",
                        )
                finally:
                    stop_booking.set()
                    await asyncio.gather(*booking)

                # Every socket was on one of the two instances, so each was closed and came back.
                await until(lambda: all(w.connected.is_set() for w in watchers), 30, "every watcher reconnected")
                assert all(w.connections >= 2 for w in watchers), [w.connections for w in watchers]
                assert all(1001 in w.close_codes for w in watchers), [w.close_codes for w in watchers]

                # The views kept by events alone agree with the database once the last events land...
                truth = await booked_in_database(db_conn, days)
                await until(lambda: all(w.view == truth for w in watchers), 10, "event-kept views match the database")
                # ...and so does a refetch through the load balancer, whichever instance answers.
                for w in watchers:
                    assert await w.refetch(session) == truth

                # An event published after the restarts reaches every socket.
                for w in watchers:
                    w.seen_booked.clear()
                async with session.post(
                    lb_url + "/reservations",
                    json=next(b for b in bodies if cell(b["spot_id"], b["start_time"]) not in truth),
                    headers={"Authorization": f"Bearer {driver_tokens[0]}"},
                ) as response:
                    assert response.status == 201
                    booked = await response.json()
                new = cell(booked["spot_id"], booked["start_time"])
                await until(lambda: all(new in w.seen_booked for w in watchers), 10, "the new event at every watcher")
                assert all(w.view == truth | {new} for w in watchers)

            finally:
                stop_watching.set()
                for task in watching:
                    task.cancel()
                await asyncio.gather(*watching, return_exceptions=True)
            watcher_failures = [failure for w in watchers for failure in w.failures]

        doubles = await db_conn.fetchval(
            "SELECT count(*) FROM (SELECT spot_id, start_time FROM reservations WHERE status = 'booked' "
            "GROUP BY 1, 2 HAVING count(*) > 1) AS d"
        )
        gaps = [gap for w in watchers for gap in w.gaps]
        reconnects = sum(len(w.gaps) for w in watchers)
        print(
            f"\nrolling restart: {tally.requests} requests ({tally.statuses}), "
            f"{len(tally.failures)} failed; {reconnects} reconnects of {WATCHERS} sockets; "
            f"longest gap a client saw {max(gaps):.2f} s"
        )
        assert not tally.failures, tally.failures[:10]
        assert not watcher_failures, watcher_failures[:10]
        assert tally.statuses.get(201, 0) > 0
        assert doubles == 0
