"""Lot rules: set by the attendant, enforced by the database under races, on every instance."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp
import asyncpg
import pytest

from tests.support import (
    ADMIN,
    DRIVER1,
    DRIVER2,
    next_of_type,
    open_socket,
    slot_body,
    tomorrow,
)

DEFAULTS = {
    "max_upcoming_per_driver": None,
    "booking_horizon_days": 30,
    "no_show_grace_minutes": 0,
    "reminder_minutes_before": 30,
}


async def test_anyone_signed_in_reads_the_rules_and_only_the_attendant_changes_them(client, auth):
    assert await (await client.get("/rules", headers=auth(DRIVER1))).json() == DEFAULTS
    assert (await client.get("/rules")).status == 401
    refused = await client.put("/admin/rules", json={"booking_horizon_days": 5}, headers=auth(DRIVER1))
    assert refused.status == 403

    changed = await client.put("/admin/rules", json={"max_upcoming_per_driver": 3}, headers=auth(ADMIN))
    assert changed.status == 200
    # Only what was sent changes; the answer is the full set.
    assert await changed.json() == {**DEFAULTS, "max_upcoming_per_driver": 3}
    both = await client.put(
        "/admin/rules", json={"booking_horizon_days": 7, "no_show_grace_minutes": 20}, headers=auth(ADMIN)
    )
    assert await both.json() == {
        **DEFAULTS, "max_upcoming_per_driver": 3, "booking_horizon_days": 7, "no_show_grace_minutes": 20
    }
    unlimited = await client.put("/admin/rules", json={"max_upcoming_per_driver": None}, headers=auth(ADMIN))
    assert (await unlimited.json())["max_upcoming_per_driver"] is None


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"max_upcoming_per_driver": 0}, "'max_upcoming_per_driver' must be between 1 and 100"),
        ({"max_upcoming_per_driver": 101}, "'max_upcoming_per_driver'"),
        ({"max_upcoming_per_driver": "3"}, "'max_upcoming_per_driver' must be an integer"),
        ({"booking_horizon_days": 0}, "'booking_horizon_days' must be between 1 and 365"),
        ({"booking_horizon_days": 366}, "'booking_horizon_days'"),
        ({"booking_horizon_days": None}, "'booking_horizon_days' is required"),
        ({"no_show_grace_minutes": -1}, "'no_show_grace_minutes' must be between 0 and 240"),
        ({"no_show_grace_minutes": 241}, "'no_show_grace_minutes'"),
        ({"no_show_grace_minutes": True}, "'no_show_grace_minutes' must be an integer"),
        ({"booking_horizon_days": 10, "no_show_grace_minutes": 999}, "'no_show_grace_minutes'"),
        ({"reminder_minutes_before": -1}, "'reminder_minutes_before' must be between 0 and 1440"),
        ({"reminder_minutes_before": 1441}, "'reminder_minutes_before'"),
        ({"max_upcoming": 3}, "Unknown rule 'max_upcoming'"),
        ({}, "Send at least one of"),
    ],
)
async def test_a_bad_rule_is_refused_naming_it_and_nothing_changes(client, auth, body, names):
    response = await client.put("/admin/rules", json=body, headers=auth(ADMIN))
    assert response.status == 422
    assert names in (await response.json())["error"]["message"]
    assert await (await client.get("/rules", headers=auth())).json() == DEFAULTS


async def test_rules_changed_on_one_instance_apply_on_another_at_once(start_server, auth, spot_ids):
    first, second = start_server(), start_server()
    day = tomorrow()
    async with aiohttp.ClientSession() as session:
        watcher = await open_socket(session, second + "/ws", auth(DRIVER2)["Authorization"].removeprefix("Bearer "))
        async with session.put(
            first + "/admin/rules", json={"max_upcoming_per_driver": 1, "booking_horizon_days": 3}, headers=auth(ADMIN)
        ) as response:
            assert response.status == 200
        # Published live, so open pages re-read the rules.
        event = await next_of_type(watcher, "rules.changed")
        assert (event["max_upcoming_per_driver"], event["booking_horizon_days"]) == (1, 3)
        async with session.get(second + "/lot", headers=auth()) as response:
            lot = await response.json()
        assert lot["last_bookable_day"] == (day - timedelta(days=1) + timedelta(days=3)).isoformat()
        statuses = []
        for index in (0, 1):
            async with session.post(
                second + "/reservations", json=slot_body(spot_ids[1], day, index), headers=auth(DRIVER1)
            ) as response:
                statuses.append((response.status, (await response.json()).get("error", {}).get("code")))
        assert statuses == [(201, None), (409, "booking_limit_reached")]
        await watcher.close()


async def test_fifty_racing_bookings_by_one_driver_across_two_processes_respect_the_limit(
    start_server, auth, spot_ids, db_conn, user_ids
):
    await db_conn.execute("UPDATE lot_rules SET max_upcoming_per_driver = 3")
    # 50 writes by one driver at once: past the write limit, which is not what this proves.
    servers = [start_server(BOOKING_WRITES_PER_MINUTE="1000"), start_server(BOOKING_WRITES_PER_MINUTE="1000")]
    # 50 different free slots: 5 spots x 3 slots x 4 days (the first 50 of 60).
    bodies = [
        slot_body(spot_ids[spot], tomorrow() + timedelta(days=day), index)
        for day in range(4)
        for spot in range(1, 6)
        for index in range(3)
    ][:50]
    async with aiohttp.ClientSession() as session:

        async def book(number: int, body: dict) -> tuple[int, str | None]:
            async with session.post(servers[number % 2] + "/reservations", json=body, headers=auth(DRIVER1)) as r:
                return r.status, (await r.json()).get("error", {}).get("code")

        answers = await asyncio.gather(*(book(n, body) for n, body in enumerate(bodies)))
    # The one-car-per-slot rule also refuses some (one slot, several spots); the
    # limit must let exactly three through whatever the interleaving.
    assert sum(status == 201 for status, _ in answers) == 3
    assert {code for status, code in answers if status != 201} <= {"booking_limit_reached", "already_booked_in_slot"}
    assert any(code == "booking_limit_reached" for _, code in answers)
    assert await db_conn.fetchval(
        "SELECT count(*) FROM reservations WHERE user_id = $1 AND status = 'booked'", user_ids[DRIVER1]
    ) == 3


async def test_the_limit_message_says_the_limit_and_the_attendant_is_exempt(client, auth, spot_ids, user_ids, db_conn):
    await client.put("/admin/rules", json={"max_upcoming_per_driver": 1}, headers=auth(ADMIN))
    day = tomorrow()
    assert (await client.post("/reservations", json=slot_body(spot_ids[1], day, 0), headers=auth(DRIVER1))).status == 201
    refused = await client.post("/reservations", json=slot_body(spot_ids[1], day, 1), headers=auth(DRIVER1))
    error = (await refused.json())["error"]
    assert (refused.status, error["code"]) == (409, "booking_limit_reached")
    assert error["message"].startswith("You already hold 1 upcoming booking, the most the lot allows")
    # The attendant may book for the driver anyway.
    for_driver = await client.post(
        "/admin/reservations", json={**slot_body(spot_ids[2], day, 1), "user_id": user_ids[DRIVER1]}, headers=auth(ADMIN)
    )
    assert for_driver.status == 201
    # Lowering the limit cancels nothing.
    await client.put("/admin/rules", json={"max_upcoming_per_driver": 1}, headers=auth(ADMIN))
    assert await db_conn.fetchval(
        "SELECT count(*) FROM reservations WHERE user_id = $1 AND status = 'booked'", user_ids[DRIVER1]
    ) == 2
    # Ended bookings do not count: once released, the driver may book again.
    mine = await (await client.get("/reservations?status=booked", headers=auth(DRIVER1))).json()
    for reservation in mine["reservations"]:
        await client.put(f"/reservations/{reservation['id']}/complete", headers=auth(DRIVER1))
    assert (await client.post("/reservations", json=slot_body(spot_ids[3], day, 2), headers=auth(DRIVER1))).status == 201


async def test_the_horizon_holds_for_the_attendant_too(client, auth, spot_ids, user_ids):
    await client.put("/admin/rules", json={"booking_horizon_days": 2}, headers=auth(ADMIN))
    far = slot_body(spot_ids[1], tomorrow() + timedelta(days=2))
    for path, extra, headers in (
        ("/reservations", {}, auth(DRIVER1)),
        ("/admin/reservations", {"guest": {"name": "Ada", "licence_plate": "AB"}}, auth(ADMIN)),
    ):
        response = await client.post(path, json={**far, **extra}, headers=headers)
        assert response.status == 422
        assert "Bookings open 2 days ahead" in (await response.json())["error"]["message"]


async def test_the_rules_table_holds_one_row_within_its_ranges(db_conn):
    with pytest.raises(asyncpg.CheckViolationError):
        await db_conn.execute("INSERT INTO lot_rules (id) VALUES (false)")
    with pytest.raises(asyncpg.CheckViolationError):
        await db_conn.execute("UPDATE lot_rules SET no_show_grace_minutes = 500")
