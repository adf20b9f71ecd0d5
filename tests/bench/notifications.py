"""9: 1,000 notifications queued in one commit (attendant releases), delivered to a local aiosmtpd."""

from __future__ import annotations

import asyncio
from itertools import islice

import asyncpg

from .report import BenchBroken, CpuMeter, Report, Row, at_least, at_most
from .stack import Database, Server

MAILS = 1_000
MAILS_PER_SECOND_TARGET = 50.0
ALL_DELIVERED_TARGET_SECONDS = 60.0
# Generous: at the target rate 1,000 mails take 20 s.
GIVE_UP_SECONDS = 180.0

INSERT_BOOKINGS = """
INSERT INTO reservations (user_id, spot_id, start_time, end_time)
SELECT * FROM unnest($1::bigint[], $2::integer[], $3::timestamptz[], $4::timestamptz[])
"""
# One statement: every booking released by the attendant in one commit; the
# triggers write each driver's inbox row and its mail in the outbox.
RELEASE_ALL = """
UPDATE reservations
SET status = 'completed', completed_at = now(), released_by = 'admin',
    release_reason = 'Bench: resurfacing the ramp'
WHERE status = 'booked'
"""
FORGET_NOTIFICATIONS = "TRUNCATE notifications, deliveries"


async def mail_delivery(database: Database, server: Server, report: Report) -> None:
    catcher = server.mail
    await database.reset()
    bookings = list(islice(database.distinct_bookings(), MAILS))
    conn = await asyncpg.connect(database.url)
    try:
        await conn.execute(FORGET_NOTIFICATIONS)
        await conn.execute(
            INSERT_BOOKINGS,
            [b.user_id for b in bookings],
            [b.spot_id for b in bookings],
            [b.slot.start for b in bookings],
            [b.slot.end for b in bookings],
        )
        catcher.messages.clear()
        catcher.arrived_at.clear()
        cpu = CpuMeter(server.process.pid, database.postmaster_pid)
        cpu.start()
        loop = asyncio.get_running_loop()
        released = await conn.execute(RELEASE_ALL)
        committed = loop.time()
        if released != f"UPDATE {MAILS}":
            raise BenchBroken(f"mail delivery: expected {MAILS} releases, got {released!r}")
        try:
            await catcher.wait_for(MAILS, timeout=GIVE_UP_SECONDS)
        except TimeoutError:
            raise BenchBroken(
                f"mail delivery: {len(catcher.messages)} of {MAILS} mails after {GIVE_UP_SECONDS:.0f} s"
            ) from None
        last = catcher.arrived_at[MAILS - 1] - committed
        usage = cpu.summary(MAILS)
        distinct = len({m["Message-ID"] for m in catcher.messages})
    finally:
        await conn.close()
    rate = MAILS / last
    report.rows += [
        Row(
            f"9. {MAILS:,} mails from one commit to aiosmtpd: mails per second",
            f"{rate:,.0f} /s",
            f">= {MAILS_PER_SECOND_TARGET:.0f} /s",
            at_least(rate, MAILS_PER_SECOND_TARGET),
        ),
        Row(
            "   commit to the last mail's arrival",
            f"{last:.1f} s",
            f"<= {ALL_DELIVERED_TARGET_SECONDS:.0f} s",
            at_most(last, ALL_DELIVERED_TARGET_SECONDS),
        ),
        Row("   first mail after the commit", f"{(catcher.arrived_at[0] - committed) * 1000:.0f} ms"),
    ]
    report.notes.append(
        f"Mail delivery: {len(catcher.messages):,} mails, {distinct:,} distinct Message-IDs, "
        f"one server process (its dispatcher: 20 sends at a time, one SMTP connection each); {usage}"
    )
