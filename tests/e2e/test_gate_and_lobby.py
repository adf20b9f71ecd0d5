"""At 375 px: the attendant looks a plate up, checks its booking in and books a walk-in; the lobby updates live."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from .ui import (
    ADMIN,
    DRIVER1,
    PASSWORD,
    AttendantApi,
    api_call,
    csp_violations,
    record_csp_violations,
    screenshot_path,
    sign_in_and_go_live,
)

PHONE = {"width": 375, "height": 812}
SCREEN = {"width": 1920, "height": 1080}
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def new_context(browser: Browser, reset_db: str) -> Iterator:
    contexts: list[BrowserContext] = []

    def make(viewport: dict[str, int], timezone: str) -> Page:
        context = browser.new_context(viewport=viewport, timezone_id=timezone)
        record_csp_violations(context)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def current_slot(attendant: AttendantApi) -> dict:
    """Today's 12:00–16:00 slot of the afternoon lot: in progress."""
    spots = attendant.call("GET", "/spots")
    return spots["slots"][1]


def test_the_attendant_checks_a_plate_in_and_books_a_walk_in_with_one_tap_each(afternoon_lot, new_context, tmp_path):
    base_url, zone = afternoon_lot
    attendant = AttendantApi(base_url)
    driver = api_call(base_url, "POST", "/login", {"email": DRIVER1, "password": PASSWORD})["token"]
    api_call(base_url, "POST", "/me/vehicles", {"licence_plate": "GT-42-AB", "label": "Red Clio"}, driver)
    slot = current_slot(attendant)
    spot_two = next(s for s in attendant.call("GET", "/spots")["spots"] if s["spot_number"] == 2)
    api_call(base_url, "POST", "/reservations", {"spot_id": spot_two["id"], **{k: slot[k] for k in ("start_time", "end_time")}}, driver)

    page = new_context(PHONE, zone)
    page.goto(base_url + "/login")
    sign_in_and_go_live(page, ADMIN)
    plate = page.locator("#gate-plate")
    assert float(plate.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")) >= 16  # no zoom on focus
    plate.fill("gt 42 ab")
    plate.press("Enter")
    card = page.locator('[data-holder^="driver:"]')
    expect(card).to_contain_text("Driver 1")
    expect(card).to_contain_text("Spot 2 · Floor 1")
    expect(card).to_contain_text("Not checked in yet")
    page.screenshot(path=str(screenshot_path(tmp_path, "gate-phone.png")), full_page=False)
    card.get_by_role("button", name="Check in").click()
    expect(card.locator(".gate-confirm")).to_contain_text("Checked in at")
    expect(card.get_by_role("button", name="Check in")).to_have_count(0)
    # The desk's "Recent actions" shows it, live.
    expect(page.locator('.recent-actions [data-action="reservation.checked_in"]')).to_have_count(1)
    assert page.evaluate(SIDEWAYS) <= 0
    # A release's reason stops at the server's limit (GET /lot), then "Keep it" keeps the booking.
    card.get_by_role("button", name="Release…").click()
    max_reason = attendant.call("GET", "/lot")["limits"]["max_reason"]
    expect(card.locator(".gate-reason")).to_have_attribute("maxlength", str(max_reason))
    card.get_by_role("button", name="Keep it").click()
    expect(card.locator(".gate-reason")).to_have_count(0)

    # An unknown plate: one tap books a walk-in in the slot now, the plate filled in.
    plate.fill("NEW 77")
    plate.press("Enter")
    unknown = page.locator('[data-holder="new"]')
    expect(unknown).to_contain_text("No booking for NEW 77")
    unknown.get_by_role("button", name="Book a walk-in here").click()
    expect(page.locator(".gate-confirm").filter(has_text="Booked Spot")).to_be_visible()
    board = attendant.call("GET", "/admin/board")
    walk_ins = [c for s in board["spots"] for c in s["slots"] if c.get("holder", {}).get("licence_plate") == "NEW 77"]
    assert [c["label"] for c in walk_ins] == [slot["label"]]
    assert page.evaluate(SIDEWAYS) <= 0
    page.set_viewport_size({"width": 320, "height": 700})
    assert page.evaluate(SIDEWAYS) <= 0
    assert csp_violations(page) == []


def test_the_lobby_updates_within_a_second_of_a_booking(afternoon_lot, new_context, tmp_path):
    base_url, zone = afternoon_lot
    attendant = AttendantApi(base_url)
    path = attendant.call("POST", "/admin/lobby")["path"]
    screen = new_context(SCREEN, zone)
    screen.goto(base_url + path)
    expect(screen.locator("body[data-socket=open]")).to_be_attached(timeout=10_000)
    last_slot = screen.locator('[data-floor="2"][data-slot="2"] .lobby-count')
    expect(last_slot).to_have_text("2")
    spots = attendant.call("GET", "/spots")
    spot_four = next(s for s in spots["spots"] if s["spot_number"] == 4)
    slot = spots["slots"][2]
    attendant.call(
        "POST",
        "/admin/reservations",
        {"spot_id": spot_four["id"], "start_time": slot["start_time"], "end_time": slot["end_time"],
         "guest": {"name": "Ada", "licence_plate": "LOBBY-9"}},
    )  # fmt: skip
    expect(last_slot).to_have_text("1", timeout=1_000)
    expect(screen.locator("#lobby-board")).not_to_contain_text("LOBBY-9")
    screen.screenshot(path=str(screenshot_path(tmp_path, "lobby.png")))
    assert csp_violations(screen) == []
    # Readable on a phone too: nothing scrolls sideways.
    screen.set_viewport_size(PHONE)
    assert screen.evaluate(SIDEWAYS) <= 0
