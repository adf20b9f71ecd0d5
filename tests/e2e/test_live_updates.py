"""Two drivers on one grid: live bookings and releases, a race for one cell, the sweeper."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from .ui import (
    DRIVER1,
    DRIVER2,
    SLOTS,
    cell,
    choose_date,
    insert_booking,
    insert_past_reservation,
    release,
    run_sql,
    sign_in_and_go_live,
    utc_day,
)

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "grid.png"


def two_drivers(open_page: Callable[..., Page], base_url: str, timezone: str = "UTC") -> tuple[Page, Page]:
    pages = open_page(base_url, timezone), open_page(base_url, timezone)
    for page, email in zip(pages, (DRIVER1, DRIVER2)):
        sign_in_and_go_live(page, email)
    return pages


def on_tomorrow(*pages: Page) -> None:
    for page in pages:
        choose_date(page, utc_day(1))


def test_booking_and_release_reach_the_other_driver_without_a_reload(
    open_page: Callable[..., Page], app_url: str
) -> None:
    driver1, driver2 = two_drivers(open_page, app_url)
    on_tomorrow(driver1, driver2)
    driver2.evaluate("window.notReloaded = true")  # a reload would drop this

    cell(driver1, 2, SLOTS[0]).click()
    expect(cell(driver2, 2, SLOTS[0])).to_have_attribute("data-state", "booked", timeout=1_000)
    expect(cell(driver1, 2, SLOTS[0])).to_have_attribute("data-state", "mine")

    release(driver1, 2, SLOTS[0])
    expect(cell(driver2, 2, SLOTS[0])).to_have_attribute("data-state", "available", timeout=1_000)
    expect(cell(driver1, 2, SLOTS[0])).to_have_attribute("data-state", "available")
    assert driver2.evaluate("window.notReloaded") is True


# Clicks the cell at an agreed wall-clock instant, so both pages fire together.
CLICK_AT = "([selector, at]) => setTimeout(() => document.querySelector(selector).click(), at - Date.now())"


def test_two_drivers_clicking_one_free_cell_at_once_get_one_booking(
    open_page: Callable[..., Page], app_url: str, database_url: str
) -> None:
    pages = two_drivers(open_page, app_url)
    on_tomorrow(*pages)
    selector = f'[data-spot="3"][data-slot="{SLOTS[1]}"]'
    at = datetime.now(UTC).timestamp() * 1000 + 300
    for page in pages:
        page.evaluate(CLICK_AT, [selector, at])

    for page in pages:
        expect(cell(page, 3, SLOTS[1])).to_have_attribute("data-state", re.compile("^(mine|booked)$"), timeout=5_000)
    states = {page: cell(page, 3, SLOTS[1]).get_attribute("data-state") for page in pages}
    assert sorted(states.values()) == ["booked", "mine"]
    loser = next(page for page, state in states.items() if state == "booked")
    expect(loser.locator(".parking-notice")).to_contain_text(
        re.compile(r"Spot #3 is already booked for 12:00–16:00 on .+\. Please pick another spot or time\.")
    )
    assert run_sql(database_url, "SELECT count(*) FROM reservations WHERE status = 'booked'") == 1

    loser.get_by_role("button", name="Dismiss message").click()
    expect(loser.locator(".parking-notice")).to_have_count(0)


def test_auto_released_booking_frees_the_cell_on_both_pages(
    open_page: Callable[..., Page], afternoon_lot: tuple[str, str], database_url: str
) -> None:
    base_url, timezone = afternoon_lot
    zone = ZoneInfo(timezone)
    slot_start = datetime.combine(datetime.now(zone).date(), time(8), zone)
    # Today's 08:00–12:00 for driver 2, inserted with a later end so the one-second
    # sweeper leaves it alone until both pages have shown it booked.
    reservation_id = insert_booking(database_url, DRIVER2, 1, slot_start, slot_start + timedelta(days=1))
    driver1, driver2 = two_drivers(open_page, base_url, timezone)
    expect(cell(driver1, 1, SLOTS[0])).to_have_attribute("data-state", "booked")
    expect(cell(driver2, 1, SLOTS[0])).to_have_attribute("data-state", "mine")

    # Its real end, 12:00, is past (it is early afternoon in the lot): now it is stale.
    run_sql(
        database_url,
        "UPDATE reservations SET end_time = $2 WHERE id = $1",
        reservation_id,
        slot_start + timedelta(hours=4),
    )
    for page in (driver1, driver2):
        expect(cell(page, 1, SLOTS[0])).to_have_attribute("data-state", "past", timeout=5_000)


def test_grid_shows_each_state_and_explains_a_refused_booking(
    open_page: Callable[..., Page], afternoon_lot: tuple[str, str], database_url: str, tmp_path: Path
) -> None:
    base_url, timezone = afternoon_lot
    driver1, driver2 = two_drivers(open_page, base_url, timezone)
    cell(driver2, 4, SLOTS[2]).click()
    expect(cell(driver1, 4, SLOTS[2])).to_have_attribute("data-state", "booked", timeout=5_000)
    cell(driver1, 2, SLOTS[1]).click()
    expect(cell(driver1, 2, SLOTS[1])).to_have_attribute("data-state", "mine", timeout=5_000)

    # One car per driver per slot: the server refuses a second spot, the cell stays free.
    cell(driver1, 3, SLOTS[1]).click()
    expect(driver1.locator(".parking-notice")).to_contain_text("You already have Spot #2 booked for 12:00–16:00")
    expect(cell(driver1, 3, SLOTS[1])).to_have_attribute("data-state", "available")
    expect(cell(driver1, 1, SLOTS[0])).to_have_attribute("data-state", "past")
    expect(cell(driver1, 1, SLOTS[0])).to_be_disabled()
    expect(cell(driver1, 4, SLOTS[2])).to_be_disabled()
    # History for the chart: two spots were busy yesterday morning. Wait for the
    # chart to catch up before the picture (today's bookings weigh less: one spot,
    # and only their elapsed part counts).
    yesterday = datetime.now(ZoneInfo(timezone)).date() - timedelta(days=1)
    for spot_number in (1, 5):
        start = datetime.combine(yesterday, time(8), ZoneInfo(timezone))
        insert_past_reservation(database_url, DRIVER2, spot_number, start, start + timedelta(hours=4))
    expect(driver1.locator('[data-peak="true"]')).to_have_count(4, timeout=10_000)

    # The README's picture: set UPDATE_SCREENSHOTS=1 to refresh docs/grid.png.
    target = SCREENSHOT if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path / "grid.png"
    driver1.screenshot(path=str(target), full_page=True, animations="disabled")
