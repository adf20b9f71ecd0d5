"""What drivers see, live, of the attendant's changes made through the API: closures, releases, spots."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from .ui import (
    DRIVER1,
    DRIVER2,
    SLOTS,
    AttendantApi,
    cell,
    day_label,
    signed_in_on_tomorrow,
    utc_day,
)

LIVE_MS = 1_000  # every change reaches every open grid within a second


def test_a_closure_shows_closed_cells_live_and_reopening_frees_them(
    open_page: Callable[..., Page], app_url: str
) -> None:
    driver1, driver2 = signed_in_on_tomorrow(open_page, app_url, DRIVER1, DRIVER2)
    cell(driver1, 3, SLOTS[1]).click()
    expect(cell(driver2, 3, SLOTS[1])).to_have_attribute("data-state", "booked", timeout=LIVE_MS)
    attendant = AttendantApi(app_url)
    first, last = (attendant.board_cell(utc_day(1), 3, slot) for slot in (SLOTS[0], SLOTS[2]))

    closure = attendant.call(
        "POST",
        "/admin/closures",
        {
            "spot_id": first["spot_id"],
            "start_time": first["start_time"],
            "end_time": last["end_time"],
            "reason": "Repainting the lines",
        },
    )["closure"]
    for page in (driver1, driver2):
        for slot in SLOTS:
            expect(cell(page, 3, slot)).to_have_attribute("data-state", "closed", timeout=LIVE_MS)
            expect(cell(page, 3, slot)).to_be_disabled()
        expect(cell(page, 3, SLOTS[0])).to_contain_text("Closed")
        expect(cell(page, 2, SLOTS[0])).to_have_attribute("data-state", "available")
    # The closure released driver 1's booking under it, with its reason; driver 2 learns nothing.
    expect(driver1.locator(".parking-notice")).to_contain_text(
        "The attendant released your booking of Spot 3 (", timeout=LIVE_MS
    )
    expect(driver1.locator(".parking-notice")).to_contain_text("12:00–16:00): Repainting the lines")
    expect(driver2.locator(".parking-notice")).to_have_count(0)

    attendant.call("DELETE", f"/admin/closures/{closure['id']}")
    for page in (driver1, driver2):
        for slot in SLOTS:
            expect(cell(page, 3, slot)).to_have_attribute("data-state", "available", timeout=LIVE_MS)
        assert page.evaluate("window.notReloaded") is True


def test_a_driver_whose_booking_the_attendant_releases_sees_why_live(
    open_page: Callable[..., Page], app_url: str
) -> None:
    driver1, driver2 = signed_in_on_tomorrow(open_page, app_url, DRIVER1, DRIVER2)
    cell(driver1, 2, SLOTS[0]).click()
    expect(cell(driver1, 2, SLOTS[0])).to_have_attribute("data-state", "mine", timeout=LIVE_MS)
    attendant = AttendantApi(app_url)
    reservation_id = attendant.board_cell(utc_day(1), 2, SLOTS[0])["reservation_id"]

    attendant.call("PUT", f"/admin/reservations/{reservation_id}/release", {"reason": "Barrier out of order"})
    for page in (driver1, driver2):
        expect(cell(page, 2, SLOTS[0])).to_have_attribute("data-state", "available", timeout=LIVE_MS)
    expect(driver1.locator(".parking-notice-text")).to_have_text(
        f"The attendant released your booking of Spot 2 ({day_label(utc_day(1))}, 08:00–12:00): Barrier out of order",
        timeout=LIVE_MS,
    )
    expect(driver2.locator(".parking-notice")).to_have_count(0)
    assert driver1.evaluate("window.notReloaded") is True


def test_a_new_or_changed_spot_reaches_every_drivers_grid(open_page: Callable[..., Page], app_url: str) -> None:
    drivers = signed_in_on_tomorrow(open_page, app_url, DRIVER1, DRIVER2)
    attendant = AttendantApi(app_url)

    spot = attendant.call("POST", "/admin/spots", {"spot_number": 6, "floor_number": 2, "type": "regular"})
    for page in drivers:
        expect(page.locator("[data-state]")).to_have_count(18, timeout=LIVE_MS)
        expect(cell(page, 6, SLOTS[2])).to_have_attribute("data-state", "available")
    attendant.call("PATCH", f"/admin/spots/{spot['id']}", {"floor_number": 3, "type": "handicap"})
    for page in drivers:
        row = page.locator("tr", has=cell(page, 6, SLOTS[0]))
        expect(row.locator("th")).to_contain_text("Floor 3", timeout=LIVE_MS)
        expect(row.locator("th")).to_contain_text("Accessible")
        assert page.evaluate("window.notReloaded") is True
