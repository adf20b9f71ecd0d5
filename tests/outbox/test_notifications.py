"""What a driver is told, by inbox and mail, from the outbox: who gets what, and only once."""

from __future__ import annotations

import asyncio
import time

import pytest

from server.sweeper import Sweeper
from tests.catchers import SilentSmtpServer
from tests.support import ADMIN, DRIVER1, DRIVER2, next_of_type, open_socket, slot_body, tomorrow


async def book(client, auth, spot_id, email=DRIVER1, index=0, day=None):
    response = await client.post(
        "/reservations", json=slot_body(spot_id, day or tomorrow(), index), headers=auth(email)
    )
    assert response.status == 201, await response.text()
    return (await response.json())["id"]


async def release(client, auth, reservation_id, reason="Resurfacing the ramp"):
    response = await client.put(
        f"/admin/reservations/{reservation_id}/release", json={"reason": reason}, headers=auth(ADMIN)
    )
    assert response.status == 200, await response.text()


async def inbox(client, auth, email=DRIVER1, query=""):
    response = await client.get(f"/me/notifications{query}", headers=auth(email))
    assert response.status == 200, await response.text()
    return await response.json()


def parts(message):
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html


async def test_an_attendants_release_sends_the_driver_one_mail_and_one_inbox_row(app, auth, mail, spot_ids):
    reservation_id = await book(app, auth, spot_ids[3])
    await release(app, auth, reservation_id, reason="Resurfacing <the> ramp")

    [message] = await mail.wait_for(1)
    assert message["To"] == DRIVER1
    assert message["Subject"] == "The attendant released your booking"
    assert message["Message-ID"].startswith("<notification-")
    assert message["From"] == "Smart Parking <parking@localhost>"
    text, html = parts(message)
    day = tomorrow()
    when = f"{day:%A} {day.day} {day:%B %Y}, 08:00–12:00"
    assert f"Spot #3 (floor 1) on {when}" in text
    assert "Reason: Resurfacing <the> ramp" in text
    assert "http://127.0.0.1:8080/" in text and "token" not in text.lower()
    # HTML is escaped text: the reason cannot inject markup.
    assert "Resurfacing &lt;the&gt; ramp" in html and '<a href="http://127.0.0.1:8080/">' in html

    body = await inbox(app, auth)
    assert body["unread_count"] == 1
    [row] = body["notifications"]
    assert row["kind"] == "booking_released" and row["reservation_id"] == reservation_id
    assert row["title"] == message["Subject"] and "Resurfacing <the> ramp" in row["body"]
    assert row["read_at"] is None
    assert (await inbox(app, auth, DRIVER2))["notifications"] == []
    # Nothing else went out, to anyone.
    assert len(mail.messages) == 1


async def test_nobody_is_told_of_their_own_release_nor_of_a_walk_in(app, auth, mail, spot_ids, user_ids):
    own = await book(app, auth, spot_ids[2])
    assert (await app.put(f"/reservations/{own}/complete", headers=auth(DRIVER1))).status == 200
    walk_in = await app.post(
        "/admin/reservations",
        json={**slot_body(spot_ids[4], tomorrow()), "guest": {"name": "Ada", "licence_plate": "AB1"}},
        headers=auth(ADMIN),
    )
    await release(app, auth, (await walk_in.json())["id"])
    # A release that is told, after the two that are not: when its mail is in, they would be too.
    await release(app, auth, await book(app, auth, spot_ids[5], DRIVER2))
    [message] = await mail.wait_for(1)
    assert message["To"] == DRIVER2
    assert (await inbox(app, auth))["notifications"] == []


async def test_a_closure_tells_each_released_driver_its_reason(app, auth, mail, spot_ids):
    await book(app, auth, spot_ids[1], DRIVER1, index=0)
    await book(app, auth, spot_ids[1], DRIVER2, index=1)
    day = tomorrow()
    closure = await app.post(
        "/admin/closures",
        json={
            "spot_id": spot_ids[1],
            "start_time": slot_body(spot_ids[1], day, 0)["start_time"],
            "end_time": slot_body(spot_ids[1], day, 2)["end_time"],
            "reason": "Painting the lines",
        },
        headers=auth(ADMIN),
    )
    assert closure.status == 201
    messages = await mail.wait_for(2)
    assert sorted(m["To"] for m in messages) == [DRIVER1, DRIVER2]
    for message in messages:
        assert message["Subject"] == "Your booking was released: the spot is closed"
        assert "Reason: Painting the lines" in parts(message)[0]


