"""The browser app under its Content-Security-Policy: signed in, live and booking, nothing blocked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from .ui import (
    ADMIN,
    DRIVER1,
    SLOTS,
    cell,
    choose_date,
    csp_violations,
    record_csp_violations,
    sign_in_and_go_live,
    utc_day,
)


@pytest.fixture
def watched_page(browser: Browser, app_url: str, reset_db: str) -> Iterator[Page]:
    """The login page, in a context that records every CSP violation."""
    context = browser.new_context(viewport={"width": 1100, "height": 820})
    record_csp_violations(context)
    page = context.new_page()
    page.goto(app_url + "/login")
    yield page
    context.close()


def test_the_app_signs_in_goes_live_and_books_without_csp_violations(watched_page: Page) -> None:
    page = watched_page
    # The import map (allowed by its hash), Vue's template compiler ('unsafe-eval')
    # and the WebSocket ('self') all have to work for the grid to go live.
    sign_in_and_go_live(page, DRIVER1)
    choose_date(page, utc_day(1))
    cell(page, 2, SLOTS[1]).click()
    expect(cell(page, 2, SLOTS[1])).to_have_attribute("data-state", "mine", timeout=5_000)
    page.get_by_role("button", name="Add to my calendar").click()
    expect(page.get_by_label("Your calendar link")).not_to_have_value("")
    assert csp_violations(page) == []


def test_admin_mode_books_a_walk_in_and_closes_a_spot_without_csp_violations(watched_page: Page) -> None:
    page = watched_page
    sign_in_and_go_live(page, ADMIN)
    choose_date(page, utc_day(1))
    cell(page, 2, SLOTS[1]).click()
    menu = page.locator("dialog.cell-menu")
    menu.get_by_role("button", name="A walk-in").click()
    menu.get_by_label("Name").fill("Ada Lovelace")
    menu.get_by_label("Licence plate").fill("AB-123-CD")
    menu.get_by_role("button", name="Book", exact=True).click()
    expect(cell(page, 2, SLOTS[1])).to_contain_text("AB-123-CD", timeout=5_000)
    page.select_option("#closure-spot", label="Spot 3 · Floor 1")
    page.fill("#closure-reason", "Repainting the lines")
    page.get_by_role("button", name="Close the spot…").click()
    page.get_by_role("dialog", name="Close this spot?").get_by_role("button", name="Close it").click()
    expect(cell(page, 3, SLOTS[0])).to_have_attribute("data-state", "closed", timeout=5_000)
    assert csp_violations(page) == []
