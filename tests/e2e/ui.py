"""Helpers for the end-to-end tests: the seed users, signing in, finding cells, SQL, the admin API."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.support import run_async

DRIVER1 = "driver1@parking.com"
DRIVER2 = "driver2@parking.com"
ADMIN = "admin@parking.com"
PASSWORD = "password123"
SLOTS = ("08:00–12:00", "12:00–16:00", "16:00–20:00")
SESSION_ENDED = "Your session has ended. Please sign in again."  # the login page's message after a refusal
BOOKING_HORIZON_DAYS = 30  # the servers' default: the date select offers today and 30 more days


def utc_day(days_from_today: int) -> str:
    """A date as YYYY-MM-DD in UTC, the default lot's zone."""
    return (datetime.now(UTC).date() + timedelta(days=days_from_today)).isoformat()


def day_label(day: str) -> str:
    """A YYYY-MM-DD date as the page and the server's messages write it: "Tue 24 Nov"."""
    return date.fromisoformat(day).strftime("%a %-d %b")


def api_call(base_url: str, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    """One REST call, as curl would make it; returns the JSON answer (None if empty), raises on non-2xx."""
    request = urllib.request.Request(base_url + path, method=method)
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read()
    return json.loads(text) if text else None


class AttendantApi:
    """The attendant's side through the REST API: for tests of what drivers see of it."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.token = api_call(base_url, "POST", "/login", {"email": ADMIN, "password": PASSWORD})["token"]

    def call(self, method: str, path: str, body: Any = None) -> Any:
        return api_call(self.base_url, method, path, body, self.token)

    def board_cell(self, day: str, spot_number: int, slot: str) -> dict[str, Any]:
        board = self.call("GET", f"/admin/board?date={day}")
        spot = next(spot for spot in board["spots"] if spot["spot_number"] == spot_number)
        return {"spot_id": spot["id"], **next(cell for cell in spot["slots"] if cell["label"] == slot)}


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.fill("#username", email)
    page.fill("#password", password)
    page.click("#submit-btn")


def sign_in_and_go_live(page: Page, email: str) -> None:
    """Sign in and wait until the grid is shown and the socket is ready for events."""
    sign_in(page, email)
    expect(page.locator("[data-state]")).to_have_count(15, timeout=10_000)
    expect(page.locator('#parking-slots-view[data-socket="open"]')).to_be_attached(timeout=10_000)


def signed_in_on_tomorrow(open_page: Callable[..., Page], base_url: str, *emails: str) -> list[Page]:
    """A live page per user, each showing tomorrow, each marked so that a reload would show."""
    pages = []
    for email in emails:
        page = open_page(base_url)
        sign_in_and_go_live(page, email)
        choose_date(page, utc_day(1))
        page.evaluate("window.notReloaded = true")  # a reload would drop this
        pages.append(page)
    return pages


def cell(page: Page, spot_number: int, slot: str) -> Locator:
    return page.locator(f'[data-spot="{spot_number}"][data-slot="{slot}"]')


def release_dialog(page: Page) -> Locator:
    return page.get_by_role("dialog", name="Release this booking?")


def cell_menu(page: Page) -> Locator:
    """The attendant's menu for the cell they tapped."""
    return page.locator("dialog.cell-menu")


def release(page: Page, spot_number: int, slot: str) -> None:
    """Release one's own booking: tap "Yours", then confirm once the button wakes up."""
    cell(page, spot_number, slot).click()
    release_dialog(page).get_by_role("button", name="Release").click()  # waits until it is enabled


def choose_date(page: Page, day: str) -> None:
    """Pick a day in the legacy date select and wait for the island to load its grid (or board)."""
    grids = (f"/spots?date={day}", f"/admin/board?date={day}")
    with page.expect_response(lambda response: response.url.endswith(grids)):
        page.select_option("#date-select", day)
    expect(page.locator("[data-state]")).to_have_count(15, timeout=5_000)


def run_sql(database_url: str, query: str, *args: Any) -> Any:
    """Run one statement and return its first value."""

    async def run() -> Any:
        conn = await asyncpg.connect(database_url)
        try:
            return await conn.fetchval(query, *args)
        finally:
            await conn.close()

    return run_async(run)


def forge_token(page: Page) -> None:
    """Swap the stored token for one the server refuses; the browser still thinks it is valid."""
    page.evaluate(
        """() => {
          const session = JSON.parse(sessionStorage.getItem('parking_auth_token'));
          sessionStorage.setItem('parking_auth_token', JSON.stringify({ ...session, token: 'forged' }));
        }"""
    )


def insert_booking(database_url: str, email: str, spot_number: int, start: datetime, end: datetime) -> int:
    """A booked reservation, made well ahead as another tab or the attendant would; returns its id."""
    return run_sql(
        database_url,
        """
        INSERT INTO reservations (user_id, spot_id, start_time, end_time, created_at)
        SELECT u.id, s.id, $3, $4, LEAST(now(), $3::timestamptz - interval '1 day')
        FROM users u, spots s WHERE u.email = $1 AND s.spot_number = $2
        RETURNING id
        """,
        email,
        spot_number,
        start,
        end,
    )


def insert_past_reservation(
    database_url: str, email: str, spot_number: int, start: datetime, end: datetime
) -> int:
    """A reservation that has already ended, as the sweeper leaves it; returns its id."""
    return run_sql(
        database_url,
        """
        INSERT INTO reservations (user_id, spot_id, start_time, end_time, status, completed_at, released_by)
        SELECT u.id, s.id, $3, $4, 'completed', $4, 'expired' FROM users u, spots s
        WHERE u.email = $1 AND s.spot_number = $2
        RETURNING id
        """,
        email,
        spot_number,
        start,
        end,
    )


def record_csp_violations(context: BrowserContext) -> None:
    """Have every page of this context record its CSP violations, for csp_violations()."""
    context.add_init_script(
        """
        window.cspViolations = [];
        document.addEventListener('securitypolicyviolation', (event) => {
          window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
        });
        """
    )


def csp_violations(page: Page) -> list[str]:
    return page.evaluate("window.cspViolations")


def screenshot_path(tmp_path: Path, name: str) -> Path:
    """Where a test saves its picture: docs/NAME with UPDATE_SCREENSHOTS=1, else tmp_path.

    A test run never changes the tracked pictures unless asked to (the lobby's shows a clock).
    """
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        return Path(__file__).resolve().parents[2] / "docs" / name
    return tmp_path / name


def signed_in_phone(context: BrowserContext, base_url: str, email: str = DRIVER1) -> Page:
    """A new page of `context` (e.g. the `phone` fixture's), signed in and live."""
    page = context.new_page()
    page.goto(base_url + "/login")
    sign_in_and_go_live(page, email)
    return page


def screenshot(page: Page, name: str, tmp_path: Path) -> None:
    """The page at screenshot_path(tmp_path, name)."""
    page.screenshot(path=str(screenshot_path(tmp_path, name)), animations="disabled")


def at(day_offset: int, slot: int) -> tuple[datetime, datetime]:
    """The UTC lot's slot (0-2) `day_offset` days from today, as (start, end)."""
    day = datetime.now(UTC).date() + timedelta(days=day_offset)
    start = datetime.combine(day, time(8 + 4 * slot), tzinfo=UTC)
    return start, start + timedelta(hours=4)
