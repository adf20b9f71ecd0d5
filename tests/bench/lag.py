"""5: how late the server answers a trivial request while bcrypt logins run."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp

from .load import percentile
from .report import BenchBroken, CpuMeter, Report, Row, at_most, ms
from .stack import Database, Server

LOGINS = 20
SEED_LOGIN = json.dumps({"email": "driver1@parking.com", "password": "password123"}).encode()
PROBE_INTERVAL = 0.005
BASELINE_PROBES = 200
LOGIN_SECONDS = 60.0
LAG_TARGET_MS = 20.0


async def login_lag(database: Database, server: Server, report: Report) -> None:
    """How late the server answers a trivial request while bcrypt logins run.

    Measured from outside: GET /healthz does no I/O, so its latency above the
    unloaded figure is the time it waited for the server's event loop.
    """
    healthz = server.base_url + "/healthz"
    timeout = aiohttp.ClientTimeout(total=30)
    async with (
        aiohttp.ClientSession(timeout=timeout) as probes,
        aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=LOGINS)) as logins,
    ):
        baseline = await _probe(probes, healthz, BASELINE_PROBES, stop=None)

        async def login() -> str:
            async with logins.post(
                server.base_url + "/login", data=SEED_LOGIN, headers={"Content-Type": "application/json"}
            ) as response:
                await response.read()
                return str(response.status)

        cpu = CpuMeter(server.process.pid, database.postmaster_pid)
        cpu.start()
        started = time.perf_counter()
        running = asyncio.ensure_future(asyncio.gather(*(login() for _ in range(LOGINS))))
        during = await _probe(probes, healthz, int(LOGIN_SECONDS / PROBE_INTERVAL), stop=running)
        statuses = await asyncio.wait_for(running, LOGIN_SECONDS)
        took = time.perf_counter() - started
        usage = cpu.summary(LOGINS).replace("per operation", "per login")
    if statuses.count("200") != LOGINS:
        raise BenchBroken(f"logins answered {sorted(statuses)}, expected {LOGINS} x 200")
    base = percentile(baseline, 50) * 1000
    lag = [latency * 1000 - base for latency in during]
    lag_p99 = percentile(lag, 99)
    report.rows.append(
        Row(
            f"5. Event-loop lag during {LOGINS} bcrypt logins: p99",
            ms(lag_p99),
            f"<= {LAG_TARGET_MS:.0f} ms",
            at_most(lag_p99, LAG_TARGET_MS),
        )
    )
    report.notes.append(
        f"Login lag: GET /healthz fired every {PROBE_INTERVAL * 1000:.0f} ms (open loop) while "
        f"{LOGINS} POST /login ran at once ({took:.1f} s); lag = probe latency - unloaded p50 "
        f"({base:.2f} ms); {len(lag)} probes, lag p50 {percentile(lag, 50):.1f} ms, "
        f"max {max(lag):.1f} ms; {usage}"
    )


async def _probe(
    session: aiohttp.ClientSession, url: str, max_probes: int, stop: asyncio.Future[Any] | None
) -> list[float]:
    """Latencies of GET url fired on a fixed schedule, until `stop` is done or max_probes.

    Open loop: a slow answer does not delay the next probe, so a stalled server
    shows up as many late probes rather than as one.
    """
    latencies: list[float] = []

    async def one() -> None:
        began = time.perf_counter()
        async with session.get(url) as response:
            await response.read()
        latencies.append(time.perf_counter() - began)

    fired: list[asyncio.Task[None]] = []
    next_at = time.perf_counter()
    for _ in range(max_probes):
        if stop is not None and stop.done():
            break
        fired.append(asyncio.create_task(one()))
        next_at += PROBE_INTERVAL
        # Pacing the schedule, not synchronising: wake when the next probe is due.
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    await asyncio.gather(*fired)
    return latencies
