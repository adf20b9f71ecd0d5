"""Arrivals in the browser: "I've arrived" on the driver's own cell, live on their tabs and the attendant's board.

The lot runs in an Etc/GMT zone where it is now early afternoon (afternoon_lot), so
today's 12:00–16:00 slot is under way and its check-in window open, and the
16:00–20:00 slot's window (from 15:45) not yet: no test depends on the hour it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from playwright.sync_api import Locator, Page, Request, expect

from tests.support import run_async

from .layout import PHONE_HEIGHT, assert_layout_fits
from .ui import (
    ADMIN,
    DRIVER1,
    DRIVER2,
    SLOTS,
    AttendantApi,
    cell,
    cell_menu,
    day_label,
    insert_booking,
    run_sql,
    sign_in_and_go_live,
)

LIVE_MS = 1_000  # every change reaches every open page within a second
SLOT_STARTS = (8, 12, 16)


def todays_slot(timezone: str, index: int) -> tuple[datetime, datetime]:
    """Today's slot `index` (0-2) in the lot's zone, as instants."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(datetime.now(zone).date(), time(SLOT_STARTS[index]), zone)
    return start, start + timedelta(hours=4)


def signed_in(open_page: Callable[..., Page], lot: tuple[str, str], *emails: str) -> list[Page]:
    """A live page per user on the lot's today, each marked so that a reload would show."""
    base_url, timezone = lot
    pages = []
    for email in emails:
        page = open_page(base_url, timezone)
        sign_in_and_go_live(page, email)
        page.evaluate("window.notReloaded = true")
        pages.append(page)
    return pages


def arrival_status(page: Page, spot_number: int, slot: str) -> Locator:
    return page.locator(f'.arrival-status[data-for="{spot_number} {slot}"]')


def release_unannounced(database_url: str, reservation_id: int) -> None:
    """Release a booking as a no-show with the triggers off: no event tells the page."""

    async def run() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute("SET session_replication_role = replica")  # this session fires no trigger
            await conn.execute(
                "UPDATE reservations SET status = 'completed', completed_at = now(), released_by = 'no_show' "
                "WHERE id = $1",
                reservation_id,
            )
        finally:
            await conn.close()

    run_async(run)


def checked_in_clock(database_url: str, reservation_id: int, timezone: str) -> str:
    """When the server recorded the arrival, as the page writes it: "14:02" in the lot's zone."""
    at = run_sql(database_url, "SELECT checked_in_at FROM reservations WHERE id = $1", reservation_id)
    return at.astimezone(ZoneInfo(timezone)).strftime("%H:%M")


def test_a_driver_checks_in_and_their_other_tab_and_the_attendants_board_show_it_live(
    open_page: Callable[..., Page], afternoon_lot: tuple[str, str], database_url: str
) -> None:
    _, timezone = afternoon_lot
    reservation_id = insert_booking(database_url, DRIVER1, 2, *todays_slot(timezone, 1))
    insert_booking(database_url, DRIVER1, 3, *todays_slot(timezone, 2))  # its window opens at 15:45
    tab, other_tab, attendant = signed_in(open_page, afternoon_lot, DRIVER1, DRIVER1, ADMIN)
    check_ins: list[Request] = []
    tab.on("request", lambda request: check_ins.append(request) if request.url.endswith("/check-in") else None)

    # Only the booking under way offers it, and drivers without a booking there see nothing.
    arrive = tab.get_by_role("button", name="I’ve arrived")
    expect(arrive).to_have_count(1)
    expect(arrive).to_have_accessible_name(f"I’ve arrived at Spot 2, {SLOTS[1]}")
    expect(cell(attendant, 2, SLOTS[1])).not_to_have_attribute("data-checked-in", "true")

    arrive.dblclick()  # one gesture, one check-in
    expect(arrival_status(tab, 2, SLOTS[1])).to_contain_text("Checked in at")
    clock = checked_in_clock(database_url, reservation_id, timezone)
    expect(arrival_status(tab, 2, SLOTS[1])).to_have_text(f"✓ Checked in at {clock}")
    expect(arrival_status(other_tab, 2, SLOTS[1])).to_have_text(f"✓ Checked in at {clock}", timeout=LIVE_MS)
    expect(other_tab.get_by_role("button", name="I’ve arrived")).to_have_count(0)
    board_cell = cell(attendant, 2, SLOTS[1])
    expect(board_cell).to_have_attribute("data-checked-in", "true", timeout=LIVE_MS)
    expect(board_cell).to_contain_text(f"Driver 1✓ Arrived {clock}")
    expect(board_cell).to_have_accessible_name(
        f"Spot 2, {SLOTS[1]}, booked by Driver 1 ({DRIVER1}), checked in at {clock}, press to release it"
    )
    assert len(check_ins) == 1
    for page in (other_tab, attendant):
        assert page.evaluate("window.notReloaded") is True


