"""One mail through SMTP (aiosmtplib), with a timeout, telling a refusal from an outage."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

import aiosmtplib

from .errors import DeliveryFailed
from .settings import Settings

# Connect, greet, TLS, authenticate and send, all within this.
SEND_TIMEOUT_SECONDS = 15.0


class Mailer:
    def __init__(self, settings: Settings, timeout: float = SEND_TIMEOUT_SECONDS) -> None:
        assert settings.smtp_host is not None
        self._host = settings.smtp_host
        self._port = settings.smtp_port
        self._username = settings.smtp_username
        self._password = settings.smtp_password
        self._tls = settings.smtp_tls
        self._timeout = timeout

    async def send(self, message: EmailMessage) -> None:
        """Send it, or raise DeliveryFailed: permanent for an SMTP 5xx, else to be retried."""
        try:
            async with asyncio.timeout(self._timeout):
                await aiosmtplib.send(
                    message,
                    hostname=self._host,
                    port=self._port,
                    username=self._username,
                    password=self._password,
                    use_tls=self._tls == "tls",
                    start_tls=self._tls == "starttls",
                    timeout=self._timeout,
                )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refused.code for refused in exc.recipients]
            raise DeliveryFailed(
                f"recipient refused: {exc}", permanent=min(codes, default=500) >= 500,
                status=max(codes, default=None),
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryFailed(
                f"SMTP {exc.code}: {exc.message}", permanent=exc.code >= 500, status=exc.code
            ) from None
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"SMTP unavailable: {exc!r}", permanent=False) from None
