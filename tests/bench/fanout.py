"""4 and 6: event latency to 1,000 and 5,000 authenticated sockets, and the server's memory with them."""

from __future__ import annotations

import asyncio
import json
import math
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import islice

import aiohttp

from server.settings import PROJECT_ROOT

from .load import percentile
from .report import BenchBroken, CpuMeter, Report, Row, at_most, ms
from .stack import Database, Server, open_files_limit
from .watchers import now, slot_key

# Each fleet of sockets, and the server's memory ceiling while it is connected.
FLEETS = {1_000: 150.0, 5_000: 200.0}
# Watcher processes sharing the sockets: one per core, so their own draining
# of thousands of frames per event is split and kept out of the booking client.
WATCHERS = 2
BOOKINGS = 20
CONNECT_TIMEOUT = 120.0
EVENT_TIMEOUT = 10.0
# After a fleet leaves, the server is still busy closing its sockets for a
# while; the next phase starts once its descriptors are back to what they were
# (plus pooled database connections opened meanwhile, and some slack).
SETTLE_TIMEOUT = 60.0
SETTLE_SLACK_FILES = 32
P99_TARGET_MS = 100.0
# Descriptors besides the sockets: the bench's HTTP connections, the database
# pool and listener, the log, pipes to the watchers, with room to spare.
SPARE_FILES = 1_000
# What `make bench` raises RLIMIT_NOFILE to before it starts any process.
OPEN_FILES = max(FLEETS) + SPARE_FILES


@dataclass
class FanOut:
    """Milliseconds per delivery, measured from the booking's 201 and from its POST."""

    after_201: list[float] = field(default_factory=list)
    after_post: list[float] = field(default_factory=list)
    last_socket: list[float] = field(default_factory=list)  # per booking
    booking: list[float] = field(default_factory=list)  # POST to 201, per booking
    early: int = 0  # deliveries that arrived before the 201
    missing: int = 0


class Deliveries:
    """Each watcher's report of when its sockets got a booking's event, by slot_key."""

    def __init__(self) -> None:
        self.arrivals: defaultdict[str, list[float]] = defaultdict(list)
        self.reports: defaultdict[str, int] = defaultdict(int)
        self.everywhere: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)

    async def collect(self, watcher: asyncio.subprocess.Process) -> None:
        assert watcher.stdout is not None
        async for line in watcher.stdout:
            report = json.loads(line)
            self.arrivals[report["key"]] += report["arrivals"]
            self.reports[report["key"]] += 1
            if self.reports[report["key"]] == WATCHERS:
                self.everywhere[report["key"]].set()


async def ws_fanout(database: Database, server: Server, report: Report) -> None:
    url = server.base_url + "/ws"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        async with session.get(url) as probe:
            if probe.status == 404:
                report.rows.append(Row("4. WS fan-out", "n/a: the server has no /ws yet"))
                return
        open_files = open_files_limit()
        fleets: list[tuple[int, Fleet]] = []
        for sockets in FLEETS:
            if sockets + SPARE_FILES > open_files:
                report.notes.append(
                    f"WS fan-out at {sockets:,} sockets skipped: the descriptor limit is "
                    f"{open_files:,} and could not be raised to {sockets + SPARE_FILES:,}"
                )
                continue
            fleets.append((sockets, await _fan_out(database, server, session, url, sockets)))
    # Grouped by measure, so the two fleets' figures sit next to each other.
    for sockets, fleet in fleets:
        _latency_rows(report, sockets, fleet)
    for sockets, fleet in fleets:
        report.rows.append(
            Row(
                f"6. Server RSS with {sockets:,} sockets",
                f"{fleet.rss / 2**20:.0f} MB",
                f"<= {FLEETS[sockets]:.0f} MB",
                at_most(fleet.rss / 2**20, FLEETS[sockets]),
            )
        )
    for sockets, fleet in fleets:
        report.notes.append(_fleet_note(sockets, fleet))


@dataclass
class Fleet:
    """What one fleet of sockets measured: deliveries, memory and CPU."""

    fan_out: FanOut
    rss_before: int
    rss: int
    connect_took: float
    usage: str


async def _fan_out(
    database: Database, server: Server, session: aiohttp.ClientSession, url: str, sockets: int
) -> Fleet:
    """Connect `sockets` watchers' sockets, book BOOKINGS slots one by one, then disconnect."""
    await database.reset()
    rss_before = server.process.memory_info().rss
    files_before = server.process.num_fds()
    watchers: list[asyncio.subprocess.Process] = []
    try:
        connect_took = await _start_watchers(database, url, watchers, sockets)
        deliveries = Deliveries()
        collectors = [asyncio.create_task(deliveries.collect(w)) for w in watchers]
        cpu = CpuMeter(server.process.pid, database.postmaster_pid)
        cpu.start()
        fan_out = await _book_and_wait(database, server, session, deliveries, sockets)
        usage = cpu.summary(BOOKINGS).replace("per operation", "per booking")
        rss = server.process.memory_info().rss
    finally:
        await _stop_watchers(watchers)
        await _until_closed(server, files_before + SETTLE_SLACK_FILES)
    await asyncio.gather(*collectors)
    return Fleet(fan_out, rss_before, rss, connect_took, usage)