async def test_a_no_show_release_names_the_grace_period(app, auth, mail, spot_ids, db_conn, settings):
    reservation_id = await book(app, auth, spot_ids[2])
    await db_conn.execute("UPDATE lot_rules SET no_show_grace_minutes = 10")
    await db_conn.execute(
        "UPDATE reservations SET start_time = now() - interval '20 minutes',"
        " end_time = now() + interval '3 hours', created_at = now() - interval '1 hour' WHERE id = $1",
        reservation_id,
    )
    await Sweeper(db_conn, 60).release_no_shows()
    [message] = await mail.wait_for(1)
    assert message["Subject"] == "Your booking was released: nobody checked in"
    assert "Nobody checked in within 10 minutes of the start" in parts(message)[0]


async def test_a_booking_by_the_attendant_tells_the_driver(app, auth, mail, spot_ids, user_ids):
    response = await app.post(
        "/admin/reservations",
        json={**slot_body(spot_ids[4], tomorrow(), 2), "user_id": user_ids[DRIVER2]},
        headers=auth(ADMIN),
    )
    assert response.status == 201
    [message] = await mail.wait_for(1)
    assert message["To"] == DRIVER2
    assert message["Subject"] == "The attendant booked a spot for you"
    assert "Spot #4 (floor 2)" in parts(message)[0] and "16:00–20:00" in parts(message)[0]
    [row] = (await inbox(app, auth, DRIVER2))["notifications"]
    assert row["kind"] == "booked_for_you"


class Abandon(Exception):
    """Raised to roll a transaction back."""


async def test_a_rolled_back_change_leaves_no_notification(app, auth, spot_ids, db_conn):
    reservation_id = await book(app, auth, spot_ids[3])
    with pytest.raises(Abandon):
        async with db_conn.transaction():
            await db_conn.execute(
                "UPDATE reservations SET status = 'completed', completed_at = now(),"
                " released_by = 'admin', release_reason = 'x' WHERE id = $1",
                reservation_id,
            )
            # Written in the change's own transaction...
            assert await db_conn.fetchval("SELECT count(*) FROM deliveries") == 1
            raise Abandon
    # ...and gone with it.
    assert await db_conn.fetchval("SELECT count(*) FROM notifications") == 0
    assert await db_conn.fetchval("SELECT count(*) FROM deliveries") == 0


async def test_the_inbox_pages_newest_first_and_marks_read_up_to_an_id(app, auth, spot_ids):
    for index in range(3):
        await release(app, auth, await book(app, auth, spot_ids[2], index=index), reason=f"R{index}")
    body = await inbox(app, auth, query="?limit=2")
    assert body["unread_count"] == 3
    newest, second = body["notifications"]
    assert newest["id"] > second["id"] and newest["body"].endswith("Reason: R2")
    [oldest] = (await inbox(app, auth, query=f"?before={second['id']}"))["notifications"]
    assert oldest["body"].endswith("Reason: R0")

    marked = await app.post("/me/notifications/read", json={"up_to": second["id"]}, headers=auth(DRIVER1))
    assert marked.status == 200 and await marked.json() == {"unread_count": 1}
    rows = (await inbox(app, auth))["notifications"]
    assert [row["read_at"] is None for row in rows] == [True, False, False]
    # Another driver's "read all" touches nothing of driver1's.
    assert await (await app.post("/me/notifications/read", json={}, headers=auth(DRIVER2))).json() == {
        "unread_count": 0
    }
    assert (await inbox(app, auth))["unread_count"] == 1
    everything = await app.post("/me/notifications/read", json={}, headers=auth(DRIVER1))
    assert await everything.json() == {"unread_count": 0}


@pytest.mark.parametrize(
    ("query", "message"),
    [("?limit=0", "'limit'"), ("?limit=101", "'limit'"), ("?before=x", "'before'"), ("?limit=-1", "'limit'")],
)
async def test_a_bad_inbox_query_is_a_422(app, auth, query, message):
    response = await app.get(f"/me/notifications{query}", headers=auth(DRIVER1))
    assert response.status == 422
    assert message in (await response.json())["error"]["message"]


