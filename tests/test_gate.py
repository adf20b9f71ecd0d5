"""The plate lookup at the gate: every holder of a plate today, their booking now and next, what is free."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from server import repository
from server.slots import current_and_next_slot
from tests.support import ADMIN, DRIVER1, DRIVER2, afternoon_timezone


@pytest.fixture
async def lot(make_client):
    """A client for a lot in early afternoon: 12:00–16:00 is in progress, 16:00–20:00 next."""
    zone = afternoon_timezone()
    current, upcoming = current_and_next_slot(datetime.now(UTC), ZoneInfo(zone))
    assert current is not None
    return await make_client(parking_timezone=zone), current, upcoming


def slot_json(slot):
    return {"start_time": slot.start.isoformat(), "end_time": slot.end.isoformat()}


async def book(client, headers, spot_id, slot, **extra):
    path = "/admin/reservations" if "guest" in extra or "user_id" in extra else "/reservations"
    response = await client.post(path, json={"spot_id": spot_id, **slot_json(slot), **extra}, headers=headers)
    assert response.status == 201, await response.text()
    return await response.json()


async def look_up(client, auth, plate):
    response = await client.get(f"/admin/plates/{plate}", headers=auth(ADMIN))
    assert response.status == 200, await response.text()
    return await response.json()


@pytest.mark.parametrize("typed", ["ab 123-cd", "AB.123.CD", "AB123CD"])
async def test_any_spelling_finds_the_drivers_booking_in_progress_and_their_next(lot, auth, spot_ids, typed):
    client, current, upcoming = lot
    await client.post("/me/vehicles", json={"licence_plate": "AB-123-CD", "label": "Golf"}, headers=auth(DRIVER1))
    now_booking = await book(client, auth(DRIVER1), spot_ids[4], current)
    next_booking = await book(client, auth(DRIVER1), spot_ids[5], upcoming)
    found = await look_up(client, auth, typed)
    assert found["plate"] == typed.upper()
    [holder] = found["holders"]
    assert (holder["kind"], holder["display_name"], holder["vehicle"]["licence_plate"]) == (
        "driver", "Driver 1", "AB-123-CD"
    )
    assert holder["current"]["reservation_id"] == now_booking["id"]
    assert (holder["current"]["spot_number"], holder["current"]["floor_number"]) == (4, 2)
    assert holder["current"]["slot"]["label"] == current.label
    assert holder["current"]["checked_in_at"] is None
    assert holder["next"]["reservation_id"] == next_booking["id"]
    assert holder["check_in_open"] is True
    # The free spots now and next, with their floors, regular spots first.
    assert [s["spot_number"] for s in found["free_now"]["spots"]] == [2, 3, 5, 1]
    assert found["free_now"]["spots"][0] == {"id": spot_ids[2], "spot_number": 2, "floor_number": 1, "type": "regular"}
    assert found["free_next"]["slot"]["label"] == upcoming.label
    assert 5 not in [s["spot_number"] for s in found["free_next"]["spots"]]


async def test_a_checked_in_holder_shows_the_arrival_and_check_in_is_no_longer_open(lot, auth, spot_ids):
    client, current, _ = lot
    await client.post("/me/vehicles", json={"licence_plate": "CHK 1"}, headers=auth(DRIVER2))
    booking = await book(client, auth(DRIVER2), spot_ids[2], current)
    assert (await client.put(f"/admin/reservations/{booking['id']}/check-in", headers=auth(ADMIN))).status == 200
    [holder] = (await look_up(client, auth, "chk1"))["holders"]
    assert holder["current"]["checked_in_at"] is not None
    assert holder["check_in_open"] is False


async def test_a_walk_ins_plate_today_finds_their_booking(lot, auth, spot_ids):
    client, current, _ = lot
    walk_in = await book(
        client, auth(ADMIN), spot_ids[3], current, guest={"name": "Grace Hopper", "licence_plate": "cobol-59"}
    )
    found = await look_up(client, auth, "COBOL 59")
    [holder] = found["holders"]
    assert (holder["kind"], holder["guest_name"], holder["licence_plate"]) == ("walk_in", "Grace Hopper", "COBOL-59")
    assert holder["current"]["reservation_id"] == walk_in["id"]
    assert 3 not in [s["spot_number"] for s in found["free_now"]["spots"]]


async def test_two_drivers_sharing_a_car_are_both_holders(lot, auth):
    client, _, _ = lot
    for email in (DRIVER1, DRIVER2):
        await client.post("/me/vehicles", json={"licence_plate": "SHARED 1"}, headers=auth(email))
    found = await look_up(client, auth, "shared-1")
    assert sorted(h["display_name"] for h in found["holders"]) == ["Driver 1", "Driver 2"]
    assert all(h["current"] is None and h["next"] is None and not h["check_in_open"] for h in found["holders"])


async def test_an_unknown_plate_is_a_200_with_no_holders_and_the_free_spots(lot, auth):
    client, current, _ = lot
    found = await look_up(client, auth, "NOBODY-1")
    assert found["holders"] == []
    assert found["free_now"]["slot"]["label"] == current.label
    assert len(found["free_now"]["spots"]) == 5


@pytest.mark.parametrize("plate", ["%D0%90B123", "%CE%91B", "---"])
async def test_a_look_alike_plate_is_a_clear_422(client, auth, plate):
    response = await client.get(f"/admin/plates/{plate}", headers=auth(ADMIN))
    assert (response.status, (await response.json())["error"]["code"]) == (422, "validation_error")


async def test_the_lookups_use_the_indexes_on_the_normalised_plate(db_conn):
    await db_conn.execute("SET enable_seqscan = off")
    drivers = await db_conn.fetch("EXPLAIN " + repository.gate.DRIVERS_WITH_PLATE, "AB123")
    assert "vehicles_plate_key_idx" in "\n".join(r[0] for r in drivers)
    # Walk-ins: the plan over a day may fairly use the start-time index instead,
    # and did in the full suite; that half is left to the index's existence.
    index = await db_conn.fetchval("SELECT to_regclass('reservations_guest_plate_idx')")
    assert index is not None
