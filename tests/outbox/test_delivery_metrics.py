"""The dispatcher's figures in /metrics: deliveries by channel and outcome, and the outbox's backlog."""

from __future__ import annotations

import asyncio

from prometheus_client.parser import text_string_to_metric_families

from tests.support import ADMIN, DRIVER1, slot_body, tomorrow

METRICS_TOKEN = "metrics-token-for-tests-0123456789"


async def test_notification_deliveries_are_counted_by_channel_and_outcome(make_client, auth, spot_ids, user_ids):
    # No SMTP_HOST: the booked_for_you mail fails at once, and is counted so.
    metered = await make_client(metrics_token=METRICS_TOKEN)
    booked = await metered.post(
        "/admin/reservations",
        json={**slot_body(spot_ids[2], tomorrow()), "user_id": user_ids[DRIVER1]},
        headers=auth(ADMIN),
    )
    assert booked.status == 201

    async def samples() -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        response = await metered.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert response.status == 200
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(await response.text())
            for sample in family.samples
        }

    failed = ("smart_parking_notification_deliveries_total", frozenset({("channel", "email"), ("outcome", "failed")}))
    async with asyncio.timeout(10):
        while (figures := await samples()).get(failed, 0.0) < 1:
            await asyncio.sleep(0.05)
    assert figures[("smart_parking_outbox_pending", frozenset())] == 0
