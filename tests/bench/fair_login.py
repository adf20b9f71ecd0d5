"""10: a correct sign-in from one address during a 30 s flood of bogus ones from another."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter

import aiohttp

from .load import summarise
from .logins import SEED_LOGIN, status_of
from .report import BenchBroken, CpuMeter, Report, Row, at_least
from .stack import Database, Server

# The attacker's address: any 127/8 address reaches the server over loopback,
# and the server tells clients apart by address. The driver signs in from 127.0.0.1.
FLOOD_ADDRESS = "127.0.0.2"
# Bogus sign-ins kept in flight, each resent as soon as it is answered.
FLOODERS = 50
FLOOD_SECONDS = 30.0
TRIES = 10
TRY_TIMEOUT_S = 2.0
TARGET_SUCCESSES = 9


async def fair_login(database: Database, server: Server, report: Report) -> None:
    url = server.base_url + "/login"
    headers = {"Content-Type": "application/json"}
    timeout = aiohttp.ClientTimeout(total=60)
    flood_outcomes: Counter[str] = Counter()
    first_answer = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=FLOODERS, local_addr=(FLOOD_ADDRESS, 0))
    async with (
        aiohttp.ClientSession(timeout=timeout, connector=connector) as flood_session,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TRY_TIMEOUT_S)) as driver,
    ):
        deadline = time.perf_counter() + FLOOD_SECONDS

        async def flooder(index: int) -> None:
            sent = 0
            while time.perf_counter() < deadline:
                body = json.dumps({"email": f"fair-{index}-{sent}@bench.invalid", "password": "wrong"})
                flood_outcomes[await status_of(flood_session.post(url, data=body.encode(), headers=headers))] += 1
                first_answer.set()
                sent += 1

        async def attempt(delay: float) -> tuple[float, str]:
            await asyncio.sleep(delay)  # pacing the tries over the flood, not waiting for a condition
            began = time.perf_counter()
            status = await status_of(driver.post(url, data=SEED_LOGIN, headers=headers))
            return time.perf_counter() - began, status

        cpu = CpuMeter(server.process.pid, database.postmaster_pid)
        cpu.start()
        flood = asyncio.gather(*(flooder(i) for i in range(FLOODERS)))
        await asyncio.wait_for(first_answer.wait(), FLOOD_SECONDS)
        spacing = (deadline - time.perf_counter() - TRY_TIMEOUT_S) / TRIES
        tries = await asyncio.gather(*(attempt(i * spacing) for i in range(TRIES)))
        await flood
        usage = cpu.summary(sum(flood_outcomes.values()) + TRIES).replace("per operation", "per sign-in")
    if "200" in flood_outcomes:
        raise BenchBroken("a bogus sign-in succeeded")
    outcomes = Counter(status for _, status in tries)
    succeeded = sum(1 for seconds, status in tries if status == "200" and seconds <= TRY_TIMEOUT_S)
    report.rows.append(
        Row(
            f"10. Sign-in from another address during a {FLOOD_SECONDS:.0f} s flood from one: "
            f"200 within {TRY_TIMEOUT_S:.0f} s",
            f"{succeeded}/{TRIES}",
            f">= {TARGET_SUCCESSES}/{TRIES}",
            at_least(succeeded, TARGET_SUCCESSES),
        )
    )
    waited = ", ".join(f"{seconds:.2f}" for seconds, _ in tries)
    report.notes.append(
        f"Fair sign-in: {FLOODERS} bogus POST /login kept in flight from {FLOOD_ADDRESS} for "
        f"{FLOOD_SECONDS:.0f} s ({summarise(flood_outcomes)}); {TRIES} correct ones from 127.0.0.1, "
        f"{spacing:.1f} s apart, each given {TRY_TIMEOUT_S:.0f} s ({summarise(outcomes)}), waited "
        f"{waited} s; {usage}"
    )
