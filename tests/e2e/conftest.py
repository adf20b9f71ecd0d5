"""Browser fixtures for the end-to-end tests: one Chromium, a page per driver, SQL from sync code."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

DRIVER1 = "driver1@parking.com"
DRIVER2 = "driver2@parking.com"
PASSWORD = "password123"
# Debian's Chromium when installed; otherwise Playwright's own download.
SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SLOTS = ("08:00–12:00", "12:00–16:00", "16:00–20:00")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        executable = str(SYSTEM_CHROMIUM) if SYSTEM_CHROMIUM.exists() else None
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def app_url(start_server: Callable[..., str]) -> str:
    """The app on a server with the default settings (lot in UTC, sweeper every minute)."""
    return start_server()


@pytest.fixture
def open_page(browser: Browser, reset_db: str) -> Iterator[Callable[..., Page]]:
    """Factory: a fresh browser context (its own sessionStorage) on the login page."""
    contexts = []

    def open_(base_url: str, timezone: str = "UTC") -> Page:
        # The browser's clock zone is the lot's, so "Today" in the date select is the lot's today.
        context = browser.new_context(timezone_id=timezone, viewport={"width": 1100, "height": 820})
        contexts.append(context)
        page = context.new_page()
        page.goto(base_url + "/login")
        return page

    yield open_
    for context in contexts:
        context.close()


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.fill("#username", email)
    page.fill("#password", password)
    page.click("#submit-btn")


def sign_in_and_go_live(page: Page, email: str) -> None:
    """Sign in and wait until the grid is shown and the socket is ready for events."""
    sign_in(page, email)
    expect(page.locator("[data-state]")).to_have_count(15, timeout=10_000)
    expect(page.locator('#parking-slots-view[data-socket="open"]')).to_be_attached(timeout=10_000)


def cell(page: Page, spot_number: int, slot: str) -> Locator:
    return page.locator(f'[data-spot="{spot_number}"][data-slot="{slot}"]')


def choose_date(page: Page, day: str) -> None:
    """Pick a day in the legacy date select and wait for the island to load its grid."""
    with page.expect_response(lambda response: response.url.endswith(f"/spots?date={day}")):
        page.select_option("#date-select", day)
    expect(page.locator("[data-state]")).to_have_count(15, timeout=5_000)


def afternoon_timezone() -> str:
    """An Etc/GMT±N zone in which it is now between 13:30 and 14:30.

    There today's 08:00–12:00 slot has ended and the other two have not,
    whatever the hour the tests run at.
    """
    now = datetime.now(UTC)
    offset_hours = round(14 - (now.hour + now.minute / 60))
    offset_hours = (offset_hours + 12) % 24 - 12  # the same local hour, within Etc/GMT's range
    return f"Etc/GMT{-offset_hours:+d}"  # POSIX signs: Etc/GMT-3 is UTC+3


def run_sql(database_url: str, query: str, *args: Any) -> Any:
    """Run one statement and return its first value.

    In a worker thread: Playwright's sync API keeps an event loop registered on
    the test's thread, so asyncio.run() would refuse to start there.
    """

    async def run() -> Any:
        conn = await asyncpg.connect(database_url)
        try:
            return await conn.fetchval(query, *args)
        finally:
            await conn.close()

    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, run()).result()


@pytest.fixture(scope="session")
def afternoon_lot(start_server: Callable[..., str]) -> tuple[str, str]:
    """(base URL, zone) of a server whose lot is in early afternoon and sweeps every second."""
    timezone = afternoon_timezone()
    return start_server(PARKING_TIMEZONE=timezone, SWEEP_INTERVAL_SECONDS="1"), timezone
