"""1 to 3: the booking SQL alone, then POST /reservations under load and unloaded."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from itertools import islice

import asyncpg

from server import db, repository
from server.errors import ApiError
from server.slots import today

from .load import LoadResult, Operation, closed_loop, http_session, post
from .report import BenchBroken, CpuMeter, Report, Row, at_least, at_most, ms
from .stack import TZ, Booking, Database, Server

CONCURRENCY = 64
# Every measured phase stops at whichever bound it reaches first.
PHASE_SECONDS = 10.0
PHASE_MAX_OPERATIONS = 30_000
# Warm-up fills the server's pool and caches (prepared statements, known users).
WARMUP_SECONDS = 1.5
WARMUP_MAX_OPERATIONS = 2_000
UNLOADED_SECONDS = 5.0
UNLOADED_MAX_OPERATIONS = 1_000
CONTESTED_SLOTS = 4

THROUGHPUT_SHARE_TARGET = 0.40
# `python -m tests.bench booking` on main's code just before the outbox and
# the rest of issues 21-26 (commit 2ea6322), 2026-12-03 12:20 UTC on a quiet machine, minutes after a full
# `make bench` of the code after it: for comparison only, since the load on
# this shared machine varies.
BEFORE_OUTBOX_HTTP_DISTINCT = "1,373 /s (DB ceiling 2,347 /s)"
P99_TARGET_MS = 50.0
UNLOADED_P50_TARGET_MS = 2.0


def require(result: LoadResult, outcome: str, what: str) -> None:
    if result.outcomes[outcome] == 0:
        raise BenchBroken(f"{what}: not one {outcome!r} among {result.outcome_summary() or 'nothing'}")


async def measure(
    database: Database,
    cpu: CpuMeter,
    make_operations: Callable[[], Iterator[Operation]],
    *,
    concurrency: int = CONCURRENCY,
    max_operations: int = PHASE_MAX_OPERATIONS,
    max_seconds: float = PHASE_SECONDS,
) -> tuple[LoadResult, str]:
    """Warm up, then measure; each starts from an empty reservations table."""
    await database.reset()
    await closed_loop(
        islice(make_operations(), WARMUP_MAX_OPERATIONS),
        concurrency=concurrency,
        max_seconds=WARMUP_SECONDS,
    )
    await database.reset()
    cpu.start()
    result = await closed_loop(
        islice(make_operations(), max_operations), concurrency=concurrency, max_seconds=max_seconds
    )
    return result, cpu.summary(result.count)


def note(report: Report, what: str, result: LoadResult, cpu: str) -> None:
    report.notes.append(
        f"{what}: {result.count:,} in {result.elapsed:.1f} s ({result.outcome_summary()}); {cpu}"
    )


# --- 1. DB ceiling ------------------------------------------------------------


async def db_ceiling(database: Database, report: Report) -> float:
    """Bookings/s of repository.reservations.book itself, through a pool like the server's."""
    pool = await db.create_pool(database.url, database.settings)

    def book(booking: Booking) -> Operation:
        async def operation() -> str:
            try:
                # As POST /reservations does for a driver booking for themselves.
                await repository.reservations.book(
                    pool,
                    spot_id=booking.spot_id,
                    slot=booking.slot,
                    lot_today=today(TZ),
                    user_id=booking.user_id,
                    created_by=booking.user_id,
                )
            except ApiError as exc:
                return exc.code
            return "booked"

        return operation

    try:
        result, cpu = await measure(
            database,
            CpuMeter(None, database.postmaster_pid),
            lambda: (book(b) for b in database.distinct_bookings()),
        )
        # The same, back to back, with the outbox's triggers out of the way, as
        # before issue 21: the cost of the outbox under the same load.
        async with without_the_outbox(database):
            before, cpu_before = await measure(
                database,
                CpuMeter(None, database.postmaster_pid),
                lambda: (book(b) for b in database.distinct_bookings()),
            )
    finally:
        await pool.close()
    require(result, "booked", "DB ceiling")
    require(before, "booked", "DB ceiling without the outbox")
    size = database.settings.database_pool_size
    report.rows.append(
        Row(
            f"1. DB ceiling: repository.reservations.book, pool of {size}, {CONCURRENCY} tasks",
            f"{result.rate:,.0f} /s",
            "reference",
        )
    )
    # Context for the HTTP p99 target: the database alone already queues 64 callers.
    report.rows += [
        Row("   latency p50", ms(result.percentile_ms(50))),
        Row("   latency p99", ms(result.percentile_ms(99))),
    ]
    report.rows.append(
        Row(
            "   the same without the outbox triggers (as before issue 21)",
            f"{before.rate:,.0f} /s",
            f"reference: with the outbox {result.rate / before.rate:.0%} of this",
        )
    )
    note(report, "DB ceiling", result, cpu)
    note(report, "DB ceiling without the outbox", before, cpu_before)
    return result.rate


