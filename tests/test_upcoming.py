"""GET /reservations?upcoming=true: the caller's bookings not yet ended, soonest first, kept current."""

from __future__ import annotations

from datetime import timedelta

from server.db import POOL
from server.sweeper import Sweeper
from tests.support import ADMIN, DRIVER1, DRIVER2, slot_body, tomorrow

UPCOMING = "/reservations?upcoming=true"


async def upcoming(client, headers) -> list[tuple[int, str]]:
    answer = await client.get(UPCOMING, headers=headers)
    assert answer.status == 200
    return [(r["spot_number"], r["start_time"]) for r in (await answer.json())["reservations"]]


async def test_the_upcoming_list_is_soonest_first_and_follows_releases_sweeps_and_the_attendant(
    client, auth, spot_ids, db_conn, user_ids
):
    day = tomorrow()
    later = await client.post("/reservations", json=slot_body(spot_ids[2], day + timedelta(days=1)), headers=auth())
    soon = await client.post("/reservations", json=slot_body(spot_ids[3], day, 2), headers=auth())
    soonest = await client.post("/reservations", json=slot_body(spot_ids[4], day, 0), headers=auth())
    await client.post("/reservations", json=slot_body(spot_ids[5], day, 0), headers=auth(DRIVER2))
    # An ended booking the sweeper has not released yet is not upcoming.
    await db_conn.execute(
        "INSERT INTO reservations (user_id, spot_id, start_time, end_time) "
        "VALUES ($1, $2, now() - interval '5 hours', now() - interval '1 hour')",
        user_ids[DRIVER1], spot_ids[5],
    )
    ids = [(await r.json())["id"] for r in (soonest, soon, later)]
    listed = await (await client.get(UPCOMING, headers=auth())).json()
    assert [r["id"] for r in listed["reservations"]] == ids  # only the caller's, soonest first
    assert all(r["status"] == "booked" and r["series_id"] is None for r in listed["reservations"])

    await client.put(f"/reservations/{ids[1]}/complete", headers=auth())
    assert [n for n, _ in await upcoming(client, auth())] == [4, 2]
    released = await client.put(f"/admin/reservations/{ids[0]}/release", json={"reason": "Resurfacing"}, headers=auth(ADMIN))
    assert released.status == 200
    assert [n for n, _ in await upcoming(client, auth())] == [2]

    # The sweeper books a series' pending date once the horizon reaches it.
    await db_conn.execute("UPDATE lot_rules SET booking_horizon_days = 2")
    far = day + timedelta(days=4)
    made = await client.post(
        "/reservations/series",
        json={"weekdays": [far.isoweekday()], "slot": 1, "from": far.isoformat(), "until": far.isoformat()},
        headers=auth(),
    )
    assert [o["status"] for o in (await made.json())["occurrences"]] == ["pending"]
    assert len(await upcoming(client, auth())) == 1
    await db_conn.execute("UPDATE lot_rules SET booking_horizon_days = 10")
    assert await Sweeper(client.app[POOL], 60).book_due_occurrences() == 1
    assert [n for n, _ in await upcoming(client, auth())] == [2, 2]


async def test_upcoming_refuses_a_status_other_than_booked(client, auth):
    assert (await client.get(UPCOMING + "&status=booked", headers=auth())).status == 200
    answer = await client.get(UPCOMING + "&status=completed", headers=auth())
    assert answer.status == 422
    assert (await client.get(UPCOMING)).status == 401
