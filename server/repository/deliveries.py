"""The outbox (deliveries): claiming due mail and webhook calls, recording outcomes; webhooks.

Rows are written by the database itself, in the transaction of the change
that causes them (queue_webhooks_for_change and notification_created in
db/migrations/*_create_notifications_and_outbox.sql).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from ..db import Db
from ..errors import WebhookNotFound
from .audit import acting_as

# SKIP LOCKED: instances claiming at once each take different rows. The claim
# moves next_attempt_at on by a lease longer than any send's timeout and
# commits, so the send happens outside any transaction; if this process dies
# before it records the outcome, the row is due again once the lease ends, and
# any instance resends it (at least once, never lost).
CLAIM_DUE = """
WITH due AS (
    SELECT id FROM deliveries
    WHERE status = 'pending' AND next_attempt_at <= now()
    ORDER BY next_attempt_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
),
claimed AS (
    UPDATE deliveries d
    SET attempts = d.attempts + 1, next_attempt_at = now() + $2::interval
    FROM due WHERE d.id = due.id
    RETURNING d.*
)
SELECT c.id, c.channel, c.attempts, c.event_type, c.payload, c.created_at,
       n.id AS notification_id, n.kind, n.data, n.created_at AS notification_created_at,
       u.email, u.display_name, w.url, w.secret
FROM claimed c
LEFT JOIN notifications n ON n.id = c.notification_id
LEFT JOIN users u ON u.id = n.user_id
LEFT JOIN webhook_endpoints w ON w.id = c.webhook_id
ORDER BY c.id
"""

RECORD_DELIVERED = """
UPDATE deliveries
SET status = 'delivered', delivered_at = now(), response_status = $2, last_error = NULL
WHERE id = $1
"""

RECORD_RETRY = """
UPDATE deliveries
SET next_attempt_at = now() + $2::interval, response_status = $3, last_error = $4
WHERE id = $1 AND status = 'pending'
"""

RECORD_FAILED = """
UPDATE deliveries
SET status = 'failed', response_status = $2, last_error = $3
WHERE id = $1 AND status = 'pending'
"""

FORGET_FINISHED = """
DELETE FROM deliveries WHERE status <> 'pending' AND created_at < now() - $1::interval
"""

_ENDPOINT = "id, url, events, created_at"

CREATE_WEBHOOK = f"""
INSERT INTO webhook_endpoints (url, events, secret, created_by)
VALUES ($1, $2, $3, $4)
RETURNING {_ENDPOINT}, secret
"""

LIST_WEBHOOKS = f"""
SELECT {", ".join("w." + c.strip() for c in _ENDPOINT.split(","))},
       count(d.id) FILTER (WHERE d.status = 'failed') AS failed_deliveries
FROM webhook_endpoints w LEFT JOIN deliveries d ON d.webhook_id = w.id
GROUP BY w.id ORDER BY w.id
"""

DELETE_WEBHOOK = "DELETE FROM webhook_endpoints WHERE id = $1 RETURNING id"

LIST_WEBHOOK_DELIVERIES = """
SELECT d.id, d.event_type, d.status, d.attempts, d.response_status, d.next_attempt_at,
       d.created_at, d.last_error
FROM deliveries d
WHERE d.webhook_id = $1 AND EXISTS (SELECT 1 FROM webhook_endpoints w WHERE w.id = $1)
ORDER BY d.id DESC
LIMIT $2
"""

WEBHOOK_EXISTS = "SELECT 1 FROM webhook_endpoints WHERE id = $1"

COUNT_FAILED = "SELECT count(*) FROM deliveries WHERE status = 'failed' AND channel = $1"
COUNT_PENDING = "SELECT count(*) FROM deliveries WHERE status = 'pending'"


async def claim_due(db: Db, *, limit: int, lease: timedelta) -> list[dict[str, Any]]:
    rows = []
    for record in await db.fetch(CLAIM_DUE, limit, lease):
        row = dict(record)
        for name in ("payload", "data"):
            if row[name] is not None:
                row[name] = json.loads(row[name])
        rows.append(row)
    return rows


async def record_delivered(db: Db, *, delivery_id: int, response_status: int | None) -> None:
    await db.execute(RECORD_DELIVERED, delivery_id, response_status)


async def record_retry(
    db: Db, *, delivery_id: int, delay: timedelta, response_status: int | None, error: str
) -> None:
    await db.execute(RECORD_RETRY, delivery_id, delay, response_status, error[:500])


async def record_failed(
    db: Db, *, delivery_id: int, response_status: int | None, error: str
) -> None:
    await db.execute(RECORD_FAILED, delivery_id, response_status, error[:500])


async def forget_finished(db: Db, *, older_than: timedelta) -> int:
    status = await db.execute(FORGET_FINISHED, older_than)
    return int(status.split()[-1])


async def create_webhook(
    db: Db, *, url: str, events: list[str], secret: str, created_by: int
) -> dict[str, Any]:
    # The audit trigger on webhook_endpoints records it, credited to created_by.
    async with acting_as(db, created_by) as conn:
        return dict(await conn.fetchrow(CREATE_WEBHOOK, url, events, secret, created_by))


async def list_webhooks(db: Db) -> list[dict[str, Any]]:
    return [dict(r) for r in await db.fetch(LIST_WEBHOOKS)]


async def delete_webhook(db: Db, *, webhook_id: int, actor_id: int) -> None:
    """Delete the endpoint; its pending deliveries go with it. The audit trigger records it."""
    async with acting_as(db, actor_id) as conn:
        if await conn.fetchval(DELETE_WEBHOOK, webhook_id) is None:
            raise WebhookNotFound(f"Webhook {webhook_id} was not found.")


async def list_webhook_deliveries(
    db: Db, *, webhook_id: int, limit: int = 100
) -> list[dict[str, Any]]:
    rows = await db.fetch(LIST_WEBHOOK_DELIVERIES, webhook_id, limit)
    if not rows and await db.fetchval(WEBHOOK_EXISTS, webhook_id) is None:
        raise WebhookNotFound(f"Webhook {webhook_id} was not found.")
    return [dict(r) for r in rows]


async def count_failed(db: Db, *, channel: str) -> int:
    return await db.fetchval(COUNT_FAILED, channel)


async def count_pending(db: Db) -> int:
    """Deliveries not yet delivered or failed, queued by any instance (served by deliveries_due_idx)."""
    return int(await db.fetchval(COUNT_PENDING))