@asynccontextmanager
async def without_the_outbox(database: Database) -> AsyncIterator[None]:
    """A booking's path before issue 21: no webhook and no inbox trigger on the insert."""
    conn = await asyncpg.connect(database.url)
    try:
        for trigger in OUTBOX_TRIGGERS:
            await conn.execute(f"ALTER TABLE reservations DISABLE TRIGGER {trigger}")
        try:
            yield
        finally:
            for trigger in OUTBOX_TRIGGERS:
                await conn.execute(f"ALTER TABLE reservations ENABLE TRIGGER {trigger}")
    finally:
        await conn.close()


# What issue 21 added to a booking's INSERT (db/migrations/*_create_notifications_and_outbox.sql).
OUTBOX_TRIGGERS = ("reservations_queue_webhooks_insert", "reservations_notify_driver_of_booking")


# --- 2, 3. HTTP booking ---------------------------------------------------------


def _headers(database: Database) -> dict[int, dict[str, str]]:
    """Per driver: a minted token, so no request pays for a bcrypt login."""
    return {
        user_id: {"Authorization": f"Bearer {database.token(user_id)}", "Content-Type": "application/json"}
        for user_id in database.driver_ids
    }


def _body(booking: Booking) -> bytes:
    return json.dumps(booking.body()).encode()


async def http_booking(database: Database, server: Server, report: Report, ceiling: float) -> None:
    headers = _headers(database)
    url = server.base_url + "/reservations"
    cpu = CpuMeter(server.process.pid, database.postmaster_pid)
    async with http_session(CONCURRENCY) as session:

        def distinct() -> Iterator[Operation]:
            for booking in database.distinct_bookings():
                yield post(session, url, _body(booking), headers[booking.user_id])

        def contested() -> Iterator[Operation]:
            # A handful of tomorrow's slots, asked for by random drivers: after the
            # first few 201s, every answer is a 409 that also runs SLOT_CONFLICT.
            targets = list(islice(database.distinct_bookings(), CONTESTED_SLOTS))
            rng = random.Random(0)  # the same sequence every run
            while True:
                target, user_id = rng.choice(targets), rng.choice(database.driver_ids)
                booking = Booking(user_id, target.spot_id, target.slot)
                yield post(session, url, _body(booking), headers[user_id])

        result, usage = await measure(database, cpu, distinct)
        require(result, "201", "HTTP booking on distinct slots")
        _http_rows(report, "2. HTTP booking, distinct slots", result, ceiling)
        report.rows.append(
            Row("   before issue 21 (main's code, same machine, same hour)", BEFORE_OUTBOX_HTTP_DISTINCT)
        )
        note(report, "HTTP distinct", result, usage)

        result, usage = await measure(database, cpu, contested)
        require(result, "409", "HTTP booking on contested slots")
        _http_rows(report, f"2. HTTP booking, contested ({CONTESTED_SLOTS} slots)", result, ceiling)
        note(report, "HTTP contested", result, usage)


def _http_rows(report: Report, what: str, result: LoadResult, ceiling: float) -> None:
    share = result.rate / ceiling
    p99 = result.percentile_ms(99)
    report.rows += [
        Row(
            f"{what}: {CONCURRENCY} connections",
            f"{result.rate:,.0f} /s = {share:.0%} of DB",
            f">= {THROUGHPUT_SHARE_TARGET:.0%} of DB ceiling",
            at_least(share, THROUGHPUT_SHARE_TARGET),
        ),
        Row("   latency p50", ms(result.percentile_ms(50))),
        Row("   latency p99", ms(p99), f"<= {P99_TARGET_MS:.0f} ms", at_most(p99, P99_TARGET_MS)),
    ]


async def unloaded(database: Database, server: Server, report: Report) -> None:
    """One client booking distinct slots one after another."""
    headers = _headers(database)
    url = server.base_url + "/reservations"
    async with http_session(1) as session:
        result, usage = await measure(
            database,
            CpuMeter(server.process.pid, database.postmaster_pid),
            lambda: (post(session, url, _body(b), headers[b.user_id]) for b in database.distinct_bookings()),
            concurrency=1,
            max_operations=UNLOADED_MAX_OPERATIONS,
            max_seconds=UNLOADED_SECONDS,
        )
    require(result, "201", "unloaded booking")
    p50 = result.percentile_ms(50)
    report.rows += [
        Row(
            "3. Unloaded booking, 1 client: latency p50",
            ms(p50),
            f"<= {UNLOADED_P50_TARGET_MS:.0f} ms",
            at_most(p50, UNLOADED_P50_TARGET_MS),
        ),
        Row("   latency p99", ms(result.percentile_ms(99))),
    ]
    note(report, "Unloaded", result, usage)
