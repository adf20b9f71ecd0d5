"""GET /spots?date=: the availability grid, its states, time zones and DST days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from server import repository
from server.shapes import grid_json
from server.slots import day_bounds, slots_on, today
from tests.support import DRIVER1, DRIVER2, slot_body, tomorrow


async def grid(client, headers, day=None):
    path = "/spots" if day is None else f"/spots?date={day.isoformat()}"
    response = await client.get(path, headers=headers)
    assert response.status == 200
    return await response.json()


def states(body):
    return {s["spot_number"]: [c["state"] for c in s["slots"]] for s in body["spots"]}


async def test_grid_defaults_to_today_in_the_lot_zone_with_five_spots_by_three_slots(make_client, auth):
    client = await make_client(parking_timezone="Asia/Tokyo")
    body = await grid(client, auth())
    assert body["date"] == today(ZoneInfo("Asia/Tokyo")).isoformat()
    assert body["timezone"] == "Asia/Tokyo"
    assert [s["label"] for s in body["slots"]] == ["08:00–12:00", "12:00–16:00", "16:00–20:00"]
    assert len(body["spots"]) == 5 and all(len(s["slots"]) == 3 for s in body["spots"])
    assert body["slots"][0]["start_time"].endswith("T08:00:00+09:00")


async def test_states_show_past_booked_mine_and_available(client, auth, spot_ids):
    day = tomorrow()
    mine = await client.post("/reservations", json=slot_body(spot_ids[1], day, 0), headers=auth(DRIVER1))
    await client.post("/reservations", json=slot_body(spot_ids[2], day, 1), headers=auth(DRIVER2))
    body = await grid(client, auth(DRIVER1), day)
    assert states(body) == {
        1: ["booked", "available", "available"],
        2: ["available", "booked", "available"],
        3: ["available"] * 3, 4: ["available"] * 3, 5: ["available"] * 3,
    }
    own_cell = body["spots"][0]["slots"][0]
    assert own_cell["mine"] is True and own_cell["reservation_id"] == (await mine.json())["id"]
    other_cell = body["spots"][1]["slots"][1]
    assert "mine" not in other_cell and "reservation_id" not in other_cell
    # Other drivers' identities never appear.
    assert "user_id" not in str(body) and "driver2" not in str(body)

    yesterday = await grid(client, auth(DRIVER1), day - timedelta(days=2))
    assert all(state == "past" for row in states(yesterday).values() for state in row)


async def test_a_booked_slot_that_has_ended_stays_booked_until_released(spot_ids, db_conn, user_ids):
    # Read straight from the repository: an app's own sweeper would release it.
    day = tomorrow() - timedelta(days=2)
    utc = ZoneInfo("UTC")
    slot = slots_on(day, utc)[0]
    await db_conn.execute(
        "INSERT INTO reservations (user_id, spot_id, start_time, end_time) VALUES ($1, $2, $3, $4)",
        user_ids[DRIVER2], spot_ids[3], slot.start, slot.end,
    )
    start, end = day_bounds(day, utc)
    now = datetime.now(UTC)
    rows = await repository.spots.grid(db_conn, day_start=start, day_end=end, now=now)
    body = grid_json(day, utc, rows, now=now, user_id=user_ids[DRIVER1])
    assert states(body)[3] == ["booked", "past", "past"]


async def test_occupied_now_reflects_a_booking_covering_this_moment(client, auth, spot_ids, db_conn, user_ids):
    now = datetime.now(ZoneInfo("UTC"))
    await db_conn.execute(
        "INSERT INTO reservations (user_id, spot_id, start_time, end_time) VALUES ($1, $2, $3, $4)",
        user_ids[DRIVER1], spot_ids[4], now - timedelta(hours=1), now + timedelta(hours=1),
    )
    body = await grid(client, auth())
    assert {s["spot_number"]: s["occupied_now"] for s in body["spots"]} == {1: False, 2: False, 3: False, 4: True, 5: False}


async def test_an_invalid_date_is_422(client, auth):
    for bad in ("2026-13-01", "tomorrow", "2026-1-1", "20261121", "1999-12-31"):
        response = await client.get(f"/spots?date={bad}", headers=auth())
        assert response.status == 422, bad
        assert (await response.json())["error"]["code"] == "validation_error"


def next_dst_change(tz: ZoneInfo, start: date) -> date:
    """The first day on or after `start` whose UTC offset differs from the day before."""
    day = start
    while True:
        before = datetime.combine(day - timedelta(days=1), datetime.min.time(), tz).utcoffset()
        after = datetime.combine(day + timedelta(days=1), datetime.min.time(), tz).utcoffset()
        if before != after:
            return day
        day += timedelta(days=1)


async def test_slots_on_a_dst_change_day_keep_their_wall_clock_times(make_client, auth, spot_ids, db_conn):
    await db_conn.execute("UPDATE lot_rules SET booking_horizon_days = 365")  # the change may be months away
    berlin = ZoneInfo("Europe/Berlin")
    change = next_dst_change(berlin, tomorrow("Europe/Berlin"))
    client = await make_client(parking_timezone="Europe/Berlin")
    body = await grid(client, auth(), change)
    for label, cell in zip(("08:00", "12:00", "16:00"), body["slots"]):
        start = datetime.fromisoformat(cell["start_time"])
        end = datetime.fromisoformat(cell["end_time"])
        assert start.strftime("%H:%M") == label
        assert end - start == timedelta(hours=4)
        # The offset is the one in force that afternoon, not the day before's.
        assert start.utcoffset() == datetime.combine(change, start.time(), berlin).utcoffset()
    offsets = {datetime.fromisoformat(c["start_time"]).utcoffset() for c in body["slots"]}
    day_before = await grid(client, auth(), change - timedelta(days=1))
    assert offsets != {datetime.fromisoformat(c["start_time"]).utcoffset() for c in day_before["slots"]}

    booked = await client.post("/reservations", json=slot_body(spot_ids[1], change, 0, "Europe/Berlin"), headers=auth())
    assert booked.status == 201
    assert states(await grid(client, auth(), change))[1][0] == "booked"


async def test_an_evening_slot_west_of_utc_belongs_to_its_local_day(make_client, auth, spot_ids):
    zone = "America/Los_Angeles"
    client = await make_client(parking_timezone=zone)
    day = tomorrow(zone)
    body = slot_body(spot_ids[2], day, 2, zone)
    # 16:00-20:00 in Los Angeles ends on the next UTC day.
    assert datetime.fromisoformat(body["end_time"]).astimezone(ZoneInfo("UTC")).date() == day + timedelta(days=1)
    assert (await client.post("/reservations", json=body, headers=auth())).status == 201
    assert states(await grid(client, auth(), day))[2] == ["available", "available", "booked"]
    assert states(await grid(client, auth(), day + timedelta(days=1)))[2] == ["available"] * 3


async def test_a_morning_slot_far_east_of_utc_belongs_to_its_local_day(make_client, auth, spot_ids):
    zone = "Pacific/Kiritimati"  # UTC+14: 08:00 local is 18:00 UTC the day before
    client = await make_client(parking_timezone=zone)
    day = tomorrow(zone) + timedelta(days=1)
    body = slot_body(spot_ids[3], day, 0, zone)
    assert datetime.fromisoformat(body["start_time"]).astimezone(ZoneInfo("UTC")).date() == day - timedelta(days=1)
    assert (await client.post("/reservations", json=body, headers=auth())).status == 201
    assert states(await grid(client, auth(), day))[3] == ["booked", "available", "available"]
    assert states(await grid(client, auth(), day - timedelta(days=1)))[3] == ["available"] * 3


async def test_the_lot_calendar_gives_the_lots_today_and_horizon_not_utcs(make_client, auth, db_conn):
    # The horizon is the attendant's rule, read on every request.
    await db_conn.execute("UPDATE lot_rules SET booking_horizon_days = 7")
    # +14 and -11 hours: for most of any UTC day, one of them is on another date.
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        client = await make_client(parking_timezone=zone)
        response = await client.get("/lot", headers=auth())
        assert response.status == 200
        body = await response.json()
        lot_today = today(ZoneInfo(zone))
        assert body == {
            "timezone": zone,
            "today": lot_today.isoformat(),
            "last_bookable_day": (lot_today + timedelta(days=7)).isoformat(),
            "slots": ["08:00–12:00", "12:00–16:00", "16:00–20:00"],
            # The limits the browser's forms show, read from here, not its own constants.
            "limits": {
                "max_reason": 200,
                "max_guest_name": 100,
                "max_licence_plate": 16,
                "max_vehicle_label": 40,
                "max_vehicles_per_driver": 3,
                "max_spot_number": 9999,
                "min_floor": -20,
                "max_floor": 200,
                "check_in_opens_minutes_before": 15,
            },
        }
