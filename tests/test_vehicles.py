"""Drivers' vehicles: plates spelled one way, matched on a normalised form, three at most, never shown to others."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.support import ADMIN, DRIVER1, DRIVER2, open_socket, receive_json, slot_body, tomorrow


async def add(client, headers, plate, label=None):
    body = {"licence_plate": plate} if label is None else {"licence_plate": plate, "label": label}
    return await client.post("/me/vehicles", json=body, headers=headers)


async def test_a_plate_is_stored_as_typed_upper_cased_and_listed(client, auth):
    added = await add(client, auth(DRIVER1), " ab 123-cd ", "Blue Golf")
    assert added.status == 201
    vehicle = await added.json()
    assert (vehicle["licence_plate"], vehicle["label"]) == ("AB 123-CD", "Blue Golf")
    assert added.headers["Location"] == f"/me/vehicles/{vehicle['id']}"
    listed = await (await client.get("/me/vehicles", headers=auth(DRIVER1))).json()
    assert [v["id"] for v in listed["vehicles"]] == [vehicle["id"]]
    # Nobody else's list shows it.
    other = await (await client.get("/me/vehicles", headers=auth(DRIVER2))).json()
    assert other == {"vehicles": []}


@pytest.mark.parametrize("spelling", ["ab 123-cd", "AB.123.CD", "AB123CD", "ＡＢ１２３ＣＤ"])
async def test_one_plate_however_spelled_is_registered_once_per_driver(client, auth, spelling):
    assert (await add(client, auth(DRIVER1), "AB-123-CD")).status == 201
    again = await add(client, auth(DRIVER1), spelling)
    assert (again.status, (await again.json())["error"]["code"]) == (409, "plate_already_registered")
    # Two drivers may share a car.
    assert (await add(client, auth(DRIVER2), spelling)).status == 201


@pytest.mark.parametrize(
    "plate",
    [
        "АВ 123",  # Cyrillic А and В, which look Latin
        "ΑΒ 123",  # Greek
        "AB\u200b123",  # a zero-width space
        "١٢٣",  # Arabic-Indic digits
        " - . ",
        "A" * 17,
        "ß" * 9,  # upper-cased "SS" each: 18
    ],
)
async def test_look_alike_or_invalid_plates_are_a_clear_422(client, auth, plate):
    response = await add(client, auth(DRIVER1), plate)
    assert response.status == 422
    assert "'licence_plate'" in (await response.json())["error"]["message"]
    assert (await (await client.get("/me/vehicles", headers=auth(DRIVER1))).json()) == {"vehicles": []}


async def test_fullwidth_letters_are_normalised_not_refused(client, auth):
    response = await add(client, auth(DRIVER1), "ｋö 12")
    assert (response.status, (await response.json())["licence_plate"]) == (201, "KÖ 12")


async def lot_limits(client, headers):
    return (await (await client.get("/lot", headers=headers)).json())["limits"]


async def test_a_driver_holds_at_most_three_vehicles_even_registering_in_parallel(make_client, auth, db_conn):
    first, second = await make_client(), await make_client()
    # The limit the browser's form shows is the one the trigger enforces.
    assert (await lot_limits(first, auth(DRIVER1)))["max_vehicles_per_driver"] == 3
    responses = await asyncio.gather(
        *(add(client, auth(DRIVER1), f"CAR-{n}") for n, client in enumerate([first, second] * 4))
    )
    statuses = sorted(r.status for r in responses)
    assert statuses == [201] * 3 + [409] * 5
    refused = next(r for r in responses if r.status == 409)
    assert (await refused.json())["error"]["code"] == "vehicle_limit_reached"
    assert await db_conn.fetchval("SELECT count(*) FROM vehicles") == 3


async def test_the_lots_label_and_plate_limits_are_the_ones_a_registration_meets(client, auth):
    limits = await lot_limits(client, auth(DRIVER1))
    longest_label, longest_plate = "L" * limits["max_vehicle_label"], "P" * limits["max_licence_plate"]
    assert (await add(client, auth(DRIVER1), longest_plate, longest_label)).status == 201
    too_long = await add(client, auth(DRIVER1), "AB 1", longest_label + "L")
    assert too_long.status == 422
    assert "'label'" in (await too_long.json())["error"]["message"]
    assert (await add(client, auth(DRIVER1), longest_plate + "P")).status == 422


async def test_removing_a_vehicle_keeps_its_bookings(client, auth, spot_ids, db_conn):
    vehicle = await (await add(client, auth(DRIVER1), "AB-1")).json()
    booked = await client.post("/reservations", json=slot_body(spot_ids[2], tomorrow()), headers=auth(DRIVER1))
    assert (await booked.json())["vehicle"]["id"] == vehicle["id"]
    # Another driver cannot remove it.
    assert (await client.delete(f"/me/vehicles/{vehicle['id']}", headers=auth(DRIVER2))).status == 404
    assert (await client.delete(f"/me/vehicles/{vehicle['id']}", headers=auth(DRIVER1))).status == 204
    assert (await client.delete(f"/me/vehicles/{vehicle['id']}", headers=auth(DRIVER1))).status == 404
    row = await db_conn.fetchrow("SELECT status, vehicle_id FROM reservations")
    assert (row["status"], row["vehicle_id"]) == ("booked", None)


async def test_a_driver_with_one_vehicle_books_with_it_and_with_two_names_one(client, auth, spot_ids):
    one = await (await add(client, auth(DRIVER1), "ONE-1")).json()
    booked = await (
        await client.post("/reservations", json=slot_body(spot_ids[2], tomorrow(), 0), headers=auth(DRIVER1))
    ).json()
    assert booked["vehicle"] == {"id": one["id"], "licence_plate": "ONE-1", "label": None}
    two = await (await add(client, auth(DRIVER1), "TWO-2")).json()
    unnamed = await (
        await client.post("/reservations", json=slot_body(spot_ids[2], tomorrow(), 1), headers=auth(DRIVER1))
    ).json()
    assert unnamed["vehicle"] is None  # two cars: the booking does not guess
    named = await client.post(
        "/reservations", json={**slot_body(spot_ids[2], tomorrow(), 2), "vehicle_id": two["id"]}, headers=auth(DRIVER1)
    )
    assert (await named.json())["vehicle"]["licence_plate"] == "TWO-2"


async def test_a_booking_cannot_name_another_drivers_vehicle(client, auth, spot_ids, db_conn):
    theirs = await (await add(client, auth(DRIVER2), "THEIRS-1")).json()
    response = await client.post(
        "/reservations", json={**slot_body(spot_ids[2], tomorrow()), "vehicle_id": theirs["id"]}, headers=auth(DRIVER1)
    )
    body = await response.json()
    assert (response.status, body["error"]["code"]) == (404, "vehicle_not_found")
    assert "THEIRS" not in json.dumps(body)
    assert await db_conn.fetchval("SELECT count(*) FROM reservations") == 0


async def test_the_board_and_the_export_show_the_plate(client, auth, spot_ids):
    await add(client, auth(DRIVER1), "BOARD-1")
    day = tomorrow()
    await client.post("/reservations", json=slot_body(spot_ids[2], day), headers=auth(DRIVER1))
    board = await (await client.get(f"/admin/board?date={day}", headers=auth(ADMIN))).json()
    cell = next(s for s in board["spots"] if s["id"] == spot_ids[2])["slots"][0]
    assert cell["holder"]["licence_plate"] == "BOARD-1"
    export = await client.get(
        f"/admin/reservations/export.csv?from={day}&to={day}", headers=auth(ADMIN)
    )
    assert "BOARD-1" in await export.text()


async def test_a_driver_never_sees_another_drivers_plate(client, auth, spot_ids, user_ids):
    await add(client, auth(DRIVER1), "SECRET-1")
    day = tomorrow()
    session = client.session
    url = str(client.make_url("/ws"))
    tokens = {email: auth(email)["Authorization"].removeprefix("Bearer ") for email in (DRIVER1, DRIVER2, ADMIN)}
    watcher = await open_socket(session, url, tokens[DRIVER2])
    attendant = await open_socket(session, url, tokens[ADMIN])
    booked = await (
        await client.post("/reservations", json=slot_body(spot_ids[2], day), headers=auth(DRIVER1))
    ).json()
    await client.put(f"/admin/reservations/{booked['id']}/check-in", headers=auth(ADMIN))
    await client.put(f"/admin/reservations/{booked['id']}/release", json={"reason": "Test"}, headers=auth(ADMIN))
    # The attendant hears the plate; the other driver hears of each change, never the plate.
    heard = [await receive_json(attendant) for _ in range(2)]
    assert any(m.get("holder", {}).get("licence_plate") == "SECRET-1" for m in heard)
    seen = [await receive_json(watcher) for _ in range(2)]  # booked, released (no check-in event)
    assert [m["type"] for m in seen] == ["reservation.booked", "reservation.released"]
    answers = [
        await (await client.get(f"/spots?date={day}", headers=auth(DRIVER2))).text(),
        await (await client.get("/reservations", headers=auth(DRIVER2))).text(),
        await (await client.get("/me/vehicles", headers=auth(DRIVER2))).text(),
        await (await client.get(f"/reservations/{booked['id']}", headers=auth(DRIVER2))).text(),
        await (await client.get("/admin/plates/SECRET-1", headers=auth(DRIVER2))).text(),
    ]
    for text in [*(json.dumps(m) for m in seen), *answers]:
        assert "SECRET" not in text
    await watcher.close()
    await attendant.close()
