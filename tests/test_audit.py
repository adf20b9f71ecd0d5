"""The audit trail: one record per attendant action, in the change's transaction, append-only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from server.slots import slots_on
from tests.support import ADMIN, DRIVER1, DRIVER2, next_of_type, open_socket, slot_body, tomorrow


async def records_since(db_conn, marker: int) -> list[asyncpg.Record]:
    return await db_conn.fetch("SELECT * FROM audit_log WHERE id > $1 ORDER BY id", marker)


async def marker(db_conn) -> int:
    return await db_conn.fetchval("SELECT COALESCE(max(id), 0) FROM audit_log")


async def test_each_attendant_action_leaves_exactly_one_record(client, auth, spot_ids, user_ids, db_conn):
    admin, day = auth(ADMIN), tomorrow()
    start = await marker(db_conn)
    expected = []

    async def expect(action, response, target_type):
        assert response.status in (200, 201, 204), await response.text()
        expected.append((action, target_type))

    booked = await client.post("/admin/reservations", json={**slot_body(spot_ids[2], day), "user_id": user_ids[DRIVER1]}, headers=admin)
    await expect("reservation.booked_for", booked, "reservation")
    booking = await booked.json()
    await expect(
        "reservation.released",
        await client.put(f"/admin/reservations/{booking['id']}/release", json={"reason": "Blocked exit"}, headers=admin),
        "reservation",
    )
    # A check-in by the attendant, in the window: a booking starting in ten minutes.
    soon = await db_conn.fetchval(
        "INSERT INTO reservations (user_id, spot_id, start_time, end_time) "
        "VALUES ($1, $2, now() + interval '10 minutes', now() + interval '4 hours') RETURNING id",
        user_ids[DRIVER2], spot_ids[3],
    )  # fmt: skip
    await expect("reservation.checked_in", await client.put(f"/admin/reservations/{soon}/check-in", headers=admin), "reservation")
    closed = await client.post("/admin/closures", json={**slot_body(spot_ids[4], day, 1), "reason": "Paint"}, headers=admin)
    await expect("closure.created", closed, "closure")
    closure_id = (await closed.json())["closure"]["id"]
    await expect("closure.deleted", await client.delete(f"/admin/closures/{closure_id}", headers=admin), "closure")
    added = await client.post("/admin/spots", json={"spot_number": 42, "floor_number": 3}, headers=admin)
    await expect("spot.created", added, "spot")
    spot = await added.json()
    await expect("spot.updated", await client.patch(f"/admin/spots/{spot['id']}", json={"type": "handicap"}, headers=admin), "spot")
    await expect("rules.changed", await client.put("/admin/rules", json={"booking_horizon_days": 10}, headers=admin), "rules")
    await db_conn.execute("SELECT set_config('parking.actor_id', $1, false)", str(user_ids[ADMIN]))
    await db_conn.execute("UPDATE users SET role = 'admin' WHERE email = $1", DRIVER2)
    await db_conn.execute("RESET parking.actor_id")
    expected.append(("user.role_changed", "user"))

    records = await records_since(db_conn, start)
    assert [(r["action"], r["target_type"]) for r in records] == expected
    assert {r["actor_id"] for r in records} == {user_ids[ADMIN]}
    assert {r["actor_name"] for r in records} == {"Bob (attendant)"}
    by_action = {r["action"]: r for r in records}
    assert by_action["reservation.released"]["reason"] == "Blocked exit"
    assert by_action["closure.created"]["reason"] == "Paint"
    assert by_action["reservation.booked_for"]["target_id"] == str(booking["id"])
    rules = by_action["rules.changed"]
    assert (rules["before"], rules["after"]) == (
        '{"booking_horizon_days": 30, "no_show_grace_minutes": 0, "max_upcoming_per_driver": null}',
        '{"booking_horizon_days": 10, "no_show_grace_minutes": 0, "max_upcoming_per_driver": null}',
    )
    assert (by_action["user.role_changed"]["before"], by_action["user.role_changed"]["after"]) == (
        '{"role": "driver"}', '{"role": "admin"}',
    )  # fmt: skip


async def test_a_drivers_own_booking_release_and_check_in_are_not_attendant_actions(client, auth, spot_ids, user_ids, db_conn):
    start = await marker(db_conn)
    booked = await (await client.post("/reservations", json=slot_body(spot_ids[2], tomorrow()), headers=auth(DRIVER1))).json()
    await client.put(f"/reservations/{booked['id']}/complete", headers=auth(DRIVER1))
    soon = await db_conn.fetchval(
        "INSERT INTO reservations (user_id, spot_id, start_time, end_time) "
        "VALUES ($1, $2, now() + interval '10 minutes', now() + interval '4 hours') RETURNING id",
        user_ids[DRIVER1], spot_ids[3],
    )  # fmt: skip
    assert (await client.put(f"/reservations/{soon}/check-in", headers=auth(DRIVER1))).status == 200
    assert await records_since(db_conn, start) == []


async def test_a_rolled_back_closure_leaves_no_record(db_conn, spot_ids, user_ids):
    start = await marker(db_conn)
    day = tomorrow()
    slot = slots_on(day, ZoneInfo("UTC"))[0]
    with pytest.raises(RuntimeError):
        async with db_conn.transaction():
            await db_conn.execute(
                "INSERT INTO closures (spot_id, start_time, end_time, reason, created_by) VALUES ($1, $2, $3, 'x', $4)",
                spot_ids[1], slot.start, slot.end, user_ids[ADMIN],
            )  # fmt: skip
            assert len(await records_since(db_conn, start)) == 1  # written beside the change
            raise RuntimeError("roll back")
    assert await records_since(db_conn, start) == []


async def test_a_change_made_outside_the_app_names_the_database_role(db_conn):
    start = await marker(db_conn)
    await db_conn.execute("UPDATE lot_rules SET no_show_grace_minutes = 5")
    [record] = await records_since(db_conn, start)
    assert (record["actor_id"], record["actor_name"]) == (None, await db_conn.fetchval("SELECT session_user"))


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET reason = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"])
async def test_the_log_refuses_updates_and_deletes(db_conn, statement):
    await db_conn.execute("UPDATE lot_rules SET no_show_grace_minutes = no_show_grace_minutes + 1")
    count = await db_conn.fetchval("SELECT count(*) FROM audit_log")
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await db_conn.execute(statement)
    assert await db_conn.fetchval("SELECT count(*) FROM audit_log") == count


async def test_a_superuser_prunes_old_records_as_the_docs_say(db_conn):
    await db_conn.execute("UPDATE lot_rules SET no_show_grace_minutes = no_show_grace_minutes + 1")
    # docs/operating.md, "Pruning the audit trail"
    async with db_conn.transaction():
        await db_conn.execute("SET LOCAL session_replication_role = replica")
        await db_conn.execute("DELETE FROM audit_log WHERE recorded_at < now() + interval '1 minute'")
    assert await db_conn.fetchval("SELECT count(*) FROM audit_log") == 0
    # The trigger is back on after the transaction.
    await db_conn.execute("UPDATE lot_rules SET no_show_grace_minutes = no_show_grace_minutes + 1")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db_conn.execute("DELETE FROM audit_log")


async def test_the_api_filters_newest_first_and_exports_formula_safe_csv(client, auth, spot_ids, user_ids, db_conn):
    admin = auth(ADMIN)
    for reason in ("First", "=HYPERLINK(\"x\")"):
        response = await client.post(
            "/admin/closures", json={**slot_body(spot_ids[1], tomorrow()), "reason": reason}, headers=admin
        )
        await client.delete(f"/admin/closures/{(await response.json())['closure']['id']}", headers=admin)
    await client.put("/admin/rules", json={"no_show_grace_minutes": 15}, headers=admin)

    listed = await (await client.get("/admin/audit?action=closure.created&limit=10", headers=admin)).json()
    records = listed["records"]
    assert [r["reason"] for r in records][:2] == ["=HYPERLINK(\"x\")", "First"]  # newest first
    assert records[0]["actor"] == {"user_id": user_ids[ADMIN], "name": "Bob (attendant)"}
    assert records[0]["target"]["type"] == "closure" and records[0]["after"]["reason"] == "=HYPERLINK(\"x\")"
    one = await (await client.get("/admin/audit?limit=1", headers=admin)).json()
    assert [r["action"] for r in one["records"]] == ["rules.changed"]
    assert one["records"][0]["before"]["no_show_grace_minutes"] == 0
    by_actor = await (await client.get(f"/admin/audit?actor={user_ids[DRIVER1]}", headers=admin)).json()
    assert by_actor == {"records": []}
    today = datetime.now(UTC).date()
    past = await client.get(f"/admin/audit?from={today - timedelta(days=9)}&to={today - timedelta(days=1)}", headers=admin)
    assert (await past.json()) == {"records": []}

    export = await client.get("/admin/audit/export.csv?action=closure.created", headers=admin)
    assert export.status == 200 and export.content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(await export.text())))
    assert [row["reason"] for row in rows][:2] == ["'=HYPERLINK(\"x\")", "First"]
    assert rows[0]["actor"] == "Bob (attendant)" and rows[0]["after"].startswith("{")


@pytest.mark.parametrize(
    "query", ["action=nope", "limit=0", "limit=1001", "limit=x", "actor=-1", "actor=" + "9" * 30, "from=2026-13-01"]
)
async def test_bad_filters_are_a_422(client, auth, query):
    response = await client.get(f"/admin/audit?{query}", headers=auth(ADMIN))
    assert response.status == 422


async def test_a_driver_gets_403(client, auth):
    for path in ("/admin/audit", "/admin/audit/export.csv"):
        assert (await client.get(path, headers=auth(DRIVER1))).status == 403


async def test_the_attendants_socket_hears_each_record_and_a_driver_does_not(client, auth, spot_ids):
    url = str(client.make_url("/ws"))
    attendant = await open_socket(client.session, url, auth(ADMIN)["Authorization"].removeprefix("Bearer "))
    driver = await open_socket(client.session, url, auth(DRIVER1)["Authorization"].removeprefix("Bearer "))
    await client.post("/admin/closures", json={**slot_body(spot_ids[1], tomorrow()), "reason": "Lines"}, headers=auth(ADMIN))
    record = await next_of_type(attendant, "audit.recorded", timeout=3)
    assert (record["action"], record["reason"], record["actor_name"]) == ("closure.created", "Lines", "Bob (attendant)")
    created = await next_of_type(driver, "closure.created", timeout=3)
    assert created["type"] == "closure.created"
    with pytest.raises(TimeoutError):
        await next_of_type(driver, "audit.recorded", timeout=0.5)
    await attendant.close()
    await driver.close()


async def test_a_webhook_registered_and_deleted_is_recorded_without_its_secret(client, auth, user_ids, db_conn):
    start = await marker(db_conn)
    created = await client.post(
        "/admin/webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["*"]}, headers=auth(ADMIN)
    )
    assert created.status == 201, await created.text()
    webhook = await created.json()
    deleted = await client.delete(f"/admin/webhooks/{webhook['id']}", headers=auth(ADMIN))
    assert deleted.status == 204
    records = await records_since(db_conn, start)
    assert [(r["action"], r["target_id"], r["actor_id"]) for r in records] == [
        ("webhook.created", str(webhook["id"]), user_ids[ADMIN]),
        ("webhook.deleted", str(webhook["id"]), user_ids[ADMIN]),
    ]
    assert all(webhook["secret"] not in str(dict(r)) for r in records)
    assert '"url": "http://127.0.0.1:9/hook"' in records[0]["after"]
