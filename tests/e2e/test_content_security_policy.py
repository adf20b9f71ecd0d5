"""The browser app under its Content-Security-Policy: signed in, live and booking, nothing blocked."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from .ui import (
    DRIVER1,
    SLOTS,
    cell,
    choose_date,
    csp_violations,
    record_csp_violations,
    sign_in_and_go_live,
    utc_day,
)


def test_the_app_signs_in_goes_live_and_books_without_csp_violations(
    browser: Browser, app_url: str, reset_db: str
) -> None:
    context = browser.new_context(viewport={"width": 1100, "height": 820})
    try:
        record_csp_violations(context)
        page = context.new_page()
        page.goto(app_url + "/login")
        # The import map (allowed by its hash), Vue's template compiler ('unsafe-eval')
        # and the WebSocket ('self') all have to work for the grid to go live.
        sign_in_and_go_live(page, DRIVER1)
        choose_date(page, utc_day(1))
        cell(page, 2, SLOTS[1]).click()
        expect(cell(page, 2, SLOTS[1])).to_have_attribute("data-state", "mine", timeout=5_000)
        assert csp_violations(page) == []
    finally:
        context.close()
