"""Real receivers for the tests and the benchmark: an SMTP server (aiosmtpd) and a webhook endpoint."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.support import free_port


class MailCatcher:
    """An aiosmtpd server on loopback, in the caller's event loop, keeping every mail it accepts.

    stop() and start() again on the same port stand in for an SMTP outage.
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self.arrived_at: list[float] = []
        self._server: asyncio.Server | None = None
        self._changed = asyncio.Event()

    @property
    def env(self) -> dict[str, str]:
        """The server's SMTP_* settings for this catcher."""
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.port), "SMTP_TLS": "none"}

    @property
    def settings(self) -> dict[str, Any]:
        return {"smtp_host": "127.0.0.1", "smtp_port": self.port, "smtp_tls": "none"}

    async def start(self) -> MailCatcher:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="catcher.test"), "127.0.0.1", self.port
        )
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        self.arrived_at.append(asyncio.get_running_loop().time())
        self._changed.set()
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """Wait until at least `count` mails have arrived; return them all."""
        async with asyncio.timeout(timeout):
            while len(self.messages) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.messages

    async def __aenter__(self) -> MailCatcher:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


class SilentSmtpServer:
    """Accepts connections and never says a word: an SMTP server that hangs."""

    def __init__(self) -> None:
        self.port = free_port()
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        await reader.read()  # until the client gives up

    async def __aenter__(self) -> SilentSmtpServer:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        for writer in self._writers:
            writer.close()
        self._server.close()
        await self._server.wait_closed()


@dataclass
class Call:
    headers: dict[str, str]
    body: str


@dataclass
class WebhookReceiver:
    """An aiohttp endpoint on loopback that records each call and answers the given statuses in turn
    (then 200)."""

    statuses: list[int] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _handle(self, request: web.Request) -> web.Response:
        self.calls.append(Call(dict(request.headers), await request.text()))
        self._changed.set()
        status = self.statuses.pop(0) if self.statuses else 200
        return web.Response(status=status, text="ok" if status < 300 else "no")

    async def __aenter__(self) -> WebhookReceiver:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Call]:
        async with asyncio.timeout(timeout):
            while len(self.calls) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.calls


def message_ids(messages: Iterable[EmailMessage]) -> list[str]:
    return [m["Message-ID"] for m in messages]
