"""dbmate migrations: idempotent, concurrent-start safe, and reversible."""

from __future__ import annotations

import asyncio
import os
import subprocess
from dataclasses import replace

import asyncpg

from server import db
from server.app import create_app
from server.settings import PROJECT_ROOT

MIGRATIONS = PROJECT_ROOT / "db" / "migrations"
MIGRATION_COUNT = len(list(MIGRATIONS.glob("*.sql")))


async def _schema_state(url: str) -> tuple[list[str], int, int]:
    conn = await asyncpg.connect(url)
    try:
        versions = [r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY 1")]
        users = await conn.fetchval("SELECT count(*) FROM users")
        spots = await conn.fetchval("SELECT count(*) FROM spots")
        return versions, users, spots
    finally:
        await conn.close()


async def test_two_instances_starting_on_one_empty_database_both_come_up(
    create_database, settings, aiohttp_client
):
    url = create_database("smart_parking_concurrent_start")
    fresh = replace(settings, database_url=url)
    first, second = await asyncio.gather(
        aiohttp_client(create_app(fresh)), aiohttp_client(create_app(fresh))
    )
    assert (await first.get("/readyz")).status == 200
    assert (await second.get("/readyz")).status == 200
    versions, users, spots = await _schema_state(url)
    assert len(versions) == MIGRATION_COUNT
    assert (users, spots) == (3, 5)  # two drivers and the attendant


async def test_migrating_twice_changes_nothing(create_database):
    url = create_database("smart_parking_idempotent")
    await db.run_migrations(url, MIGRATIONS)
    before = await _schema_state(url)
    await db.run_migrations(url, MIGRATIONS)
    assert await _schema_state(url) == before


def test_every_migration_rolls_back_and_reapplies(create_database):
    url = create_database("smart_parking_rollback")
    env = {**os.environ, "DATABASE_URL": url}
    dbmate = [db._dbmate_executable(), "--no-dump-schema", "--migrations-dir", str(MIGRATIONS)]
    subprocess.run([*dbmate, "up"], env=env, check=True, capture_output=True)
    for _ in range(MIGRATION_COUNT):
        subprocess.run([*dbmate, "rollback"], env=env, check=True, capture_output=True)
    status = subprocess.run([*dbmate, "status"], env=env, capture_output=True, text=True)
    assert "Applied: 0" in status.stdout
    subprocess.run([*dbmate, "up"], env=env, check=True, capture_output=True)
    status = subprocess.run([*dbmate, "status"], env=env, capture_output=True, text=True)
    assert f"Applied: {MIGRATION_COUNT}" in status.stdout


async def test_a_failing_migration_stops_startup_with_a_clear_error(create_database, tmp_path):
    url = create_database("smart_parking_broken_migration")
    (tmp_path / "20000101000000_broken.sql").write_text("-- migrate:up\nSELECT nonsense FROM nowhere;\n-- migrate:down\n")
    try:
        await db.run_migrations(url, tmp_path)
    except db.MigrationError as exc:
        assert "dbmate exited with status" in str(exc)
    else:
        raise AssertionError("a broken migration must raise MigrationError")
