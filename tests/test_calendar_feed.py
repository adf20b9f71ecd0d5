"""The private calendar feed: valid RFC 5545 at a secret URL, cheap to poll, and rotatable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar

from tests.support import DRIVER1, DRIVER2, slot_body, tomorrow


async def feed_path(client, headers) -> str:
    response = await client.post("/me/calendar", headers=headers)
    assert response.status == 201
    body = await response.json()
    assert body["url"].endswith(body["path"]) and body["url"].startswith("http")
    return body["path"]


async def test_the_feed_holds_recent_and_future_bookings_with_stable_uids(client, auth, db_conn, user_ids, spot_ids):
    kept = await (await client.post("/reservations", json=slot_body(spot_ids[3], tomorrow(), 1), headers=auth(DRIVER1))).json()
    released = await (await client.post("/reservations", json=slot_body(spot_ids[4], tomorrow(), 2), headers=auth(DRIVER1))).json()
    await client.put(f"/reservations/{released['id']}/complete", headers=auth(DRIVER1))
    await client.post("/reservations", json=slot_body(spot_ids[5], tomorrow(), 0), headers=auth(DRIVER2))
    old, recent = await db_conn.fetch(
        """
        INSERT INTO reservations (user_id, spot_id, start_time, end_time, status, completed_at, released_by)
        VALUES ($1, $2, now() - interval '40 days', now() - interval '40 days' + interval '4 hours',
                'completed', now() - interval '40 days' + interval '4 hours', 'expired'),
               ($1, $2, now() - interval '10 days', now() - interval '10 days' + interval '4 hours',
                'completed', now() - interval '10 days' + interval '4 hours', 'expired')
        RETURNING id
        """,
        user_ids[DRIVER1], spot_ids[2],
    )
    path = await feed_path(client, auth(DRIVER1))
    response = await client.get(path)
    assert response.status == 200
    assert response.content_type == "text/calendar" and response.charset == "utf-8"
    text = await response.text()

    calendar = icalendar.Calendar.from_ical(text)
    events = {str(event["UID"]): event for event in calendar.walk("VEVENT")}
    # The last 30 days and all future ones: not the 40-day-old one, nor driver 2's.
    assert set(events) == {f"reservation-{i}@smart-parking" for i in (kept["id"], released["id"], recent["id"])}
    event = events[f"reservation-{kept['id']}@smart-parking"]
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event.decoded("DTSTART") == datetime.fromisoformat(kept["start_time"]).astimezone(UTC)
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert "DTSTART:" in text and "Z\r\n" in text  # UTC form, CRLF line endings
    assert str(event["SUMMARY"]) == "Parking spot #3, floor 1"
    assert "floor 1" in str(event["LOCATION"]).lower() and "3" in str(event["LOCATION"])
    assert str(events[f"reservation-{released['id']}@smart-parking"]["STATUS"]) == "CANCELLED"
    assert str(events[f"reservation-{recent['id']}@smart-parking"]["STATUS"]) == "CONFIRMED"
    assert old["id"] not in {int(uid.split("-")[1].split("@")[0]) for uid in events}

    # The same data renders the same bytes: UIDs, DTSTAMPs and all.
    assert await (await client.get(path)).text() == text


async def test_a_matching_etag_gets_a_304(client, auth, spot_ids):
    path = await feed_path(client, auth(DRIVER1))
    first = await client.get(path)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    unchanged = await client.get(path, headers={"If-None-Match": etag})
    assert (unchanged.status, unchanged.headers["ETag"], await unchanged.read()) == (304, etag, b"")
    await client.post("/reservations", json=slot_body(spot_ids[1], tomorrow()), headers=auth(DRIVER1))
    changed = await client.get(path, headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag


async def test_rotating_kills_the_old_url_at_once(client, auth):
    old = await feed_path(client, auth(DRIVER1))
    new = await feed_path(client, auth(DRIVER1))
    assert old != new
    gone = await client.get(old)
    assert (gone.status, (await gone.json())["error"]["code"]) == (404, "not_found")
    assert (await client.get(new)).status == 200


async def test_an_unknown_key_is_a_404_and_the_feed_needs_no_token(client):
    response = await client.get("/calendar/" + "A" * 43 + ".ics")
    assert (response.status, (await response.json())["error"]["code"]) == (404, "not_found")
