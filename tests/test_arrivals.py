"""Arrivals: check-in in its window, no-shows released by the sweeper, and the race between them."""

from __future__ import annotations

import asyncio
import csv
import io
from zoneinfo import ZoneInfo

import pytest

from server import repository
from server.db import POOL
from server.errors import CheckInClosed
from server.sweeper import Sweeper
from tests.support import (
    ADMIN,
    DRIVER1,
    DRIVER2,
    eventually,
    next_of_type,
    open_socket,
    receive_json,
    slot_body,
    tomorrow,
)


async def booking(db_conn, user_id, spot_id, *, starts_in: str, lasts: str = "4 hours") -> int:
    """A booking, made a day ahead, whose slot starts `starts_in` from now (an SQL interval)."""
    return await db_conn.fetchval(
        "INSERT INTO reservations (user_id, spot_id, start_time, end_time, created_at) "
        "VALUES ($1, $2, now() + $3::text::interval, now() + $3::text::interval + $4::text::interval, "
        "now() + $3::text::interval - interval '1 day') RETURNING id",
        user_id, spot_id, starts_in, lasts,
    )


def token_of(headers):
    return headers["Authorization"].removeprefix("Bearer ")


@pytest.mark.parametrize(
    ("starts_in", "lasts", "allowed"),
    [
        ("14 minutes", "4 hours", True),  # the window opens 15 minutes before the start
        ("16 minutes", "4 hours", False),
        ("-3 hours", "4 hours", True),  # during the slot
        ("-4 hours", "3 hours 59 minutes", False),  # the slot has just ended
    ],
)
async def test_check_in_is_open_from_15_minutes_before_the_start_until_the_end(
    db_conn, user_ids, spot_ids, starts_in, lasts, allowed
):
    # Against the repository, with no sweeper to release the booking that just ended.
    tokyo = ZoneInfo("Asia/Tokyo")
    reservation_id = await booking(db_conn, user_ids[DRIVER1], spot_ids[1], starts_in=starts_in, lasts=lasts)
    if allowed:
        checked_in = await repository.arrivals.check_in(
            db_conn, reservation_id=reservation_id, user_id=user_ids[DRIVER1], actor_id=user_ids[DRIVER1], tz=tokyo
        )
        assert checked_in["checked_in_at"] is not None
        return
    with pytest.raises(CheckInClosed) as refused:
        await repository.arrivals.check_in(
            db_conn, reservation_id=reservation_id, user_id=user_ids[DRIVER1], actor_id=user_ids[DRIVER1], tz=tokyo
        )
    # The window is told in the lot's time zone.
    opens, closes = await db_conn.fetchrow(
        "SELECT to_char((start_time - interval '15 minutes') AT TIME ZONE 'Asia/Tokyo', 'HH24:MI'), "
        "to_char(end_time AT TIME ZONE 'Asia/Tokyo', 'HH24:MI') FROM reservations WHERE id = $1",
        reservation_id,
    )
    assert refused.value.message.startswith(f"Check-in for this booking is open from {opens} until {closes}")


async def test_a_check_in_answers_in_the_lots_time_zone(make_client, auth, db_conn, user_ids, spot_ids):
    client = await make_client(parking_timezone="Asia/Tokyo")
    reservation_id = await booking(db_conn, user_ids[DRIVER1], spot_ids[1], starts_in="-1 hour")
    response = await client.put(f"/reservations/{reservation_id}/check-in", headers=auth(DRIVER1))
    assert response.status == 200
    assert (await response.json())["checked_in_at"].endswith("+09:00")


async def test_a_check_in_is_idempotent_shown_everywhere_and_published(client, auth, db_conn, user_ids, spot_ids):
    reservation_id = await booking(db_conn, user_ids[DRIVER1], spot_ids[2], starts_in="-1 hour")
    own_tab = await open_socket(client, "/ws", token_of(auth(DRIVER1)))
    desk = await open_socket(client, "/ws", token_of(auth(ADMIN)))
    other = await open_socket(client, "/ws", token_of(auth(DRIVER2)))

    first = await (await client.put(f"/reservations/{reservation_id}/check-in", headers=auth(DRIVER1))).json()
    again = await client.put(f"/reservations/{reservation_id}/check-in", headers=auth(DRIVER1))
    assert again.status == 200 and (await again.json())["checked_in_at"] == first["checked_in_at"]

    for socket in (own_tab, desk):
        event = await next_of_type(socket, "reservation.checked_in")
        assert (event["reservation_id"], event["checked_in_at"] is not None) == (reservation_id, True)
    # Published once, and not to other drivers: the next thing they see is a later booking.
    await client.post("/reservations", json=slot_body(spot_ids[5], tomorrow()), headers=auth(DRIVER2))
    assert (await receive_json(other))["type"] == "reservation.booked"

    exported = await (await client.get("/reservations/export.csv", headers=auth(DRIVER1))).text()
    [row] = [r for r in csv.DictReader(io.StringIO(exported)) if int(r["id"]) == reservation_id]
    assert row["checked_in_at"]
    everyone = await (await client.get("/admin/reservations/export.csv", headers=auth(ADMIN))).text()
    assert any(r["checked_in_at"] for r in csv.DictReader(io.StringIO(everyone)) if int(r["id"]) == reservation_id)
    for socket in (own_tab, desk, other):
        await socket.close()


