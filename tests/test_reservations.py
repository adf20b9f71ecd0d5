"""Booking, releasing and listing reservations, and every validation case."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.support import DRIVER1, DRIVER2, slot_body, tomorrow


async def book(client, headers, body):
    response = await client.post("/reservations", json=body, headers=headers)
    return response.status, await response.json()


async def test_booking_a_free_slot_returns_201_with_location(client, auth, spot_ids):
    body = slot_body(spot_ids[3], tomorrow())
    response = await client.post("/reservations", json=body, headers=auth())
    assert response.status == 201
    reservation = await response.json()
    assert response.headers["Location"] == f"/reservations/{reservation['id']}"
    assert reservation["spot_id"] == spot_ids[3] and reservation["spot_number"] == 3
    assert reservation["status"] == "booked"
    assert datetime.fromisoformat(reservation["start_time"]) == datetime.fromisoformat(body["start_time"])
    assert datetime.fromisoformat(reservation["end_time"]) == datetime.fromisoformat(body["end_time"])
    assert datetime.fromisoformat(reservation["created_at"]).utcoffset() is not None
    fetched = await client.get(response.headers["Location"], headers=auth())
    assert await fetched.json() == reservation


async def test_a_taken_slot_gives_a_friendly_409(client, auth, spot_ids):
    day = tomorrow()
    assert (await book(client, auth(DRIVER1), slot_body(spot_ids[3], day)))[0] == 201
    status, body = await book(client, auth(DRIVER2), slot_body(spot_ids[3], day))
    assert status == 409
    expected_day = f"{day:%a} {day.day} {day:%b}"
    assert body == {
        "error": {
            "code": "slot_taken",
            "message": f"Spot #3 is already booked for 08:00–12:00 on {expected_day}. "
            "Please pick another spot or time.",
        }
    }


async def test_a_driver_holding_another_spot_in_the_slot_gets_already_booked_in_slot(client, auth, spot_ids):
    day = tomorrow()
    assert (await book(client, auth(), slot_body(spot_ids[1], day, 1)))[0] == 201
    status, body = await book(client, auth(), slot_body(spot_ids[2], day, 1))
    assert status == 409
    assert body["error"]["code"] == "already_booked_in_slot"
    assert "Spot #1" in body["error"]["message"]
    # The same driver may still book another slot of the day.
    assert (await book(client, auth(), slot_body(spot_ids[2], day, 2)))[0] == 201


async def test_complete_frees_the_slot_for_immediate_rebooking(client, auth, spot_ids):
    body = slot_body(spot_ids[4], tomorrow(), 2)
    _, reservation = await book(client, auth(DRIVER1), body)
    response = await client.put(f"/reservations/{reservation['id']}/complete", headers=auth(DRIVER1))
    assert response.status == 200
    completed = await response.json()
    assert completed["status"] == "completed" and completed["released_by"] == "user"
    assert completed["completed_at"] is not None
    status, rebooked = await book(client, auth(DRIVER2), body)
    assert status == 201 and rebooked["id"] != reservation["id"]


async def test_completing_twice_returns_the_completed_reservation_unchanged(client, auth, spot_ids):
    _, reservation = await book(client, auth(), slot_body(spot_ids[2], tomorrow()))
    first = await client.put(f"/reservations/{reservation['id']}/complete", headers=auth())
    second = await client.put(f"/reservations/{reservation['id']}/complete", headers=auth())
    assert first.status == second.status == 200
    assert await first.json() == await second.json()


async def test_only_the_owner_can_complete_and_others_get_404(client, auth, spot_ids):
    _, reservation = await book(client, auth(DRIVER1), slot_body(spot_ids[2], tomorrow()))
    response = await client.put(f"/reservations/{reservation['id']}/complete", headers=auth(DRIVER2))
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "reservation_not_found"
    assert (await client.get(f"/reservations/{reservation['id']}", headers=auth(DRIVER2))).status == 404
    still = await client.get(f"/reservations/{reservation['id']}", headers=auth(DRIVER1))
    assert (await still.json())["status"] == "booked"


@pytest.mark.parametrize("path", ["abc", "1.5", "-1", "99999999999999999999999"])
async def test_a_non_integer_or_huge_id_is_a_json_404(client, auth, path):
    response = await client.put(f"/reservations/{path}/complete", headers=auth())
    assert response.status == 404
    assert "error" in await response.json()


async def test_an_unknown_id_is_404(client, auth):
    response = await client.put("/reservations/123456/complete", headers=auth())
    assert response.status == 404


async def test_listing_shows_only_own_reservations_newest_first_and_filters_by_status(client, auth, spot_ids):
    day = tomorrow()
    ids = []
    for index in range(3):
        _, r = await book(client, auth(DRIVER1), slot_body(spot_ids[1], day, index))
        ids.append(r["id"])
    await book(client, auth(DRIVER2), slot_body(spot_ids[2], day, 0))
    await client.put(f"/reservations/{ids[0]}/complete", headers=auth(DRIVER1))

    everything = (await (await client.get("/reservations", headers=auth(DRIVER1))).json())["reservations"]
    assert [r["id"] for r in everything] == ids[::-1]
    booked = (await (await client.get("/reservations?status=booked", headers=auth(DRIVER1))).json())["reservations"]
    assert [r["id"] for r in booked] == ids[:0:-1]
    done = (await (await client.get("/reservations?status=completed", headers=auth(DRIVER1))).json())["reservations"]
    assert [r["id"] for r in done] == [ids[0]]
    bad = await client.get("/reservations?status=active", headers=auth(DRIVER1))
    assert bad.status == 422


def _shift(iso: str, **delta) -> str:
    return (datetime.fromisoformat(iso) + timedelta(**delta)).isoformat()


@pytest.mark.parametrize(
    "mutate, fragment",
    [
        (lambda b: {**b, "start_time": b["start_time"][:19]}, "has no UTC offset; send it with one, e.g. 2026-11-21T08:00:00+01:00"),
        (lambda b: {**b, "end_time": b["end_time"][:19]}, "'end_time' has no UTC offset"),
        (lambda b: {**b, "start_time": "tomorrow at eight"}, "ISO 8601 timestamp with an offset"),
        (lambda b: {**b, "end_time": _shift(b["end_time"], hours=4)}, "exactly one slot. Slots on"),
        (lambda b: {**b, "start_time": _shift(b["start_time"], hours=1), "end_time": _shift(b["end_time"], hours=1)}, "08:00–12:00"),
        (lambda b: {**b, "end_time": b["start_time"]}, "exactly one slot"),
        (lambda b: {**b, "spot_id": "3"}, "'spot_id' must be an integer"),
        (lambda b: {**b, "spot_id": True}, "'spot_id' must be an integer"),
        (lambda b: {**b, "spot_id": 0}, "'spot_id' must be a positive integer"),
        (lambda b: {**b, "spot_id": None, "spot_type": "lorry"}, "'spot_type' must be one of"),
        (lambda b: {**b, "start_time": None}, "'start_time' is required"),
        (lambda b: {**b, "start_time": "0001-01-01T00:00:00+01:00"}, "must be between"),
    ],
)
async def test_invalid_bookings_get_a_422_that_says_why(client, auth, spot_ids, mutate, fragment):
    status, body = await book(client, auth(), mutate(slot_body(spot_ids[1], tomorrow())))
    assert status == 422
    assert body["error"]["code"] == "validation_error"
    assert fragment in body["error"]["message"]


async def test_a_slot_that_has_ended_cannot_be_booked(client, auth, spot_ids):
    yesterday = tomorrow() - timedelta(days=2)
    status, body = await book(client, auth(), slot_body(spot_ids[1], yesterday, 2))
    assert status == 422 and "has already ended" in body["error"]["message"]


async def test_a_slot_beyond_the_booking_horizon_cannot_be_booked(client, auth, spot_ids, db_conn):
    await db_conn.execute("UPDATE lot_rules SET booking_horizon_days = 5")
    far = tomorrow() + timedelta(days=5)
    status, body = await book(client, auth(), slot_body(spot_ids[1], far))
    assert status == 422 and "5 days ahead" in body["error"]["message"]
    assert (await book(client, auth(), slot_body(spot_ids[1], far - timedelta(days=1))))[0] == 201


async def test_an_unknown_spot_is_404(client, auth):
    status, body = await book(client, auth(), slot_body(987654, tomorrow()))
    assert status == 404 and body["error"]["code"] == "spot_not_found"


async def test_an_unknown_spot_is_404_even_when_the_driver_already_holds_the_slot(client, auth, spot_ids):
    # The driver-per-slot index can conflict before the spot's foreign key is checked.
    assert (await book(client, auth(), slot_body(spot_ids[1], tomorrow())))[0] == 201
    status, body = await book(client, auth(), slot_body(987654, tomorrow()))
    assert status == 404 and body["error"]["code"] == "spot_not_found"


async def test_the_same_instant_in_another_offset_books_the_same_slot(client, auth, spot_ids):
    body = slot_body(spot_ids[5], tomorrow())
    as_utc = {
        **body,
        "start_time": datetime.fromisoformat(body["start_time"]).astimezone(timezone(timedelta(hours=-5))).isoformat(),
        "end_time": datetime.fromisoformat(body["end_time"]).astimezone(timezone(timedelta(hours=-5))).isoformat(),
    }
    assert (await book(client, auth(DRIVER1), as_utc))[0] == 201
    assert (await book(client, auth(DRIVER2), body))[0] == 409
