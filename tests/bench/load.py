"""Closed-loop load: workers run operations back to back, bounded in count and time."""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

import aiohttp

# An operation returns its outcome: an HTTP status ("201"), or a label ("booked").
Operation = Callable[[], Awaitable[str]]
# Failures of the transport, not answers of the server: counted, never raised.
TRANSPORT_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError)


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)  # seconds, one per operation
    outcomes: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0

    def percentile_ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    def outcome_summary(self) -> str:
        return summarise(self.outcomes)


def summarise(outcomes: Counter[str]) -> str:
    """E.g. "98 x 201, 2 x 409": the outcomes, most frequent first."""
    return ", ".join(f"{n} x {label}" for label, n in outcomes.most_common())


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): a value that was really observed."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


async def closed_loop(
    operations: Iterable[Operation], *, concurrency: int, max_seconds: float
) -> LoadResult:
    """Run the operations with `concurrency` in flight until they run out or time does.

    Closed loop on purpose: a worker starts its next operation only when the
    previous one answered, so the figure is the throughput the system sustains
    at this concurrency, and latency is what each of the callers waited.
    """
    result = LoadResult()
    pending = iter(operations)  # shared: each operation is taken by exactly one worker
    start = time.perf_counter()
    deadline = start + max_seconds

    async def worker() -> None:
        for operation in pending:
            began = time.perf_counter()
            try:
                outcome = await operation()
            except TRANSPORT_ERRORS as exc:
                outcome = type(exc).__name__
            finished = time.perf_counter()
            result.latencies.append(finished - began)
            result.outcomes[outcome] += 1
            if finished >= deadline:
                return

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - start
    return result


def http_session(concurrency: int) -> aiohttp.ClientSession:
    """One session whose connection pool holds exactly `concurrency` keep-alive connections."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency, force_close=False),
        # Bounds every request, so a stuck server cannot hang the benchmark.
        timeout=aiohttp.ClientTimeout(total=30),
    )


def post(session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]) -> Operation:
    async def operation() -> str:
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            return str(response.status)

    return operation