async def test_the_board_shows_arrivals(client, auth, db_conn, user_ids, spot_ids):
    body = slot_body(spot_ids[2], tomorrow(), 1)
    created = await (await client.post("/reservations", json=body, headers=auth(DRIVER1))).json()
    await db_conn.execute("UPDATE reservations SET checked_in_at = now() WHERE id = $1", created["id"])
    board = await (await client.get(f"/admin/board?date={tomorrow()}", headers=auth(ADMIN))).json()
    cell = board["spots"][1]["slots"][1]
    assert (cell["reservation_id"], cell["checked_in_at"] is not None) == (created["id"], True)


async def test_only_the_holder_or_the_attendant_checks_in(client, auth, db_conn, user_ids, spot_ids):
    reservation_id = await booking(db_conn, user_ids[DRIVER1], spot_ids[3], starts_in="-1 hour")
    other = await client.put(f"/reservations/{reservation_id}/check-in", headers=auth(DRIVER2))
    assert (other.status, (await other.json())["error"]["code"]) == (404, "reservation_not_found")
    walk_in = await (
        await client.post(
            "/admin/reservations",
            json={**slot_body(spot_ids[4], tomorrow()), "guest": {"name": "Ada", "licence_plate": "AB"}},
            headers=auth(ADMIN),
        )
    ).json()
    # Tomorrow's walk-in: outside the window, for the attendant too.
    early = await client.put(f"/admin/reservations/{walk_in['id']}/check-in", headers=auth(ADMIN))
    assert (early.status, (await early.json())["error"]["code"]) == (409, "check_in_closed")
    response = await client.put(f"/admin/reservations/{reservation_id}/check-in", headers=auth(ADMIN))
    assert response.status == 200
    assert (await response.json())["holder"]["email"] == DRIVER1


async def test_a_released_booking_cannot_be_checked_in(client, auth, db_conn, user_ids, spot_ids):
    reservation_id = await booking(db_conn, user_ids[DRIVER1], spot_ids[1], starts_in="-1 hour")
    await client.put(f"/reservations/{reservation_id}/complete", headers=auth(DRIVER1))
    response = await client.put(f"/reservations/{reservation_id}/check-in", headers=auth(DRIVER1))
    body = await response.json()
    assert (response.status, body["error"]["code"]) == (409, "check_in_closed")
    assert "has been released" in body["error"]["message"]


async def test_a_sweep_releases_no_shows_after_the_grace_period(make_client, auth, db_conn, user_ids, spot_ids, caplog):
    caplog.set_level("INFO", logger="server.sweeper")
    no_show = await booking(db_conn, user_ids[DRIVER1], spot_ids[1], starts_in="-11 minutes")
    arrived = await booking(db_conn, user_ids[DRIVER2], spot_ids[2], starts_in="-11 minutes")
    within_grace = await booking(db_conn, user_ids[DRIVER2], spot_ids[3], starts_in="-9 minutes")
    await db_conn.execute("UPDATE reservations SET checked_in_at = now() WHERE id = $1", arrived)
    client = await make_client(sweep_interval_seconds=0.2)
    holder = await open_socket(client, "/ws", token_of(auth(DRIVER1)))
    # Switched on once the holder listens, as the attendant would at any time.
    await db_conn.execute("UPDATE lot_rules SET no_show_grace_minutes = 10")

    line = f"Released no-show Spot #1 (Reservation ID {no_show})"
    await eventually(lambda: line in caplog.messages, timeout=5)
    event = await next_of_type(holder, "reservation.released", timeout=3)
    assert (event["reservation_id"], event["reason"], event["mine"]) == (no_show, "no_show", True)
    rows = {r["id"]: r for r in await db_conn.fetch("SELECT id, status, released_by FROM reservations")}
    assert (rows[no_show]["status"], rows[no_show]["released_by"]) == ("completed", "no_show")
    assert rows[arrived]["status"] == rows[within_grace]["status"] == "booked"
    await holder.close()