async def test_the_new_notification_reaches_the_drivers_own_sockets_only(app, auth, tokens, spot_ids, user_ids):
    from server.repository.users import User

    def token(email):
        return tokens.issue(User(user_ids[email], email, email, "driver"))

    url = app.make_url("/ws")
    mine = await open_socket(app.session, url, token(DRIVER1))
    other = await open_socket(app.session, url, token(DRIVER2))
    attendant = await open_socket(app.session, url, token(ADMIN))
    await release(app, auth, await book(app, auth, spot_ids[3]), reason="Ramp")
    message = await next_of_type(mine, "notification.created", timeout=3)
    assert message["notification"]["kind"] == "booking_released"
    assert message["notification"]["body"].endswith("Reason: Ramp")
    assert set(message["notification"]) == {
        "id", "kind", "title", "body", "reservation_id", "created_at", "read_at",
    }
    # The others saw the release itself, and no notification: it is the next thing they get.
    for ws in (other, attendant):
        await next_of_type(ws, "reservation.released", timeout=3)
    await release(app, auth, await book(app, auth, spot_ids[4]), reason="Second")
    for ws in (other, attendant):
        booked = await next_of_type(ws, "reservation.booked", timeout=3)
        assert booked["type"] == "reservation.booked"
        released = await next_of_type(ws, "reservation.released", timeout=3)
        assert released["type"] == "reservation.released"
    await next_of_type(mine, "notification.created", timeout=3)
    for ws in (mine, other, attendant):
        await ws.close()


async def test_mail_off_still_fills_the_inbox_and_reminders_off_stops_them(app, auth, mail, spot_ids, db_conn):
    assert await (await app.get("/me/notification-settings", headers=auth(DRIVER1))).json() == {
        "email": True, "reminders": True,
    }
    changed = await app.put("/me/notification-settings", json={"email": False}, headers=auth(DRIVER1))
    assert await changed.json() == {"email": False, "reminders": True}
    await release(app, auth, await book(app, auth, spot_ids[3]))
    await release(app, auth, await book(app, auth, spot_ids[4], DRIVER2))
    [message] = await mail.wait_for(1)
    assert message["To"] == DRIVER2
    assert len((await inbox(app, auth))["notifications"]) == 1

    await app.put("/me/notification-settings", json={"reminders": False}, headers=auth(DRIVER1))
    await book_due_for_a_reminder(app, auth, spot_ids[5], db_conn, DRIVER1)
    assert await Sweeper(db_conn, 60).queue_reminders() == 0


@pytest.mark.parametrize(
    "body", [{}, {"email": "yes"}, {"email": None}, {"sms": True}, {"email": True, "push": False}]
)
async def test_bad_notification_settings_are_refused_and_change_nothing(app, auth, body):
    response = await app.put("/me/notification-settings", json=body, headers=auth(DRIVER1))
    assert response.status == 422
    assert await (await app.get("/me/notification-settings", headers=auth(DRIVER1))).json() == {
        "email": True, "reminders": True,
    }


async def book_due_for_a_reminder(app, auth, spot_id, db_conn, email=DRIVER1):
    """A booking made a day ago for a slot that starts in 20 minutes (the default rule: 30)."""
    reservation_id = await book(app, auth, spot_id, email)
    await db_conn.execute(
        "UPDATE reservations SET start_time = now() + interval '20 minutes',"
        " end_time = now() + interval '4 hours', created_at = now() - interval '1 day' WHERE id = $1",
        reservation_id,
    )
    return reservation_id


async def test_a_reminder_goes_once_however_many_sweepers_race(app, auth, mail, spot_ids, db_conn, reset_db):
    import asyncpg

    reservation_id = await book_due_for_a_reminder(app, auth, spot_ids[2], db_conn)
    await db_conn.execute("UPDATE lot_rules SET no_show_grace_minutes = 15")
    pools = [await asyncpg.create_pool(reset_db, min_size=1, max_size=2) for _ in range(2)]
    try:
        counts = await asyncio.gather(*(Sweeper(pool, 60).queue_reminders() for pool in pools * 2))
    finally:
        for pool in pools:
            await pool.close()
    # The app's own sweeper is a fifth racer: it may have queued the one reminder.
    assert sorted(counts) in ([0, 0, 0, 0], [0, 0, 0, 1])
    assert await db_conn.fetchval("SELECT count(*) FROM notifications WHERE kind = 'reminder'") == 1
    [message] = await mail.wait_for(1)
    assert message["Subject"].startswith("Your booking starts at ")
    text = parts(message)[0]
    assert "Reminder: you have booked Spot #2 (floor 1)" in text
    assert "Check in by " in text
    [row] = (await inbox(app, auth))["notifications"]
    assert (row["kind"], row["reservation_id"]) == ("reminder", reservation_id)
    assert await Sweeper(db_conn, 60).queue_reminders() == 0


async def test_a_booking_made_after_its_reminder_time_gets_none(app, auth, spot_ids, db_conn):
    reservation_id = await book(app, auth, spot_ids[2])
    await db_conn.execute(
        "UPDATE reservations SET start_time = now() + interval '20 minutes',"
        " end_time = now() + interval '4 hours' WHERE id = $1",
        reservation_id,
    )
    assert await Sweeper(db_conn, 60).queue_reminders() == 0
    await db_conn.execute("UPDATE lot_rules SET reminder_minutes_before = 0")
    await book_due_for_a_reminder(app, auth, spot_ids[3], db_conn, DRIVER2)
    assert await Sweeper(db_conn, 60).queue_reminders() == 0


