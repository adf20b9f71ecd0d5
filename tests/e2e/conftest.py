"""Browser fixtures for the end-to-end tests: one Chromium, a fresh context per driver, two servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.support import RestartableServer, afternoon_timezone

# Debian's Chromium when installed; otherwise Playwright's own download.
SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        executable = str(SYSTEM_CHROMIUM) if SYSTEM_CHROMIUM.exists() else None
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def app_url(start_session_server: Callable[..., str]) -> str:
    """The app on a server with the default settings (lot in UTC, sweeper every minute)."""
    return start_session_server()


@pytest.fixture
def open_page(browser: Browser, reset_db: str) -> Iterator[Callable[..., Page]]:
    """Factory: a fresh browser context (its own sessionStorage) on the login page."""
    contexts = []

    def open_(base_url: str, timezone: str = "UTC") -> Page:
        # The browser's clock zone is the lot's, so "Today" in the date select is the lot's today.
        # No service worker: these tests route and count the page's own requests, which a
        # worker would stand between. The offline tests (test_commuting.py) allow it.
        context = browser.new_context(
            timezone_id=timezone, viewport={"width": 1100, "height": 820}, service_workers="block"
        )
        contexts.append(context)
        page = context.new_page()
        page.goto(base_url + "/login")
        return page

    yield open_
    for context in contexts:
        context.close()


PHONE = {"width": 375, "height": 812}


@pytest.fixture
def phone(browser: Browser, reset_db: str) -> Iterator[Callable[[], BrowserContext]]:
    """Factory: a 375 px context with service workers allowed (headless Chromium needs it said)."""
    contexts: list[BrowserContext] = []

    def open_() -> BrowserContext:
        context = browser.new_context(timezone_id="UTC", viewport=PHONE, service_workers="allow")
        contexts.append(context)
        return context

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def afternoon_lot(start_session_server: Callable[..., str]) -> tuple[str, str]:
    """(base URL, zone) of a server whose lot is in early afternoon and sweeps every second."""
    timezone = afternoon_timezone()
    return start_session_server(PARKING_TIMEZONE=timezone, SWEEP_INTERVAL_SECONDS="1"), timezone


@pytest.fixture
def restartable_server(database_url: str, tmp_path: Path) -> Iterator[RestartableServer]:
    server = RestartableServer(database_url, tmp_path)
    yield server
    server.stop()