def test_the_attendant_checks_in_a_walk_in_and_a_driver_who_sees_it_live(
    open_page: Callable[..., Page], afternoon_lot: tuple[str, str], database_url: str
) -> None:
    base_url, timezone = afternoon_lot
    start, end = todays_slot(timezone, 1)
    attendant_api = AttendantApi(base_url)
    spots = {spot["spot_number"]: spot["id"] for spot in attendant_api.call("GET", "/spots")["spots"]}
    attendant_api.call(
        "POST",
        "/admin/reservations",
        {
            "spot_id": spots[4],
            "start_time": start.isoformat(),
            "end_time": end.isoformat(),
            "guest": {"name": "Ada Lovelace", "licence_plate": "AB-123-CD"},
        },
    )
    insert_booking(database_url, DRIVER2, 3, start, end)
    insert_booking(database_url, DRIVER2, 5, *todays_slot(timezone, 2))
    driver2, attendant = signed_in(open_page, afternoon_lot, DRIVER2, ADMIN)
    menu = cell_menu(attendant)

    # A walk-in, checked in from the cell menu.
    cell(attendant, 4, SLOTS[1]).click()
    expect(menu).to_contain_text("Held by walk-in Ada Lovelace, plate AB-123-CD.")
    menu.get_by_role("button", name="Check in now").click()  # waits until the menu's actions wake up
    expect(menu).to_have_count(0)
    expect(cell(attendant, 4, SLOTS[1])).to_contain_text("AB-123-CDWalk-in: Ada Lovelace✓ Arrived")

    # A driver: their page shows it at once, and offers "I've arrived" no more.
    expect(driver2.get_by_role("button", name="I’ve arrived")).to_have_count(1)
    cell(attendant, 3, SLOTS[1]).click()
    menu.get_by_role("button", name="Check in now").click()
    expect(arrival_status(driver2, 3, SLOTS[1])).to_contain_text("Checked in at", timeout=LIVE_MS)
    expect(driver2.get_by_role("button", name="I’ve arrived")).to_have_count(0)
    expect(cell(attendant, 3, SLOTS[1])).to_contain_text("Driver 2✓ Arrived")
    assert driver2.evaluate("window.notReloaded") is True

    # The menu of a checked-in cell says so; one whose window is not open says when it opens.
    cell(attendant, 3, SLOTS[1]).click()
    expect(menu).to_contain_text("✓ Arrived at")
    expect(menu.get_by_role("button", name="Check in now")).to_have_count(0)
    menu.get_by_role("button", name="Keep it").click()
    cell(attendant, 5, SLOTS[2]).click()
    today = datetime.now(ZoneInfo(timezone)).date()
    expect(menu).to_contain_text(f"Not arrived yet: check-in opens at 15:45 on {day_label(today.isoformat())}.")
    expect(menu.get_by_role("button", name="Check in now")).to_have_count(0)


def test_a_refused_check_in_shows_the_servers_message(
    open_page: Callable[..., Page], afternoon_lot: tuple[str, str], database_url: str
) -> None:
    _, timezone = afternoon_lot
    reservation_id = insert_booking(database_url, DRIVER1, 2, *todays_slot(timezone, 1))
    (page,) = signed_in(open_page, afternoon_lot, DRIVER1)
    release_unannounced(database_url, reservation_id)
    page.get_by_role("button", name="I’ve arrived").click()
    expect(page.locator(".parking-notice-text")).to_have_text(
        "This booking has been released (no-show); there is nothing to check in to."
    )
    expect(cell(page, 2, SLOTS[1])).to_have_attribute("data-state", "available")  # the grid, reloaded
    expect(page.get_by_role("button", name="I’ve arrived")).to_have_count(0)


@pytest.mark.parametrize("width", [375, 320])
def test_checking_in_fits_a_phone(
    open_page: Callable[..., Page], afternoon_lot: tuple[str, str], database_url: str, width: int
) -> None:
    base_url, timezone = afternoon_lot
    AttendantApi(base_url).call("PUT", "/admin/rules", {"no_show_grace_minutes": 240})
    insert_booking(database_url, DRIVER1, 5, *todays_slot(timezone, 1))
    page = open_page(base_url, timezone)
    page.set_viewport_size({"width": width, "height": PHONE_HEIGHT})
    sign_in_and_go_live(page, DRIVER1)

    arrive = page.get_by_role("button", name="I’ve arrived")
    expect(page.locator(".arrival-deadline")).to_have_text("Check in by 16:00, or the booking is released.")
    assert_layout_fits(page)  # the button is a full-width 44 px target under the cell
    arrive.click()
    expect(arrival_status(page, 5, SLOTS[1])).to_contain_text("Checked in at")
    box = arrival_status(page, 5, SLOTS[1]).bounding_box()
    assert box is not None and box["height"] >= 44  # in the button's place: nothing below moves up under the finger
    assert_layout_fits(page)


def test_a_no_show_release_tells_the_driver_why(
    open_page: Callable[..., Page], afternoon_lot: tuple[str, str], database_url: str
) -> None:
    base_url, timezone = afternoon_lot
    insert_booking(database_url, DRIVER1, 2, *todays_slot(timezone, 1))
    (page,) = signed_in(open_page, afternoon_lot, DRIVER1)
    AttendantApi(base_url).call("PUT", "/admin/rules", {"no_show_grace_minutes": 60})  # it began over an hour ago

    # The server sweeps every second.
    expect(cell(page, 2, SLOTS[1])).to_have_attribute("data-state", "available", timeout=5_000)
    today = datetime.now(ZoneInfo(timezone)).date()
    expect(page.locator(".parking-notice-text")).to_have_text(
        f"Your booking of Spot 2 ({day_label(today.isoformat())}, {SLOTS[1]}) was released: "
        "nobody checked in within its 60-minute grace period."
    )
    assert page.evaluate("window.notReloaded") is True
