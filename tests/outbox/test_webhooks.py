"""Webhooks: the attendant's endpoints, signed calls (Standard Webhooks), retries and URL rules."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from server.webhooks import GuardedResolver, RefusedAddress
from tests.catchers import WebhookReceiver
from tests.support import ADMIN, DRIVER1, slot_body, tomorrow


async def register(client, auth, url, events=("*",)):
    response = await client.post("/admin/webhooks", json={"url": url, "events": list(events)}, headers=auth(ADMIN))
    assert response.status == 201, await response.text()
    return await response.json()


async def deliveries(client, auth, webhook_id):
    response = await client.get(f"/admin/webhooks/{webhook_id}/deliveries", headers=auth(ADMIN))
    assert response.status == 200
    return (await response.json())["deliveries"]


async def settled(client, auth, webhook_id, count, timeout=10.0):
    """The endpoint's deliveries once `count` exist and none is pending."""
    async with asyncio.timeout(timeout):
        while True:
            rows = await deliveries(client, auth, webhook_id)
            if len(rows) >= count and all(row["status"] != "pending" for row in rows):
                return rows
            await asyncio.sleep(0.05)


async def test_a_booking_reaches_a_subscribed_endpoint_signed(app, auth, spot_ids, user_ids):
    async with WebhookReceiver() as receiver:
        created = await register(app, auth, receiver.url, ["reservation.booked"])
        assert created["secret"].startswith("whsec_") and created["events"] == ["reservation.booked"]
        listed = await (await app.get("/admin/webhooks", headers=auth(ADMIN))).json()
        assert "secret" not in listed["webhooks"][0] and listed["failed_deliveries"] == 0

        booked = await app.post("/reservations", json=slot_body(spot_ids[2], tomorrow()), headers=auth(DRIVER1))
        reservation_id = (await booked.json())["id"]
        # Not subscribed: a release sends nothing.
        await app.put(f"/reservations/{reservation_id}/complete", headers=auth(DRIVER1))
        [call] = await receiver.wait_for(1)
        payload = Webhook(created["secret"]).verify(call.body, call.headers)
        assert payload["type"] == "reservation.booked"
        # The attendant's form of the event: who holds it, too.
        assert payload["data"]["reservation_id"] == reservation_id
        assert payload["data"]["holder"]["user_id"] == user_ids[DRIVER1]
        assert call.headers["webhook-id"].startswith("msg_")

        [row] = await settled(app, auth, created["id"], 1)
        assert (row["status"], row["attempts"], row["response_status"]) == ("delivered", 1, 200)
        assert len(receiver.calls) == 1

        # A tampered body, or a replay of an old timestamp, fails verification.
        with pytest.raises(WebhookVerificationError):
            Webhook(created["secret"]).verify(call.body.replace("booked", "released"), call.headers)
        old = {**call.headers, "webhook-timestamp": str(int(time.time()) - 3600)}
        with pytest.raises(WebhookVerificationError):
            Webhook(created["secret"]).verify(call.body, old)
        with pytest.raises(WebhookVerificationError):
            Webhook("whsec_" + "A" * 43 + "=").verify(call.body, call.headers)


async def test_an_endpoint_that_fails_twice_gets_the_same_id_and_ends_delivered(app, auth):
    async with WebhookReceiver(statuses=[500, 503]) as receiver:
        created = await register(app, auth, receiver.url, ["rules.changed"])
        assert (await app.put("/admin/rules", json={"reminder_minutes_before": 45}, headers=auth(ADMIN))).status == 200
        calls = await receiver.wait_for(3, timeout=20)
        assert len({call.headers["webhook-id"] for call in calls}) == 1
        assert json.loads(calls[2].body)["data"]["reminder_minutes_before"] == 45
        [row] = await settled(app, auth, created["id"], 1)
        assert (row["status"], row["attempts"], row["response_status"]) == ("delivered", 3, 200)


