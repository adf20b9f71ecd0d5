"""The lot's rules in the browser: the attendant's form, and what a driver is told of the booking limit."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from .layout import PHONE_HEIGHT, assert_layout_fits
from .ui import (
    ADMIN,
    DRIVER1,
    SLOTS,
    AttendantApi,
    cell,
    choose_date,
    sign_in_and_go_live,
    signed_in_on_tomorrow,
    utc_day,
)

LIVE_MS = 1_000  # every change reaches every open page within a second
LIMIT_MESSAGE = (
    "You already hold 1 upcoming booking, the most the lot allows per driver. "
    "Release one, or wait until one has ended, to book another."
)


def rules_form(page: Page) -> Locator:
    return page.locator(".desk-card", has_text="The lot’s rules")


def limit_line(page: Page) -> Locator:
    return page.locator(".parking-timezone", has_text="You may hold")


def test_the_attendant_sets_the_rules_and_a_drivers_page_follows_at_once(
    open_page: Callable[..., Page], app_url: str
) -> None:
    api = AttendantApi(app_url)
    attendant, driver = signed_in_on_tomorrow(open_page, app_url, ADMIN, DRIVER1)
    form = rules_form(attendant)
    limit = form.get_by_label("Upcoming bookings per driver")
    horizon = form.get_by_label("Days ahead drivers may book")
    grace = form.get_by_label("Release no-shows after (minutes)")
    save = form.get_by_role("button", name="Save the rules")
    saved = form.get_by_role("status")

    # The defaults: no limit (an empty field that says so), 30 days, no-show release off.
    expect(limit).to_have_value("")
    expect(limit).to_have_attribute("placeholder", "No limit")
    expect(horizon).to_have_value("30")
    expect(grace).to_have_value("0")
    expect(save).to_be_disabled()  # nothing to save yet
    expect(limit_line(driver)).to_have_count(0)

    limit.fill("2")
    horizon.fill("10")
    save.click()
    expect(saved).to_have_text("Saved: every page follows the new rules.")
    assert api.call("GET", "/rules") == {"max_upcoming_per_driver": 2, "booking_horizon_days": 10, "no_show_grace_minutes": 0, "reminder_minutes_before": 30}
    expect(limit_line(driver)).to_have_text("You may hold 2 upcoming bookings at a time.", timeout=LIVE_MS)
    expect(driver.locator("#date-select option")).to_have_count(11)  # today and 10 more days
    assert driver.evaluate("window.notReloaded") is True

    # A bad value: the server's message under the field it names, and nothing changes.
    horizon.fill("400")
    save.click()
    expect(form.get_by_role("alert")).to_have_text("Days ahead drivers may book must be between 1 and 365.")
    expect(horizon).to_have_attribute("aria-invalid", "true")
    expect(horizon).to_have_accessible_description("Days ahead drivers may book must be between 1 and 365. From 1 to 365.")
    assert api.call("GET", "/rules")["booking_horizon_days"] == 10
    horizon.fill("ten")
    save.click()
    expect(form.get_by_role("alert")).to_have_text("Days ahead drivers may book must be an integer.")
    horizon.fill("10")
    expect(form.get_by_role("alert")).to_have_count(0)
    expect(horizon).not_to_have_attribute("aria-invalid", "true")

    # Switching no-show release on asks first: bookings under way would go too.
    grace.fill("20")
    save.click()
    question = attendant.get_by_role("dialog", name="Release no-shows?")
    expect(question).to_contain_text("This also releases bookings that already began without a check-in")
    question.get_by_role("button", name="Not now").click()
    expect(question).to_have_count(0)
    assert api.call("GET", "/rules")["no_show_grace_minutes"] == 0
    save.click()
    question.get_by_role("button", name="Turn it on").click()  # waits until it wakes up
    expect(saved).to_have_text("Saved: every page follows the new rules.")
    assert api.call("GET", "/rules")["no_show_grace_minutes"] == 20

    # Back to no limit, and off: switching off asks nothing.
    limit.fill("")
    grace.fill("0")
    save.click()
    expect(saved).to_have_text("Saved: every page follows the new rules.")
    expect(question).to_have_count(0)
    assert api.call("GET", "/rules") == {"max_upcoming_per_driver": None, "booking_horizon_days": 10, "no_show_grace_minutes": 0, "reminder_minutes_before": 30}
    expect(limit_line(driver)).to_have_count(0, timeout=LIVE_MS)


def test_the_form_follows_rules_changed_elsewhere_but_keeps_what_the_attendant_is_typing(
    open_page: Callable[..., Page], app_url: str
) -> None:
    (attendant,) = signed_in_on_tomorrow(open_page, app_url, ADMIN)
    form = rules_form(attendant)
    form.get_by_label("Days ahead drivers may book").fill("12")
    AttendantApi(app_url).call("PUT", "/admin/rules", {"max_upcoming_per_driver": 4, "booking_horizon_days": 20})
    expect(form.get_by_label("Upcoming bookings per driver")).to_have_value("4", timeout=LIVE_MS)
    expect(form.get_by_label("Days ahead drivers may book")).to_have_value("12")


@pytest.mark.parametrize("width", [1100, 320])
def test_a_driver_at_the_booking_limit_is_told_why_a_tap_did_not_book(
    open_page: Callable[..., Page], app_url: str, width: int
) -> None:
    AttendantApi(app_url).call("PUT", "/admin/rules", {"max_upcoming_per_driver": 1})
    page = open_page(app_url)
    page.set_viewport_size({"width": width, "height": PHONE_HEIGHT})
    sign_in_and_go_live(page, DRIVER1)
    choose_date(page, utc_day(1))
    expect(limit_line(page)).to_have_text("You may hold 1 upcoming booking at a time.")
    cell(page, 1, SLOTS[0]).click()
    expect(cell(page, 1, SLOTS[0])).to_have_attribute("data-state", "mine")

    cell(page, 5, SLOTS[2]).click()  # the last cell: on a phone, far below the message bar's place
    notice = page.locator(".parking-notice-text")
    expect(notice).to_have_text(LIMIT_MESSAGE)
    expect(notice).to_be_in_viewport()  # the bar sticks to the top of the screen
    expect(cell(page, 5, SLOTS[2])).to_have_attribute("data-state", "available")
    if width == 320:
        assert_layout_fits(page)
