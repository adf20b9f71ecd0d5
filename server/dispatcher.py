"""The dispatcher: every instance's task that delivers the outbox (mail and webhooks)."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from . import notices, repository
from .db import Db
from .errors import DATABASE_DOWN_ERRORS, DeliveryFailed
from .mailer import SEND_TIMEOUT_SECONDS, Mailer
from .metrics import Metrics
from .webhooks import CALL_TIMEOUT_SECONDS, WebhookSender

log = logging.getLogger(__name__)

# Set when deliveries may be due (the listener saw an event); the dispatcher waits on it.
DELIVERIES_DUE = web.AppKey("deliveries_due", asyncio.Event)

# Seconds to wait after each failed attempt, before jitter: the first retry
# within 15 s, then slower; after the last, the delivery is failed, about a
# day (22 h at most) after the first attempt.
RETRY_DELAYS = (15, 60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600)

# A claimed row is due again after this, if the process that claimed it died
# before recording the outcome: longer than any send may take.
LEASE = timedelta(seconds=2 * max(SEND_TIMEOUT_SECONDS, CALL_TIMEOUT_SECONDS))


def retry_delay(attempts: int, scale: float = 1.0) -> timedelta | None:
    """How long to wait after the `attempts`-th failure; None: give up."""
    if attempts > len(RETRY_DELAYS):
        return None
    # Jitter, so deliveries that failed together do not retry together.
    return timedelta(seconds=RETRY_DELAYS[attempts - 1] * random.uniform(0.5, 1.0) * scale)


class Dispatcher:
    """Claims due deliveries and sends them, at most `concurrency` at a time.

    Woken by every event the listener forwards (a change that queued
    deliveries is published in the same transaction), with a poll as a
    backstop for retries and for events this process missed.
    """

    def __init__(
        self,
        pool: Db,
        *,
        mailer: Mailer | None,
        webhooks: WebhookSender,
        wake: asyncio.Event,
        tz: ZoneInfo,
        mail_from: str,
        base_url: str,
        concurrency: int = 20,
        poll_seconds: float = 5.0,
        retry_scale: float = 1.0,
        metrics: Metrics | None = None,
    ) -> None:
        self._pool = pool
        self._mailer = mailer
        self._webhooks = webhooks
        self._wake = wake
        self._tz = tz
        self._mail_from = mail_from
        self._base_url = base_url
        self._concurrency = concurrency
        self._poll = poll_seconds
        self._retry_scale = retry_scale
        self._metrics = metrics or Metrics.disabled()
        if self._metrics.enabled:
            # The outbox is shared: its backlog is the database's to count, at each scrape.
            self._metrics.refresh_on_scrape(self._count_pending)
        self._sending: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        try:
            while True:
                self._wake.clear()
                free = self._concurrency - len(self._sending)
                claimed: list[dict[str, Any]] = []
                if free > 0:
                    try:
                        claimed = await repository.deliveries.claim_due(
                            self._pool, limit=free, lease=LEASE
                        )
                    except DATABASE_DOWN_ERRORS as exc:
                        # Keep going, on the poll; the pool reconnects.
                        log.warning("Claiming deliveries failed, the database is unavailable: %r", exc)
                    except Exception:
                        log.exception("Claiming deliveries failed")
                for row in claimed:
                    task = asyncio.create_task(self._deliver(row), name=f"delivery-{row['id']}")
                    self._sending.add(task)
                    task.add_done_callback(self._sent)
                if claimed and len(claimed) == free:
                    continue  # there may be more: claim again once a send ends
                try:
                    async with asyncio.timeout(self._poll):
                        await self._wake.wait()
                except TimeoutError:
                    pass
        finally:
            # Unrecorded sends are claimed again when their lease ends.
            for task in self._sending:
                task.cancel()
            await asyncio.gather(*self._sending, return_exceptions=True)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._wake.set()  # a slot is free

    async def _deliver(self, row: dict[str, Any]) -> None:
        # If the outcome cannot be recorded, the lease brings the row back and
        # it is sent again, with the same id.
        try:
            await self._attempt(row)
        except DATABASE_DOWN_ERRORS as exc:
            log.warning("Delivery %d: could not record the outcome: %r", row["id"], exc)
        except Exception:
            log.exception("Delivery %d: could not record the outcome", row["id"])

    async def _count_pending(self) -> None:
        self._metrics.outbox_pending.set(await repository.deliveries.count_pending(self._pool))

    async def _attempt(self, row: dict[str, Any]) -> None:
        try:
            status = await self._send(row)
        except DeliveryFailed as exc:
            await self._record_failure(row, exc)
        except Exception as exc:  # a bug must not lose the row: it is retried
            log.exception("Delivery %d failed unexpectedly", row["id"])
            await self._record_failure(row, DeliveryFailed(repr(exc), permanent=False))
        else:
            await repository.deliveries.record_delivered(
                self._pool, delivery_id=row["id"], response_status=status
            )
            self._metrics.deliveries.labels(row["channel"], "delivered").inc()

    async def _send(self, row: dict[str, Any]) -> int | None:
        if row["channel"] == "webhook":
            return await self._webhooks.send(
                url=row["url"], secret=row["secret"], delivery_id=row["id"], payload=row["payload"]
            )
        if self._mailer is None:
            raise DeliveryFailed("mail is off (SMTP_HOST is unset)", permanent=True)
        message = notices.mail(
            {**row, "created_at": row["notification_created_at"]},
            mail_from=self._mail_from,
            base_url=self._base_url,
            tz=self._tz,
        )
        await self._mailer.send(message)
        return None

    async def _record_failure(self, row: dict[str, Any], failure: DeliveryFailed) -> None:
        delay = None if failure.permanent else retry_delay(row["attempts"], self._retry_scale)
        if delay is None:
            log.warning(
                "Delivery %d (%s) failed after %d attempts: %s",
                row["id"], row["channel"], row["attempts"], failure,
            )  # fmt: skip
            await repository.deliveries.record_failed(
                self._pool, delivery_id=row["id"], response_status=failure.status, error=str(failure)
            )
            self._metrics.deliveries.labels(row["channel"], "failed").inc()
            return
        log.info(
            "Delivery %d (%s) attempt %d failed (%s); retrying in %.0fs",
            row["id"], row["channel"], row["attempts"], failure, delay.total_seconds(),
        )  # fmt: skip
        await repository.deliveries.record_retry(
            self._pool,
            delivery_id=row["id"],
            delay=delay,
            response_status=failure.status,
            error=str(failure),
        )
        self._metrics.deliveries.labels(row["channel"], "retried").inc()