async def test_no_shows_stay_while_the_rule_is_off(make_client, db_conn, user_ids, spot_ids, caplog):
    caplog.set_level("INFO", logger="server.sweeper")
    reservation_id = await booking(db_conn, user_ids[DRIVER1], spot_ids[4], starts_in="-3 hours")
    client = await make_client()
    sweeper = Sweeper(client.app[POOL], 60)
    assert await sweeper.release_no_shows() == []
    assert await db_conn.fetchval("SELECT status FROM reservations WHERE id = $1", reservation_id) == "booked"


async def test_a_check_in_racing_the_no_show_sweep_has_exactly_one_outcome(client, auth, db_conn, user_ids, spot_ids):
    await db_conn.execute("UPDATE lot_rules SET no_show_grace_minutes = 1")
    sweeper = Sweeper(client.app[POOL], 60)
    outcomes = set()
    for round_ in range(30):
        reservation_id = await booking(
            db_conn, user_ids[DRIVER1], spot_ids[1 + round_ % 5], starts_in=f"-{2 + round_} minutes"
        )
        check_in, swept = await asyncio.gather(
            client.put(f"/reservations/{reservation_id}/check-in", headers=auth(DRIVER1)),
            sweeper.release_no_shows(),
        )
        row = await db_conn.fetchrow(
            "SELECT status, released_by, checked_in_at FROM reservations WHERE id = $1", reservation_id
        )
        released = reservation_id in [r["id"] for r in swept]
        if check_in.status == 200:
            assert not released
            assert (row["status"], row["checked_in_at"] is not None) == ("booked", True)
            outcomes.add("checked in")
        else:
            assert (check_in.status, (await check_in.json())["error"]["code"]) == (409, "check_in_closed")
            assert released
            assert (row["status"], row["released_by"], row["checked_in_at"]) == ("completed", "no_show", None)
            outcomes.add("released")
        # Out of the way of the next round's slot.
        await db_conn.execute("UPDATE reservations SET status = 'completed', completed_at = now(), "
                              "released_by = 'user' WHERE id = $1 AND status = 'booked'", reservation_id)
    assert outcomes  # each round had exactly one outcome; which one won varies


async def test_stats_give_the_no_show_rate_of_the_slots_that_started(client, auth, db_conn, user_ids, spot_ids):
    driver = user_ids[DRIVER1]
    await db_conn.execute(
        """
        INSERT INTO reservations (user_id, spot_id, start_time, end_time, status, completed_at, released_by)
        VALUES ($1, $2, '2026-01-05 08:00+00', '2026-01-05 12:00+00', 'completed', '2026-01-05 08:30+00', 'no_show'),
               ($1, $3, '2026-01-05 08:00+00', '2026-01-05 12:00+00', 'completed', '2026-01-05 12:00+00', 'expired'),
               ($1, $2, '2026-01-05 12:00+00', '2026-01-05 16:00+00', 'completed', '2026-01-05 16:00+00', 'expired'),
               ($1, $2, '2026-01-06 08:00+00', '2026-01-06 12:00+00', 'completed', '2026-01-06 08:30+00', 'no_show'),
               -- Released before it started: it never waited for anyone.
               ($1, $3, '2026-01-06 08:00+00', '2026-01-06 12:00+00', 'completed', '2026-01-04 10:00+00', 'user')
        """,
        driver, spot_ids[1], spot_ids[2],
    )
    stats = await (await client.get("/stats?from=2026-01-05&to=2026-01-06", headers=auth())).json()
    assert stats["no_show_rate"] == 0.5
    empty = await (await client.get("/stats?from=2025-01-05&to=2025-01-06", headers=auth())).json()
    assert empty["no_show_rate"] is None


async def test_a_booking_made_during_its_slot_gets_the_whole_grace(client, db_conn, user_ids, spot_ids):
    # Booked at 09:00 for 08:00-12:00, with a 10-minute grace: not a no-show yet.
    await db_conn.execute("UPDATE lot_rules SET no_show_grace_minutes = 10")
    late = await booking(db_conn, user_ids[DRIVER1], spot_ids[2], starts_in="-1 hour")
    await db_conn.execute("UPDATE reservations SET created_at = now() WHERE id = $1", late)
    early = await booking(db_conn, user_ids[DRIVER2], spot_ids[3], starts_in="-1 hour")
    released = await Sweeper(client.app[POOL], 60).release_no_shows()
    assert [row["id"] for row in released] == [early]
    assert await db_conn.fetchval("SELECT status FROM reservations WHERE id = $1", late) == "booked"
