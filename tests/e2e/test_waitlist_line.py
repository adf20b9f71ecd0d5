"""The waitlist in the browser: join a full slot, watch the place move, get the freed spot live."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from datetime import UTC, datetime, time

from playwright.sync_api import Page, expect

from .ui import DRIVER1, DRIVER2, SLOTS, cell, release, run_sql, screenshot_path, signed_in_on_tomorrow, utc_day

LIVE_MS = 1_000  # every change reaches every open grid within a second


def fill_morning_of_tomorrow(database_url: str, spot_numbers: tuple[int, ...]) -> None:
    """Book tomorrow's 08:00-12:00 on these spots, each for a driver made for it."""
    day = datetime.fromisoformat(utc_day(1)).date()
    start, end = (datetime.combine(day, time(hour), UTC) for hour in (8, 12))
    for number in spot_numbers:
        run_sql(
            database_url,
            """
            WITH u AS (
                INSERT INTO users (email, display_name) VALUES ($1, $2) RETURNING id
            )
            INSERT INTO reservations (user_id, spot_id, start_time, end_time)
            SELECT u.id, s.id, $3, $4 FROM u, spots s WHERE s.spot_number = $5
            """,
            f"holder{number}@parking.com",
            f"Holder {number}",
            start,
            end,
            number,
        )


def test_a_driver_in_line_gets_the_released_spot_live_and_sees_their_place_move(
    open_page: Callable[..., Page], app_url: str, reset_db: str
) -> None:
    fill_morning_of_tomorrow(reset_db, (2, 4, 5))
    driver1, driver2 = signed_in_on_tomorrow(open_page, app_url, DRIVER1, DRIVER2)
    cell(driver1, 3, SLOTS[0]).click()
    expect(cell(driver1, 3, SLOTS[0])).to_have_attribute("data-state", "mine", timeout=LIVE_MS)

    # Someone joined the line first: driver 2 is second.
    run_sql(
        reset_db,
        """
        INSERT INTO waitlist_entries (user_id, start_time, end_time, slot_date, lot_timezone)
        SELECT u.id, r.start_time, r.end_time, $2::date, 'UTC'
        FROM users u, reservations r WHERE u.email = $1 AND r.user_id = u.id
        """,
        "holder2@parking.com",
        datetime.fromisoformat(utc_day(1)).date(),
    )
    line = driver2.locator(f'.parking-waitlist-line[data-slot="{SLOTS[0]}"]')
    expect(line).to_contain_text(f"{SLOTS[0]} is full.", timeout=LIVE_MS)
    line.get_by_role("button", name="Join the waitlist").click()
    expect(line).to_contain_text(f"You're 2nd in line for {SLOTS[0]}.", timeout=LIVE_MS)
    # The line moves live: the first in line leaves.
    run_sql(reset_db, "DELETE FROM waitlist_entries WHERE status = 'waiting' AND user_id <> "
            "(SELECT id FROM users WHERE email = $1)", DRIVER2)
    expect(line).to_contain_text(f"You're 1st in line for {SLOTS[0]}.", timeout=LIVE_MS)
    # Driver 1 sees the slot full too (they hold a spot in it, so no offer), and no line of theirs.
    expect(driver1.locator(".parking-waitlist-line")).to_have_count(0)

    release(driver1, 3, SLOTS[0])
    expect(cell(driver2, 3, SLOTS[0])).to_have_attribute("data-state", "mine", timeout=LIVE_MS)
    expect(driver2.locator(".parking-notice-text")).to_contain_text(
        "A spot came free: Spot 3 (", timeout=LIVE_MS
    )
    expect(driver2.locator(".parking-notice-text")).to_contain_text("08:00–12:00) is yours.")
    expect(driver2.locator(".parking-bell-count")).to_have_text("1", timeout=LIVE_MS)
    # The freed spot was never free on driver 1's grid for long enough to be booked.
    expect(cell(driver1, 3, SLOTS[0])).to_have_attribute("data-state", "booked", timeout=LIVE_MS)
    expect(driver2.locator(".parking-waitlist-line")).to_have_count(0)
    assert driver2.evaluate("window.notReloaded") is True


def test_the_waitlist_line_fits_a_320_px_phone(
    open_page: Callable[..., Page], app_url: str, reset_db: str, tmp_path: Path
) -> None:
    fill_morning_of_tomorrow(reset_db, (2, 3, 4, 5))
    (driver,) = signed_in_on_tomorrow(open_page, app_url, DRIVER2)
    driver.set_viewport_size({"width": 320, "height": 700})
    line = driver.locator(f'.parking-waitlist-line[data-slot="{SLOTS[0]}"]')
    line.get_by_role("button", name="Join the waitlist").click()
    expect(line).to_contain_text("You're 1st in line")
    assert driver.evaluate("document.documentElement.scrollWidth") <= 320
    for element in (line, line.get_by_role("button", name="Leave the line")):
        box = element.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 320
    assert line.get_by_role("button", name="Leave the line").bounding_box()["height"] >= 44
    driver.screenshot(path=str(screenshot_path(tmp_path, "waitlist-phone.png")))
