"""GET /metrics: Prometheus text behind METRICS_TOKEN, counters that move, and labels that never carry a secret."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from server.db import POOL
from server.errors import ApiError
from server.metrics import METHODS, METRICS, UNMATCHED
from server.sweeper import Sweeper
from tests.support import DRIVER1, DRIVER2, PASSWORD, open_socket, slot_body, tomorrow

METRICS_TOKEN = "metrics-token-for-tests-0123456789"
BEARER = {"Authorization": f"Bearer {METRICS_TOKEN}"}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(client: Any) -> Samples:
    response = await client.get("/metrics", headers=BEARER)
    assert response.status == 200
    assert response.content_type == "text/plain"
    return parse(await response.text())


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
async def metered(make_client: Any) -> Any:
    return await make_client(metrics_token=METRICS_TOKEN)


async def test_metrics_are_not_found_while_no_token_is_configured(client):
    response = await client.get("/metrics", headers=BEARER)
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": METRICS_TOKEN}],
    ids=["no header", "a wrong token", "no Bearer scheme"],
)
async def test_metrics_refuse_anything_but_the_metrics_token(metered, headers):
    response = await metered.get("/metrics", headers=headers)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert (await response.json())["error"]["code"] == "unauthorized"


async def test_a_session_token_does_not_open_the_metrics(metered, auth):
    assert (await metered.get("/metrics", headers=auth())).status == 401


async def test_counters_move_after_a_booking_a_refusal_and_sign_ins(metered, auth, spot_ids):
    before = await scrape(metered)
    body = slot_body(spot_ids[1], tomorrow())
    watcher = await open_socket(metered, "/ws", auth(DRIVER2)["Authorization"].removeprefix("Bearer "))
    assert (await metered.post("/reservations", json=body, headers=auth(DRIVER1))).status == 201
    assert (await metered.post("/reservations", json=body, headers=auth(DRIVER2))).status == 409
    good = {"email": DRIVER1, "password": PASSWORD}
    assert (await metered.post("/login", json=good)).status == 200
    assert (await metered.post("/login", json={**good, "password": "wrong"})).status == 401

    async def events_counted() -> bool:
        return value(await scrape(metered), "smart_parking_events_fanned_out_total") > value(
            before, "smart_parking_events_fanned_out_total"
        )

    async with asyncio.timeout(5):
        while not await events_counted():
            pass
    after = await scrape(metered)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("smart_parking_bookings_total") == 1
    assert moved("smart_parking_booking_refusals_total", code="slot_taken") == 1
    assert moved("smart_parking_logins_total", outcome="ok") == 1
    assert moved("smart_parking_logins_total", outcome="failed") == 1
    requests = "smart_parking_http_request_duration_seconds_count"
    assert moved(requests, route="/reservations", method="POST", status="201") == 1
    assert moved(requests, route="/reservations", method="POST", status="409") == 1
    assert moved(requests, route="/login", method="POST", status="401") == 1
    assert value(after, "smart_parking_websockets_open") == 1
    assert value(after, "smart_parking_db_pool_max_connections") == 10
    assert value(after, "smart_parking_db_pool_connections") >= 1
    await watcher.close()


async def test_the_sweeper_counts_its_releases_by_kind(metered, db_conn, user_ids, spot_ids):
    await db_conn.execute(
        "INSERT INTO reservations (user_id, spot_id, start_time, end_time) "
        "VALUES ($1, $2, now() - interval '5 hours', now() - interval '1 hour')",
        user_ids[DRIVER1], spot_ids[3],
    )
    sweeper = Sweeper(metered.app[POOL], 60, metrics=metered.app[METRICS])
    assert len(await sweeper.release_expired()) == 1
    samples = await scrape(metered)
    assert value(samples, "smart_parking_sweeper_releases_total", kind="expired") == 1
    assert value(samples, "smart_parking_sweeper_releases_total", kind="no_show") == 0


async def test_a_restored_listen_connection_is_counted(metered, db_conn):
    await db_conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'smart-parking-listener' AND datname = current_database()"
    )
    restored: list[float] = []

    async def counted() -> bool:
        restored.append(value(await scrape(metered), "smart_parking_listener_reconnects_total"))
        return restored[-1] >= 1

    async with asyncio.timeout(10):
        while not await counted():
            await asyncio.sleep(0.05)  # polling the scrape under a deadline


async def test_no_label_holds_an_id_a_key_an_email_or_a_token(metered, auth, user_ids):
    feed_key = "k" * 43
    token = auth(DRIVER1)["Authorization"]
    for path in (
        "/reservations/987654",
        f"/calendar/{feed_key}.ics",
        "/admin/reservations/987654/release",
        f"/nowhere/{DRIVER1}",
        f"/spots?date=2031-01-01&token={token}",
    ):
        await metered.get(path, headers=auth(DRIVER1))
    await metered.request("TRACE", "/spots", headers=auth(DRIVER1))
    await metered.post("/login", json={"email": DRIVER2, "password": "wrong"})
    samples = await scrape(metered)

    templates = {
        resource.canonical for resource in metered.app.router.resources()
    } | {UNMATCHED}
    allowed = {
        "route": templates,
        "method": METHODS | {"other"},
        "code": {cls.code for cls in _subclasses(ApiError)},
        "outcome": {"ok", "failed", "throttled", "busy", "error"},
        "kind": {"expired", "no_show"},
    }
    labels = {pair for _, pairs in samples for pair in pairs}
    assert {name for name, _ in labels} <= {*allowed, "status", "le"}
    for name, label in labels:
        if name in allowed:
            assert label in allowed[name], (name, label)
        elif name == "status":
            assert label.isdigit() and len(label) == 3
        else:
            assert label == "+Inf" or float(label) > 0
        assert "987654" not in label and "@" not in label and feed_key not in label
        assert token.removeprefix("Bearer ") not in label and METRICS_TOKEN not in label
    assert ("route", "/reservations/{id}") in labels and ("route", UNMATCHED) in labels
    assert ("method", "other") in labels


def _subclasses(cls: type) -> set[type]:
    direct = set(cls.__subclasses__())
    return direct.union(*(_subclasses(sub) for sub in direct)) | {cls}

