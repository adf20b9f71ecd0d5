"""Names, plates and reasons people read must show something, and hide nothing."""

from __future__ import annotations

import pytest

from tests.support import ADMIN, DRIVER1, slot_body, tomorrow

INVISIBLE = [
    "\u200b",  # zero-width space
    "\ufeff",  # byte order mark
    "\u202e\u202d\u202c",  # bidi overrides
    "\u2066\u2069 \u200d\u200c",  # isolates, joiners and a space
    "\u00a0\u3000",  # no-break and ideographic spaces
    "\u3164",  # Hangul filler: a letter that renders as nothing
    "\u0301",  # a combining accent with nothing to sit on
    "\x1b",  # ESC
]
CONTROL = ["\x1b[2J\x1b[H", "Ann\x07", "two\nlines", "tab\there", "\x85next"]


def guest_booking(spot_ids, name="Ann Guest", plate="AB-123"):
    return {**slot_body(spot_ids[1], tomorrow()), "guest": {"name": name, "licence_plate": plate}}


async def a_booking(client, auth, spot_ids) -> int:
    response = await client.post("/reservations", json=slot_body(spot_ids[2], tomorrow()), headers=auth(DRIVER1))
    return (await response.json())["id"]


async def assert_refused(response, field: str) -> None:
    assert response.status == 422
    body = await response.json()
    assert body["error"]["code"] == "validation_error" and f"'{field}'" in body["error"]["message"]


@pytest.mark.parametrize("value", INVISIBLE + CONTROL)
async def test_an_invisible_or_controlling_guest_name_or_plate_is_refused(client, auth, spot_ids, db_conn, value):
    for field, body in (
        ("guest.name", guest_booking(spot_ids, name=value)),
        ("guest.licence_plate", guest_booking(spot_ids, plate=value)),
    ):
        await assert_refused(await client.post("/admin/reservations", json=body, headers=auth(ADMIN)), field)
    assert await db_conn.fetchval("SELECT count(*) FROM reservations") == 0


@pytest.mark.parametrize("value", INVISIBLE + CONTROL)
async def test_an_invisible_or_controlling_reason_is_refused(client, auth, spot_ids, db_conn, value):
    booking = await a_booking(client, auth, spot_ids)
    release = await client.put(f"/admin/reservations/{booking}/release", json={"reason": value}, headers=auth(ADMIN))
    await assert_refused(release, "reason")
    closure = {**slot_body(spot_ids[3], tomorrow()), "reason": value}
    await assert_refused(await client.post("/admin/closures", json=closure, headers=auth(ADMIN)), "reason")
    assert await db_conn.fetchval("SELECT count(*) FROM closures") == 0
    assert await db_conn.fetchval("SELECT status FROM reservations WHERE id = $1", booking) == "booked"


async def test_bidi_controls_and_zero_width_characters_are_stripped(client, auth, spot_ids, db_conn):
    body = guest_booking(spot_ids, name="\u202eAnn\u200b Guest\u2069 ", plate=" ab\u200d-12\ufeff3")
    response = await client.post("/admin/reservations", json=body, headers=auth(ADMIN))
    assert response.status == 201
    holder = (await response.json())["holder"]
    assert holder == {"guest_name": "Ann Guest", "licence_plate": "AB-123"}

    booking = await a_booking(client, auth, spot_ids)
    reason = "Resurfacing\u202e, sorry\u200b"
    release = await client.put(f"/admin/reservations/{booking}/release", json={"reason": reason}, headers=auth(ADMIN))
    assert (await release.json())["release_reason"] == "Resurfacing, sorry"
    closure = {**slot_body(spot_ids[3], tomorrow()), "reason": "\ufeffPainting"}
    created = await client.post("/admin/closures", json=closure, headers=auth(ADMIN))
    assert (await created.json())["closure"]["reason"] == "Painting"


async def test_real_names_in_any_script_are_kept(client, auth, spot_ids):
    body = guest_booking(spot_ids, name="Zoë Ørsted-Nguyễn 李 عائشة", plate="ß-1")
    response = await client.post("/admin/reservations", json=body, headers=auth(ADMIN))
    assert (await response.json())["holder"] == {"guest_name": "Zoë Ørsted-Nguyễn 李 عائشة", "licence_plate": "SS-1"}
