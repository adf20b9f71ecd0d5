"""The outbox's tests get a database of their own, and a mail catcher and an app that mails it.

The servers other tests start (`start_server` and the like) run dispatchers
too, with their own settings (no SMTP, the full retry schedule): on the shared
database they would claim these tests' deliveries. Overriding `database_url`
here gives every fixture built on it (reset_db, settings, make_client,
db_conn) this database instead.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from server import db
from server.settings import PROJECT_ROOT
from tests.catchers import MailCatcher
from tests.support import run_async


@pytest.fixture(scope="session")
def database_url(create_database: Callable[[str], str]) -> str:
    url = create_database(f"smart_parking_outbox_{os.getpid()}")
    run_async(lambda: db.run_migrations(url, PROJECT_ROOT / "db" / "migrations"))
    return url


@pytest.fixture
async def mail() -> AsyncIterator[MailCatcher]:
    """A real SMTP server (aiosmtpd) on loopback, in the test's event loop."""
    async with MailCatcher() as catcher:
        yield catcher


@pytest.fixture
async def app(make_client: Callable[..., Awaitable[Any]], mail: MailCatcher) -> Any:
    """A test client whose app mails `mail`, with the retry schedule shrunk 50 times."""
    return await make_client(**mail.settings, delivery_retry_scale=0.02)
