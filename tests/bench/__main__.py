"""Run every measurement, or the phases named on the command line, and print the report."""

from __future__ import annotations

import asyncio
import os
import platform
import sys
import traceback
from collections.abc import Awaitable, Callable

from .booking import CONCURRENCY, db_ceiling, http_booking, unloaded
from .fair_login import fair_login
from .fanout import OPEN_FILES, ws_fanout
from .feed import feed_at_its_cap
from .logins import login_flood, login_lag
from .metrics_cost import metrics_cost
from .notifications import mail_delivery
from .report import BenchBroken, Report, table
from .stack import (
    SERVER_LOG,
    Database,
    Server,
    app_server,
    database,
    raise_open_files_limit,
)
from .stats import stats_over_a_year


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# After booking (1, 2: the ceiling is what HTTP is compared with), in this
# order: (name on the command line, progress label, measurement).
SERVER_PHASES: tuple[tuple[str, str, Callable[[Database, Server, Report], Awaitable[None]]], ...] = (
    ("unloaded", "3. unloaded latency", unloaded),
    ("fanout", "4 and 6. WebSocket fan-out to 1,000 and 5,000 sockets, server memory", ws_fanout),
    ("lag", "5. event-loop lag during logins", login_lag),
    ("flood", "7. a correct login during a flood of bogus logins", login_flood),
    ("metrics", "9. server CPU per booking with metrics on and off", metrics_cost),
    ("mail", "12. 1,000 notifications delivered to a local aiosmtpd", mail_delivery),
    # After the phases its year of history would be in the way of; sign-ins do
    # not read reservations, and the feed's phase starts from an empty table.
    ("stats", "8. /stats over 365 days of history", stats_over_a_year),
    ("fair", "10. a sign-in from another address during a 30 s flood from one", fair_login),
    ("feed", "11. the calendar feed at its cap, 100,000 history rows behind it", feed_at_its_cap),
)
# `python -m tests.bench [PHASE ...]` runs only those phases; `make bench` runs all.
PHASES = ("booking", *(name for name, _, _ in SERVER_PHASES))


async def run(report: Report, phases: set[str]) -> None:
    # Before any process starts, so that the server and the watchers inherit it.
    open_files = raise_open_files_limit(OPEN_FILES)
    progress(f"descriptor limit (RLIMIT_NOFILE): {open_files:,}")
    progress("starting PostgreSQL and seeding the bench database")
    async with database() as bench_db:
        if "booking" in phases:
            progress("1. DB ceiling")
            ceiling = await db_ceiling(bench_db, report)
        progress("starting the server")
        async with app_server(bench_db) as server:
            if "booking" in phases:
                progress("2. HTTP booking, distinct and contested")
                await http_booking(bench_db, server, report, ceiling)
            for name, label, measure in SERVER_PHASES:
                if name in phases:
                    progress(label)
                    await measure(bench_db, server, report)


def main() -> int:
    phases = set(sys.argv[1:]) or set(PHASES)
    if not phases <= set(PHASES):
        print(f"usage: python -m tests.bench [{' | '.join(PHASES)}] ...", file=sys.stderr)
        return 2
    # Before the bench adds its own: how busy the 2 cores already were.
    load_before = os.getloadavg()[0]
    report = Report()
    broken = None
    try:
        asyncio.run(run(report, phases))
    except BenchBroken as exc:
        broken = str(exc)
    except Exception:
        broken = traceback.format_exc()
    print(
        f"Smart Parking benchmark ({platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores, 1-minute load average before the run: {load_before:.1f})\n"
        f"Load generator: asyncio + aiohttp client in this process, one ClientSession whose "
        f"connector limit equals the concurrency ({CONCURRENCY}, or 1 when unloaded)\n"
        f"Server: `python -m server` in its own process; its log: {SERVER_LOG}"
    )
    print()
    print(table(report.rows))
    print()
    for line in report.notes:
        print(f"- {line}")
    if broken:
        print(f"\nBENCHMARK BROKEN: {broken}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