def _latency_rows(report: Report, sockets: int, fleet: Fleet) -> None:
    fan_out = fleet.fan_out
    # The measure: per booking, the wait until its last socket has the event.
    last_p99 = percentile(fan_out.last_socket, 99)
    early = f" ({fan_out.early / len(fan_out.after_201):.0%} came before it)" if fan_out.after_201 else ""
    report.rows += [
        Row(
            f"4. WS fan-out, {sockets:,} sockets, {BOOKINGS} bookings: 201 to last socket, p99",
            ms(last_p99),
            f"<= {P99_TARGET_MS:.0f} ms",
            False if fan_out.missing else at_most(last_p99, P99_TARGET_MS),
        ),
        Row("   every delivery after the 201: p50", ms(percentile(fan_out.after_201, 50))),
        Row("   every delivery after the 201: p99", ms(percentile(fan_out.after_201, 99)) + early),
        Row(
            "   every delivery after sending the POST: p99 (upper bound)",
            ms(percentile(fan_out.after_post, 99)),
        ),
    ]


def _fleet_note(sockets: int, fleet: Fleet) -> str:
    fan_out = fleet.fan_out
    return (
        f"WS fan-out, {sockets:,} sockets: {WATCHERS} watcher processes hold them; latency = an "
        f"event's arrival at a socket - the 201's arrival at the booking client, 0 when the event "
        f"came first ({fan_out.early:,} of {len(fan_out.after_201):,}); {fan_out.missing} missing; "
        f"the last socket of a booking: p50 {percentile(fan_out.last_socket, 50):.1f} ms, max "
        f"{max(fan_out.last_socket, default=math.nan):.1f} ms after the 201; the bookings' own "
        f"POST-to-201 p50 {percentile(fan_out.booking, 50):.1f} ms; sockets connected and "
        f"authenticated in {fleet.connect_took:.1f} s; server RSS {fleet.rss_before / 2**20:.0f} MB "
        f"before them; {fleet.usage} (the watchers count as other)"
    )


async def _start_watchers(
    database: Database, url: str, watchers: list[asyncio.subprocess.Process], sockets: int
) -> float:
    """Spawn the watchers, hand each its tokens, and wait until all sockets are ready."""
    drivers = database.driver_ids
    started = time.perf_counter()
    for index in range(WATCHERS):
        watcher = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.bench.watchers",
            url,
            str(sockets // WATCHERS),
            cwd=PROJECT_ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        watchers.append(watcher)
        assert watcher.stdin is not None
        # Tokens go through stdin, not argv, where `ps` would show them.
        tokens = (database.token(drivers[(index + i) % len(drivers)]) for i in range(sockets // WATCHERS))
        watcher.stdin.write("".join(f"{t}\n" for t in tokens).encode())
        await watcher.stdin.drain()
    for watcher in watchers:
        assert watcher.stdout is not None
        line = await asyncio.wait_for(watcher.stdout.readline(), CONNECT_TIMEOUT)
        if not line or "ready" not in json.loads(line):
            raise BenchBroken("a WebSocket watcher failed to connect; see its error above")
    return time.perf_counter() - started


async def _stop_watchers(watchers: list[asyncio.subprocess.Process]) -> None:
    for watcher in watchers:
        if watcher.stdin is not None:
            watcher.stdin.close()  # the watcher's signal to close its sockets and exit
    for watcher in watchers:
        try:
            await asyncio.wait_for(watcher.wait(), 30)
        except TimeoutError:
            watcher.kill()
            await watcher.wait()


async def _until_closed(server: Server, files: int) -> None:
    """Wait until the server holds at most `files` descriptors: its sockets are closed."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while (held := server.process.num_fds()) > files:
        if time.monotonic() > deadline:
            raise BenchBroken(
                f"the server still holds {held} descriptors {SETTLE_TIMEOUT:.0f} s after its sockets left"
            )
        await asyncio.sleep(0.1)  # polling a condition under a deadline


async def _book_and_wait(
    database: Database,
    server: Server,
    session: aiohttp.ClientSession,
    deliveries: Deliveries,
    sockets: int,
) -> FanOut:
    """Book one slot at a time; wait until every socket has its event (or the timeout)."""
    fan_out = FanOut()
    for booking in islice(database.distinct_bookings(), BOOKINGS):
        headers = {"Authorization": f"Bearer {database.token(booking.user_id)}"}
        sent = now()
        async with session.post(
            server.base_url + "/reservations", json=booking.body(), headers=headers
        ) as response:
            body = await response.json()
            answered = now()
        if response.status != 201:
            raise BenchBroken(f"booking for the fan-out answered {response.status}: {body}")
        key = slot_key(booking.spot_id, booking.slot.start.isoformat())
        try:
            await asyncio.wait_for(deliveries.everywhere[key].wait(), EVENT_TIMEOUT)
        except TimeoutError:
            pass  # counted as missing
        arrivals = deliveries.arrivals[key]
        fan_out.booking.append((answered - sent) * 1000)
        fan_out.missing += sockets - len(arrivals)
        fan_out.early += sum(at < answered for at in arrivals)
        # An event can beat the 201 to the client (the server sends it while the
        # handler is still finishing): for a watcher that is no delay at all.
        fan_out.after_201 += [max(0.0, at - answered) * 1000 for at in arrivals]
        fan_out.after_post += [(at - sent) * 1000 for at in arrivals]
        if len(arrivals) == sockets:
            fan_out.last_socket.append(max(0.0, max(arrivals) - answered) * 1000)
    return fan_out
