"""9: what recording metrics costs the server per booking, with METRICS_TOKEN set and unset."""

from __future__ import annotations

import json
import statistics
import time
from itertools import islice

import psutil

from server.metrics import Metrics

from .load import closed_loop, http_session, post
from .report import BenchBroken, Report, Row, at_most
from .stack import SERVER_LOG, Database, Server, app_server

METRICS_TOKEN = "bench-metrics-token-0123456789"
CONCURRENCY = 16
ROUNDS = 3  # off and on alternate, so that a change in the machine's load hits both
ROUND_SECONDS = 4.0
ROUND_MAX_OPERATIONS = 6_000
WARMUP_OPERATIONS = 500
OVERHEAD_TARGET = 0.05
MICRO_REPEATS = 100_000


async def _server_cpu_per_booking(database: Database, server: Server) -> float:
    """Microseconds of the server's CPU per distinct booking, over one round."""
    headers = {
        user_id: {"Authorization": f"Bearer {database.token(user_id)}", "Content-Type": "application/json"}
        for user_id in database.driver_ids
    }
    url = server.base_url + "/reservations"
    bookings = database.distinct_bookings()
    async with http_session(CONCURRENCY) as session:

        def operations(count: int):
            for booking in islice(bookings, count):
                yield post(session, url, json.dumps(booking.body()).encode(), headers[booking.user_id])

        await database.reset()
        await closed_loop(operations(WARMUP_OPERATIONS), concurrency=CONCURRENCY, max_seconds=2.0)
        before = server.process.cpu_times()
        result = await closed_loop(
            operations(ROUND_MAX_OPERATIONS), concurrency=CONCURRENCY, max_seconds=ROUND_SECONDS
        )
        after = server.process.cpu_times()
    if result.outcomes["201"] == 0:
        raise BenchBroken(f"metrics cost: not one 201 among {result.outcome_summary()}")
    used = (after.user + after.system) - (before.user + before.system)
    return 1e6 * used / result.count


def _recording_microseconds() -> float:
    """What one booking request records, timed alone: its request sample and its booking count."""
    metrics = Metrics(enabled=True)
    started = time.process_time()  # CPU time: what other processes on the machine do not inflate
    for _ in range(MICRO_REPEATS):
        metrics.requests.labels("/reservations", "POST", "201").observe(0.004)
        with metrics.booking():
            pass
    return 1e6 * (time.process_time() - started) / MICRO_REPEATS


async def metrics_cost(database: Database, server: Server, report: Report) -> None:
    """The bench's own server has no METRICS_TOKEN (off); a second one, with it, is on."""
    off: list[float] = []
    on: list[float] = []
    log_path = SERVER_LOG.with_name("bench-server-metrics.log")
    async with app_server(database, log_path, METRICS_TOKEN=METRICS_TOKEN) as metered:
        for _ in range(ROUNDS):
            off.append(await _server_cpu_per_booking(database, server))
            on.append(await _server_cpu_per_booking(database, metered))
    cpu_off, cpu_on = statistics.median(off), statistics.median(on)
    overhead = cpu_on / cpu_off - 1
    recording = _recording_microseconds()
    report.rows += [
        Row("9. Server CPU per booking, metrics off (median of 3)", f"{cpu_off:.0f} us", "reference"),
        Row(
            "   metrics on (METRICS_TOKEN set)",
            f"{cpu_on:.0f} us = {overhead:+.1%}",
            f"< +{OVERHEAD_TARGET:.0%}",
            at_most(overhead, OVERHEAD_TARGET),
        ),
        Row("   the recording alone, timed in-process", f"{recording:.1f} us = {recording / cpu_off:.1%}"),
    ]
    report.notes.append(
        f"Metrics cost: server CPU per booking off {', '.join(f'{v:.0f}' for v in off)} us, "
        f"on {', '.join(f'{v:.0f}' for v in on)} us ({CONCURRENCY} connections, distinct slots, "
        f"rounds alternating); psutil {psutil.__version__}"
    )
