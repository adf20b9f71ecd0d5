"""Run every measurement against a fresh stack and print the report (`make bench`)."""

from __future__ import annotations

import asyncio
import os
import platform
import sys
import traceback

from .phases import BenchBroken, CONCURRENCY, db_ceiling, http_booking, login_lag, unloaded
from .report import Report, table
from .stack import SERVER_LOG, app_server, database


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


async def run(report: Report) -> None:
    progress("starting PostgreSQL and seeding the bench database")
    async with database() as bench_db:
        progress("1. DB ceiling")
        ceiling = await db_ceiling(bench_db, report)
        progress("starting the server")
        async with app_server(bench_db) as server:
            progress("2. HTTP booking, distinct and contested")
            await http_booking(bench_db, server, report, ceiling)
            progress("3. unloaded latency")
            await unloaded(bench_db, server, report)
            progress("5. event-loop lag during logins")
            await login_lag(server, report)


def main() -> int:
    report = Report()
    broken = None
    try:
        asyncio.run(run(report))
    except BenchBroken as exc:
        broken = str(exc)
    except Exception:
        broken = traceback.format_exc()
    print(
        f"Smart Parking benchmark: {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores; load generator: asyncio + aiohttp client "
        f"(one ClientSession, connector limit = concurrency = {CONCURRENCY}) in this process; "
        f"server: `python -m server` in its own process (log: {SERVER_LOG})"
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
