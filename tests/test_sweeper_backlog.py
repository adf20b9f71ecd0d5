"""The sweeper after an outage: a large backlog is released in batches, and housekeeping still runs."""

from __future__ import annotations

from datetime import timedelta

from server.db import POOL
from server.sweeper import LOGGED_RELEASES, Sweeper
from tests.support import DRIVER1

BACKLOG = 100_000
# "Within a few sweeps": each sweep spends at most its budget.
MAX_SWEEPS = 5


async def _insert_stale_bookings(db_conn, user_id: int, spot_id: int, count: int) -> None:
    """`count` booked rows that all ended long ago, written in one statement."""
    # As a replica would apply them: no triggers, so 100,000 inserts publish nothing.
    await db_conn.execute("SET session_replication_role = replica")
    await db_conn.execute(
        """
        INSERT INTO reservations (user_id, spot_id, start_time, end_time, created_by)
        SELECT $1, $2, t, t + interval '4 hours', $1
        FROM generate_series(1, $3) AS i,
             LATERAL (SELECT now() - interval '1 day' - i * interval '4 hours' AS t) AS slot
        """,
        user_id, spot_id, count,
    )
    await db_conn.execute("RESET session_replication_role")


async def test_a_backlog_of_100000_stale_bookings_is_released_within_a_few_sweeps(
    make_client, db_conn, user_ids, spot_ids, caplog
):
    caplog.set_level("INFO", logger="server.sweeper")
    await _insert_stale_bookings(db_conn, user_ids[DRIVER1], spot_ids[1], BACKLOG)
    await db_conn.execute(
        "INSERT INTO login_attempts (email_key, client, window_start, attempts) "
        "VALUES ('someone@example.com', '192.0.2.1', now() - interval '1 day', 3)"
    )
    client = await make_client()  # its pool has the default 2 s statement timeout
    window = timedelta(minutes=5)
    sweeper = Sweeper(client.app[POOL], 60, login_window=window)

    sweeps = 0
    while await db_conn.fetchval("SELECT count(*) FROM reservations WHERE status = 'booked'"):
        assert sweeps < MAX_SWEEPS, "the backlog is still not released"
        await sweeper.sweep()
        sweeps += 1
        # Housekeeping ran in each sweep, however the releases went.
        assert await db_conn.fetchval("SELECT count(*) FROM login_attempts") == 0

    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    released = await db_conn.fetchval(
        "SELECT count(*) FROM reservations WHERE status = 'completed' AND released_by = 'expired'"
    )
    assert released == BACKLOG
    # A hundred lines per sweep, then one line with the count, not 100,000 lines.
    # The app's own sweeper task shares the work, and so may the servers other
    # tests started on this database (their logs are not captured here).
    lines = [m for m in caplog.messages if m.startswith("Auto-released")]
    counts = [int(m.split()[1]) for m in caplog.messages if m.endswith("are logged above")]
    assert counts and sum(counts) <= BACKLOG
    assert len(lines) == LOGGED_RELEASES * len(counts)


async def test_a_failing_step_does_not_stop_the_sign_in_housekeeping(
    make_client, db_conn, user_ids, spot_ids, caplog
):
    await _insert_stale_bookings(db_conn, user_ids[DRIVER1], spot_ids[2], 10)
    await db_conn.execute(
        "INSERT INTO login_attempts (email_key, client, window_start, attempts) "
        "VALUES ('someone@example.com', '192.0.2.1', now() - interval '1 day', 3)"
    )
    # A lock held elsewhere: every release waits on it until the statement times out.
    blocker = db_conn.transaction()
    await blocker.start()
    await db_conn.execute("LOCK TABLE reservations IN EXCLUSIVE MODE")
    try:
        client = await make_client()
        await Sweeper(client.app[POOL], 60, login_window=timedelta(minutes=5)).sweep()
    finally:
        await blocker.rollback()
    assert any(m.startswith("Sweep failed at releasing ended bookings") for m in caplog.messages)
    assert await db_conn.fetchval("SELECT count(*) FROM login_attempts") == 0
