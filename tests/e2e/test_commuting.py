"""A commuter's week at 375 px: any spot in one tap, My bookings live, weekly repeats."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from .ui import (
    DRIVER1,
    DRIVER2,
    SLOTS,
    AttendantApi,
    api_call,
    at,
    cell,
    choose_date,
    insert_booking,
    screenshot,
    signed_in_phone,
    utc_day,
)

LIVE_MS = 2_000


def test_any_spot_books_in_one_tap_at_375_px(phone, app_url: str) -> None:
    page = signed_in_phone(phone(), app_url)
    choose_date(page, utc_day(1))
    any_evening = page.get_by_role("button", name=f"Any spot, {SLOTS[2]}")
    # On phones the control sits above the per-spot cards.
    assert any_evening.bounding_box()["y"] < cell(page, 1, SLOTS[0]).bounding_box()["y"]
    assert any_evening.bounding_box()["height"] >= 44
    any_evening.click()
    # Lowest floor, then lowest number, never the accessible Spot 1.
    expect(cell(page, 2, SLOTS[2])).to_have_attribute("data-state", "mine")
    expect(page.locator(".parking-notice")).to_contain_text("Booked Spot 2 (Floor 1)")
    expect(page.locator(".my-booking")).to_have_count(1)
    expect(page.locator(".my-booking").first).to_contain_text("Spot 2 · Floor 1")
    expect(any_evening).to_be_disabled()  # one spot per driver per slot


def test_my_bookings_come_first_three_at_a_time_and_follow_the_attendant_live(
    phone, app_url: str, reset_db: str, tmp_path: Path
) -> None:
    ids = [insert_booking(reset_db, DRIVER1, n, *at(1 + n, 0)) for n in (2, 3, 4, 5)]
    page = signed_in_phone(phone(), app_url)
    rows = page.locator(".my-booking")
    expect(rows).to_have_count(3)  # the next three
    assert page.locator(".my-bookings").bounding_box()["y"] < page.locator(".parking-grid").bounding_box()["y"]
    expect(rows.first).to_contain_text("Spot 2 · Floor 1")
    expect(rows.first).to_contain_text("08:00–12:00")
    page.get_by_role("button", name="Show all (4)").click()
    expect(rows).to_have_count(4)
    screenshot(page, "my-bookings-phone.png", tmp_path)

    AttendantApi(app_url).call("PUT", f"/admin/reservations/{ids[0]}/release", {"reason": "Resurfacing the ramp"})
    expect(rows).to_have_count(3, timeout=LIVE_MS)
    expect(page.locator(".my-bookings-note")).to_contain_text("The attendant released Spot 2: Resurfacing the ramp")

    # Release from the list asks first, like the grid.
    rows.first.get_by_role("button", name="Release").click()
    dialog = page.get_by_role("dialog", name="Release this booking?")
    dialog.get_by_role("button", name="Release").click()
    expect(rows).to_have_count(2, timeout=LIVE_MS)


def test_repeat_weekly_shows_each_dates_outcome_and_the_series_can_be_stopped(
    phone, app_url: str, reset_db: str
) -> None:
    attendant = AttendantApi(app_url)
    attendant.call("PUT", "/admin/rules", {"booking_horizon_days": 20})
    insert_booking(reset_db, DRIVER1, 3, *at(1, 0))
    # A week later someone else holds Spot 3 in that slot.
    taken_start, taken_end = at(8, 0)
    driver2 = api_call(app_url, "POST", "/login", {"email": DRIVER2, "password": "password123"})["token"]
    api_call(
        app_url,
        "POST",
        "/reservations",
        {"spot_id": attendant.board_cell(utc_day(8), 3, SLOTS[0])["spot_id"],
         "start_time": taken_start.isoformat(), "end_time": taken_end.isoformat()},
        driver2,
    )
    page = signed_in_phone(phone(), app_url)
    page.locator(".my-booking").first.get_by_role("button", name="Repeat weekly…").click()
    dialog = page.get_by_role("dialog", name="Repeat weekly")
    dialog.get_by_label("Another free spot when this one is taken").uncheck()
    dialog.get_by_role("button", name="Repeat").click()
    outcomes = dialog.locator(".repeat-outcome")
    expect(outcomes).to_have_count(4)
    # A week after the booking: someone else holds Spot 3; then booked; then beyond the
    # 20-day horizon, pending.
    expect(outcomes.nth(0)).to_have_attribute("data-status", "refused")
    expect(outcomes.nth(0)).to_contain_text("Not booked: Spot #3 is already booked")
    expect(outcomes.nth(1)).to_contain_text("Booked: Spot 3")
    expect(outcomes.nth(2)).to_contain_text("Pending")
    expect(outcomes.nth(3)).to_contain_text("Pending")
    dialog.get_by_role("button", name="Done").click()

    series = page.locator(".my-series")
    expect(series).to_have_count(1)
    expect(series).to_contain_text("Every")
    expect(page.locator(".my-booking")).to_have_count(2)
    series.get_by_role("button", name="Stop series").click()
    expect(series).to_have_count(0, timeout=LIVE_MS)
    expect(page.locator(".my-booking")).to_have_count(1)  # the booking it repeated stays


def test_my_bookings_follow_the_drivers_own_bookings_in_another_tab_and_repeat_from_a_cell(
    phone, app_url: str
) -> None:
    first = signed_in_phone(phone(), app_url)
    second = signed_in_phone(phone(), app_url)
    choose_date(second, utc_day(1))
    second.get_by_role("button", name=f"Any spot, {SLOTS[1]}").click()
    expect(first.locator(".my-booking")).to_have_count(1, timeout=LIVE_MS)
    expect(first.locator(".my-booking")).to_contain_text("12:00–16:00")
    # "Repeat weekly…" from the booked cell opens the same dialog for that booking.
    second.get_by_role("button", name=f"Repeat weekly: Spot 2, {SLOTS[1]}").click()
    dialog = second.get_by_role("dialog", name="Repeat weekly")
    expect(dialog).to_contain_text("Spot 2 · 12:00–16:00")
    dialog.get_by_role("button", name="Repeat").click()
    expect(dialog.locator(".repeat-outcome[data-status='booked']")).to_have_count(4)
    dialog.get_by_role("button", name="Done").click()
    expect(first.locator(".my-series")).to_have_count(1, timeout=LIVE_MS)