async def test_a_4xx_fails_at_once_and_the_desk_counts_it(app, auth):
    async with WebhookReceiver(statuses=[410]) as receiver:
        created = await register(app, auth, receiver.url, ["spot.created"])
        response = await app.post("/admin/spots", json={"spot_number": 77, "floor_number": 3}, headers=auth(ADMIN))
        assert response.status == 201
        [row] = await settled(app, auth, created["id"], 1)
        assert (row["status"], row["attempts"], row["response_status"]) == ("failed", 1, 410)
        assert row["next_attempt_at"] is None
        listed = await (await app.get("/admin/webhooks", headers=auth(ADMIN))).json()
        assert listed["failed_deliveries"] == 1 and listed["webhooks"][0]["failed_deliveries"] == 1
        assert len(receiver.calls) == 1


async def test_a_429_is_retried(app, auth):
    async with WebhookReceiver(statuses=[429]) as receiver:
        created = await register(app, auth, receiver.url, ["spot.created"])
        await app.post("/admin/spots", json={"spot_number": 78, "floor_number": 3}, headers=auth(ADMIN))
        [row] = await settled(app, auth, created["id"], 1, timeout=20)
        assert (row["status"], row["attempts"]) == ("delivered", 2)


async def test_a_redirect_is_not_followed(app, auth):
    async with WebhookReceiver(statuses=[302, 302, 302, 302, 302, 302, 302, 302, 302]) as receiver:
        created = await register(app, auth, receiver.url, ["spot.created"])
        await app.post("/admin/spots", json={"spot_number": 79, "floor_number": 3}, headers=auth(ADMIN))
        await receiver.wait_for(2, timeout=20)
        rows = await deliveries(app, auth, created["id"])
        assert rows[0]["response_status"] == 302


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/hook", "http:// or https://"),
        ("http://169.254.169.254/latest/meta-data", "link-local or metadata"),
        ("http://[fe80::1]/hook", "link-local or metadata"),
        ("http://[::ffff:169.254.10.1]/hook", "link-local or metadata"),
        ("http://user:pw@127.0.0.1/hook", "user name or password"),
        ("http://no-such-host.invalid/hook", "does not resolve"),
        ("http://127.0.0.1:99999/hook", "not a valid URL"),
    ],
)
async def test_a_refused_url_is_a_422(app, auth, url, message):
    response = await app.post("/admin/webhooks", json={"url": url, "events": ["*"]}, headers=auth(ADMIN))
    assert response.status == 422
    assert message in (await response.json())["error"]["message"]
    assert (await (await app.get("/admin/webhooks", headers=auth(ADMIN))).json())["webhooks"] == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/hook", "http://10.1.2.3/hook", "https://192.168.1.20/x", "http://localhost:8000/"])
async def test_loopback_and_private_networks_are_allowed(app, auth, url):
    await register(app, auth, url)


@pytest.mark.parametrize("events", [[], ["reservation.exploded"], "*", [1]])
async def test_bad_events_are_refused(app, auth, events):
    response = await app.post("/admin/webhooks", json={"url": "http://127.0.0.1/", "events": events}, headers=auth(ADMIN))
    assert response.status == 422


async def test_a_name_resolving_to_a_link_local_address_is_refused_at_call_time():
    resolver = GuardedResolver()
    try:
        with pytest.raises(RefusedAddress):
            await resolver.resolve("169.254.169.254", 80)
        assert (await resolver.resolve("127.0.0.1", 80))[0]["host"] == "127.0.0.1"
    finally:
        await resolver.close()


async def test_deleting_an_endpoint_and_the_routes_are_the_attendants(app, auth):
    created = await register(app, auth, "http://127.0.0.1:9/hook")
    assert (await app.get("/admin/webhooks", headers=auth(DRIVER1))).status == 403
    assert (await app.delete(f"/admin/webhooks/{created['id']}", headers=auth(ADMIN))).status == 204
    gone = await app.delete(f"/admin/webhooks/{created['id']}", headers=auth(ADMIN))
    assert gone.status == 404 and (await gone.json())["error"]["code"] == "webhook_not_found"
    assert (await app.get(f"/admin/webhooks/{created['id']}/deliveries", headers=auth(ADMIN))).status == 404
