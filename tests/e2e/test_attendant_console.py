"""The attendant's mode of the slots page: holders, the cell menu, closures and spots, live on drivers' pages."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .layout import PHONE_HEIGHT, assert_layout_fits
from .ui import (
    ADMIN,
    DRIVER1,
    DRIVER2,
    SLOTS,
    cell,
    cell_menu,
    choose_date,
    day_label,
    insert_past_reservation,
    sign_in_and_go_live,
    signed_in_on_tomorrow,
    utc_day,
)

LIVE_MS = 1_000  # every change reaches every open grid within a second


def book_for_driver(attendant: Page, spot_number: int, slot: str, driver: str) -> None:
    cell(attendant, spot_number, slot).click()
    cell_menu(attendant).get_by_label("Driver").select_option(label=driver)
    cell_menu(attendant).get_by_role("button", name="Book", exact=True).click()  # waits until it wakes up


def close_spot(attendant: Page, spot_label: str, first_slot: str, last_slot: str, reason: str) -> None:
    """Fill in "Close a spot" for the shown day and confirm."""
    attendant.select_option("#closure-spot", label=spot_label)
    attendant.select_option("#closure-from-slot", label=first_slot)
    attendant.select_option("#closure-to-slot", label=last_slot)
    attendant.fill("#closure-reason", reason)
    attendant.get_by_role("button", name="Close the spot…").click()
    attendant.get_by_role("dialog", name="Close this spot?").get_by_role("button", name="Close it").click()


def test_the_attendant_releases_a_drivers_booking_and_the_driver_sees_why_within_a_second(
    open_page: Callable[..., Page], app_url: str
) -> None:
    attendant, driver1 = signed_in_on_tomorrow(open_page, app_url, ADMIN, DRIVER1)
    cell(driver1, 2, SLOTS[0]).click()
    expect(cell(attendant, 2, SLOTS[0])).to_contain_text("Driver 1", timeout=LIVE_MS)

    cell(attendant, 2, SLOTS[0]).click()
    menu = cell_menu(attendant)
    expect(menu).to_contain_text("Held by Driver 1 (driver1@parking.com).")
    release = menu.get_by_role("button", name="Release")
    reason = menu.get_by_label("Reason (the driver sees it)")
    reason.fill("Barrier out of order")
    expect(release).to_be_enabled()  # awake: the menu was opened a moment ago
    reason.fill("  ")
    expect(release).to_be_disabled()  # no release without a reason
    reason.fill("Barrier out of order")
    release.click()

    expect(cell(driver1, 2, SLOTS[0])).to_have_attribute("data-state", "available", timeout=LIVE_MS)
    expect(driver1.locator(".parking-notice-text")).to_contain_text(
        "The attendant released your booking of Spot 2", timeout=LIVE_MS
    )
    expect(driver1.locator(".parking-notice-text")).to_contain_text("08:00–12:00): Barrier out of order")
    expect(menu).to_have_count(0)
    expect(cell(attendant, 2, SLOTS[0])).to_have_attribute("data-state", "available")
    assert driver1.evaluate("window.notReloaded") is True


def test_the_attendant_books_for_a_driver_and_for_a_walk_in(open_page: Callable[..., Page], app_url: str) -> None:
    attendant, driver2 = signed_in_on_tomorrow(open_page, app_url, ADMIN, DRIVER2)

    book_for_driver(attendant, 3, SLOTS[1], "Driver 2")
    expect(cell(attendant, 3, SLOTS[1])).to_contain_text("Driver 2")
    expect(cell(driver2, 3, SLOTS[1])).to_have_attribute("data-state", "mine", timeout=LIVE_MS)

    # One car per driver per slot holds for the attendant's bookings too: the server says why.
    book_for_driver(attendant, 4, SLOTS[1], "Driver 2")
    expect(cell_menu(attendant).get_by_role("alert")).to_have_text(
        f"Driver 2 already has Spot #3 booked for 12:00–16:00 on {day_label(utc_day(1))}; "
        "a driver holds one spot per slot."
    )
    cell_menu(attendant).get_by_role("button", name="Cancel").click()
    expect(cell(attendant, 4, SLOTS[1])).to_have_attribute("data-state", "available")

    cell(attendant, 4, SLOTS[1]).dblclick()  # one gesture: the menu opens once, its buttons asleep
    cell_menu(attendant).get_by_role("button", name="A walk-in").click()
    cell_menu(attendant).get_by_label("Name").fill("Ada Lovelace")
    cell_menu(attendant).get_by_label("Licence plate").fill("ab-123-cd")
    cell_menu(attendant).get_by_role("button", name="Book", exact=True).click()
    expect(cell(attendant, 4, SLOTS[1])).to_contain_text("AB-123-CDWalk-in: Ada Lovelace")
    expect(cell(driver2, 4, SLOTS[1])).to_have_attribute("data-state", "booked", timeout=LIVE_MS)
    expect(cell(driver2, 4, SLOTS[1]).locator(".slot-text")).to_have_text("Booked")  # drivers never learn who


def test_driver2_sees_a_closure_appear_live_and_go_when_the_attendant_reopens(
    open_page: Callable[..., Page], app_url: str
) -> None:
    attendant, driver2 = signed_in_on_tomorrow(open_page, app_url, ADMIN, DRIVER2)

    close_spot(attendant, "Spot 3 · Floor 1", SLOTS[1], SLOTS[2], "Repainting the lines")
    for slot in SLOTS[1:]:
        expect(cell(driver2, 3, slot)).to_have_attribute("data-state", "closed", timeout=LIVE_MS)
        expect(cell(driver2, 3, slot)).to_be_disabled()
        expect(cell(attendant, 3, slot)).to_contain_text("ClosedRepainting the lines")
    expect(cell(driver2, 3, SLOTS[0])).to_have_attribute("data-state", "available")
    expect(attendant.locator(".parking-notice-text")).to_contain_text("Spot 3 is closed")
    closures = attendant.locator(".closure-item")
    expect(closures).to_have_count(1)
    expect(closures).to_contain_text("Spot 3 · ")
    expect(closures).to_contain_text("12:00–20:00")

    closures.get_by_role("button", name="Reopen").click()
    for slot in SLOTS[1:]:
        expect(cell(driver2, 3, slot)).to_have_attribute("data-state", "available", timeout=LIVE_MS)
    expect(closures).to_have_count(0)
    assert driver2.evaluate("window.notReloaded") is True


def test_the_attendant_adds_a_sixth_spot_and_both_drivers_grids_show_it(
    open_page: Callable[..., Page], app_url: str
) -> None:
    attendant, *drivers = signed_in_on_tomorrow(open_page, app_url, ADMIN, DRIVER1, DRIVER2)

    attendant.get_by_label("Number").fill("6")
    attendant.get_by_label("Floor").fill("2")
    attendant.get_by_label("Type").select_option(label="Accessible")
    attendant.get_by_role("button", name="Add the spot").click()
    for page in (attendant, *drivers):
        expect(page.locator("[data-state]")).to_have_count(18, timeout=LIVE_MS)
        expect(page.locator("tr", has=cell(page, 6, SLOTS[0])).locator("th")).to_contain_text("Floor 2♿ Accessible")
    for page in drivers:
        assert page.evaluate("window.notReloaded") is True
    expect(attendant.locator(".parking-notice-text")).to_have_text("Spot 6 added on floor 2.")

    # A duplicate number: the server's message, and nothing added.
    attendant.get_by_label("Number").fill("6")
    attendant.get_by_role("button", name="Add the spot").click()
    expect(attendant.locator(".desk-card", has_text="Add a spot").get_by_role("alert")).to_have_text(
        "There is already a Spot #6."
    )
    expect(attendant.locator("[data-state]")).to_have_count(18)


def test_the_attendant_downloads_everyones_reservations_of_the_last_30_days(
    open_page: Callable[..., Page], app_url: str, database_url: str
) -> None:
    start = datetime.combine(datetime.now(UTC).date() - timedelta(days=2), time(12), UTC)
    for email, spot_number in ((DRIVER1, 3), (DRIVER2, 4)):
        insert_past_reservation(database_url, email, spot_number, start, start + timedelta(hours=4))
    (attendant,) = signed_in_on_tomorrow(open_page, app_url, ADMIN)

    with attendant.expect_download(timeout=10_000) as download_info:
        attendant.get_by_role("button", name="Download the last 30 days (CSV)").click()
    download = download_info.value
    assert download.suggested_filename == f"smart-parking-all-reservations-{utc_day(-29)}-to-{utc_day(0)}.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert sorted((row["spot_number"], row["holder_email"]) for row in rows) == [("3", DRIVER1), ("4", DRIVER2)]


@pytest.mark.parametrize("width", [375, 320])
def test_admin_mode_fits_a_phone(open_page: Callable[..., Page], app_url: str, width: int) -> None:
    (driver1,) = signed_in_on_tomorrow(open_page, app_url, DRIVER1)
    cell(driver1, 2, SLOTS[0]).click()
    expect(cell(driver1, 2, SLOTS[0])).to_have_attribute("data-state", "mine")
    attendant = open_page(app_url)
    attendant.set_viewport_size({"width": width, "height": PHONE_HEIGHT})
    sign_in_and_go_live(attendant, ADMIN)
    choose_date(attendant, utc_day(1))
    cell(attendant, 4, SLOTS[1]).click()
    cell_menu(attendant).get_by_role("button", name="A walk-in").click()
    assert_layout_fits(attendant)  # the walk-in form (a long name then scrolls inside its field)
    cell_menu(attendant).get_by_label("Name").fill("Maximilian Alexander von Hohenberg-Wartenstein")
    cell_menu(attendant).get_by_label("Licence plate").fill("WW-ABCD-1234")
    cell_menu(attendant).get_by_role("button", name="Book", exact=True).click()
    close_spot(attendant, "Spot 5 · Floor 2", SLOTS[0], SLOTS[2], "Resurfacing after the water leak on level 2")
    expect(cell(attendant, 5, SLOTS[0])).to_have_attribute("data-state", "closed")
    expect(cell(attendant, 4, SLOTS[1])).to_contain_text("WW-ABCD-1234")

    assert_layout_fits(attendant)  # holders, closed cells, the desk, a closure in the list
    cell(attendant, 2, SLOTS[0]).click()
    expect(cell_menu(attendant)).to_contain_text("Held by Driver 1")
    assert_layout_fits(attendant)  # the release menu
    cell_menu(attendant).get_by_role("button", name="Keep it").click()
    cell(attendant, 1, SLOTS[2]).click()
    expect(cell_menu(attendant).get_by_label("Driver")).to_be_visible()
    assert_layout_fits(attendant)  # the driver picker