async def test_the_monthly_summary_run_twice_sends_one_mail_per_driver(app, auth, mail, spot_ids, db_conn, user_ids):
    # Two of driver1's bookings and one of driver2's in November 2026; one no-show.
    for email, spot, start, released_by in [
        (DRIVER1, 2, "2026-11-03 08:00+00", "expired"),
        (DRIVER1, 2, "2026-11-10 08:00+00", "no_show"),
        (DRIVER2, 4, "2026-11-12 12:00+00", "expired"),
        (DRIVER1, 3, "2026-12-01 08:00+00", "expired"),  # December: not counted
    ]:
        await db_conn.execute(
            "INSERT INTO reservations (user_id, spot_id, start_time, end_time, status, completed_at, released_by)"
            " VALUES ($1, $2, $3::text::timestamptz, $3::text::timestamptz + interval '4 hours', 'completed', now(), $4)",
            user_ids[email], spot_ids[spot], start, released_by,
        )  # fmt: skip
    first = await app.post("/admin/notifications/monthly-summary", json={"month": "2026-11"}, headers=auth(ADMIN))
    assert first.status == 202 and await first.json() == {"month": "2026-11", "queued": 2}
    again = await app.post("/admin/notifications/monthly-summary", json={"month": "2026-11"}, headers=auth(ADMIN))
    assert await again.json() == {"month": "2026-11", "queued": 0}
    messages = await mail.wait_for(2)
    mine = {m["To"]: m for m in messages}
    assert mine[DRIVER1]["Subject"] == "Your parking in November 2026"
    assert (
        "In November 2026 you had 2 bookings, parked for 4 hours, and missed 1 booking (no-shows)."
        " The spot you used most: #2." in parts(mine[DRIVER1])[0]
    )
    assert "1 booking, parked for 4 hours, and missed 0 bookings" in parts(mine[DRIVER2])[0]
    refused = await app.post("/admin/notifications/monthly-summary", json={"month": "2026-13"}, headers=auth(ADMIN))
    assert refused.status == 422
    driver = await app.post("/admin/notifications/monthly-summary", json={"month": "2026-11"}, headers=auth(DRIVER1))
    assert driver.status == 403
    assert len(mail.messages) == 2


async def test_without_smtp_host_no_mail_is_sent_and_the_start_says_so_once(make_client, auth, spot_ids, caplog, db_conn):
    caplog.set_level("INFO", logger="server.app")
    client = await make_client()
    lines = [m for m in caplog.messages if "Mail is off" in m]
    assert lines == ["Mail is off (SMTP_HOST is unset): notifications reach the inbox only"]
    await release(client, auth, await book(client, auth, spot_ids[3]))
    assert len((await inbox(client, auth))["notifications"]) == 1
    # The mail is marked failed at once, never left to pile up for a later SMTP_HOST.
    async with asyncio.timeout(5):
        while await db_conn.fetchval("SELECT status FROM deliveries WHERE channel = 'email'") != "failed":
            await asyncio.sleep(0.02)


async def test_a_hanging_smtp_server_delays_no_booking(make_client, auth, spot_ids, db_conn):
    async with SilentSmtpServer() as silent:
        client = await make_client(smtp_host="127.0.0.1", smtp_port=silent.port, smtp_tls="none")
        await release(client, auth, await book(client, auth, spot_ids[2]))
        async with asyncio.timeout(5):
            while silent.connections == 0:
                await asyncio.sleep(0.02)
        # The dispatcher is stuck in a send; bookings and releases do not wait for it.
        started = time.monotonic()
        for index in range(3):
            await release(client, auth, await book(client, auth, spot_ids[3], index=index))
        assert time.monotonic() - started < 3
        assert await db_conn.fetchval("SELECT count(*) FROM deliveries WHERE status = 'pending'") == 4


async def test_the_sweeper_forgets_inbox_rows_after_90_days(app, auth, spot_ids, db_conn):
    for index in range(2):
        await release(app, auth, await book(app, auth, spot_ids[2], index=index), reason=f"R{index}")
    old = await db_conn.fetchval("SELECT min(id) FROM notifications")
    await db_conn.execute("UPDATE notifications SET created_at = now() - interval '91 days' WHERE id = $1", old)
    await Sweeper(db_conn, 60).forget_old_notifications()
    [kept] = (await inbox(app, auth))["notifications"]
    assert kept["id"] != old and kept["body"].endswith("Reason: R1")
