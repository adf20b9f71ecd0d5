"""The legacy pages with the real login, and the parking grid's shape, dates and lifecycle."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, Route, WebSocketRoute, expect

from .ui import (
    BOOKING_HORIZON_DAYS,
    DRIVER1,
    SESSION_ENDED,
    SLOTS,
    cell,
    choose_date,
    forge_token,
    sign_in,
    sign_in_and_go_live,
    utc_day,
)


def test_wrong_password_shows_the_servers_message_on_the_login_page(
    open_page: Callable[..., Page], app_url: str
) -> None:
    page = open_page(app_url)
    sign_in(page, DRIVER1, password="wrong-password")
    expect(page.locator(".error-msg")).to_have_text("Email or password is incorrect.", timeout=5_000)
    expect(page.locator("#submit-btn")).to_have_text("Sign in")
    expect(page).to_have_url(app_url + "/login")


def test_seed_driver_signs_in_and_lands_on_the_slots_page(
    open_page: Callable[..., Page], app_url: str
) -> None:
    page = open_page(app_url)
    sign_in_and_go_live(page, DRIVER1)
    expect(page).to_have_url(app_url + "/slots")
    expect(page.locator(".user-greeting")).to_have_text("Hello, Driver 1")
    expect(page.locator("#date-select")).to_have_value(utc_day(0))


def test_date_select_offers_the_lots_calendar_whatever_the_browsers_zone(
    open_page: Callable[..., Page], app_url: str
) -> None:
    # The lot is in UTC. Kiritimati is 14 hours ahead of it and Pago Pago 11 hours
    # behind, so at any hour at least one of them is on another calendar day.
    lot_today = date.fromisoformat(utc_day(0))
    browser_days = set()
    for timezone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        page = open_page(app_url, timezone)
        sign_in_and_go_live(page, DRIVER1)
        options = page.locator("#date-select option")
        expect(options).to_have_count(BOOKING_HORIZON_DAYS + 1)
        expect(options.first).to_have_attribute("value", lot_today.isoformat())
        expect(options.first).to_have_text(f"Today ({lot_today:%d/%m/%Y})")
        expect(options.nth(3)).to_have_text(f"{lot_today + timedelta(days=3):%A (%d/%m/%Y)}")
        expect(options.last).to_have_attribute("value", utc_day(BOOKING_HORIZON_DAYS))
        expect(page.locator("#date-select")).to_have_value(lot_today.isoformat())
        expect(page.locator(".parking-timezone")).to_contain_text("UTC")
        browser_days.add(datetime.now(ZoneInfo(timezone)).date())
    assert browser_days != {lot_today}


def test_a_change_of_the_lots_rules_rebuilds_the_date_select(
    open_page: Callable[..., Page], app_url: str
) -> None:
    """The server will announce rules.changed; here the test plays that part over the real socket."""
    page = open_page(app_url)
    horizon = {"days": BOOKING_HORIZON_DAYS}

    def lot_with_horizon(route: Route) -> None:
        response = route.fetch()
        calendar = response.json()
        last = date.fromisoformat(calendar["today"]) + timedelta(days=horizon["days"])
        route.fulfill(response=response, json={**calendar, "last_bookable_day": last.isoformat()})

    sockets: list[WebSocketRoute] = []

    def pass_through(socket: WebSocketRoute) -> None:
        socket.connect_to_server()  # with no handlers of its own, every message passes both ways
        sockets.append(socket)

    page.route("**/lot", lot_with_horizon)
    page.route_web_socket("**/ws", pass_through)
    sign_in_and_go_live(page, DRIVER1)
    options = page.locator("#date-select option")
    expect(options).to_have_count(BOOKING_HORIZON_DAYS + 1)
    choose_date(page, utc_day(20))

    # The horizon shrinks to a week: day 20 is no longer bookable, so the grid goes back to today.
    horizon["days"] = 7
    with page.expect_response(lambda response: response.url.endswith(f"/spots?date={utc_day(0)}")):
        sockets[-1].send(json.dumps({"type": "rules.changed"}))
    expect(options).to_have_count(8)
    expect(options.last).to_have_attribute("value", utc_day(7))
    expect(page.locator("#date-select")).to_have_value(utc_day(0))
    expect(page.locator("[data-state]")).to_have_count(15)

    # It grows again: the driver's choice stays where it is.
    choose_date(page, utc_day(5))
    horizon["days"] = 14
    sockets[-1].send(json.dumps({"type": "rules.changed"}))
    expect(options).to_have_count(15)
    expect(page.locator("#date-select")).to_have_value(utc_day(5))


def test_grid_has_five_spots_by_three_slots(open_page: Callable[..., Page], app_url: str) -> None:
    page = open_page(app_url)
    sign_in_and_go_live(page, DRIVER1)
    choose_date(page, utc_day(1))
    expect(page.locator(".parking-grid thead th")).to_have_text(["Spot", *SLOTS])
    expect(page.locator(".parking-grid tbody tr")).to_have_count(5)
    for spot_number in range(1, 6):
        expect(page.locator(f'button[data-spot="{spot_number}"]')).to_have_count(3)
    expect(page.locator(".parking-timezone")).to_contain_text("UTC")
    expect(cell(page, 3, SLOTS[0])).to_have_attribute("aria-label", "Spot 3, 08:00–12:00, available")


def test_changing_the_date_loads_that_dates_grid(open_page: Callable[..., Page], app_url: str) -> None:
    page = open_page(app_url)
    sign_in_and_go_live(page, DRIVER1)
    tomorrow, day_after = utc_day(1), utc_day(2)
    choose_date(page, tomorrow)
    cell(page, 1, SLOTS[0]).click()
    expect(cell(page, 1, SLOTS[0])).to_have_attribute("data-state", "mine", timeout=5_000)

    choose_date(page, day_after)
    expect(cell(page, 1, SLOTS[0])).to_have_attribute("data-state", "available")

    choose_date(page, tomorrow)
    expect(cell(page, 1, SLOTS[0])).to_have_attribute("data-state", "mine")


def test_a_rejected_token_sends_the_driver_to_login_with_a_message(
    open_page: Callable[..., Page], app_url: str
) -> None:
    page = open_page(app_url)
    sign_in_and_go_live(page, DRIVER1)
    # Still unexpired as far as the browser knows, but the server will refuse it.
    forge_token(page)
    page.select_option("#date-select", utc_day(1))  # the grid's GET /spots gets a 401
    expect(page).to_have_url(app_url + "/login", timeout=5_000)
    expect(page.locator(".error-msg")).to_have_text(SESSION_ENDED)


# Counts the WebSockets the page creates, in the page itself, so the count is exact.
COUNT_SOCKETS = """
window.socketsCreated = 0;
window.WebSocket = class extends window.WebSocket {
  constructor(...args) {
    super(...args);
    window.socketsCreated += 1;
  }
};
"""


def test_logout_closes_the_socket_and_it_never_reconnects(
    open_page: Callable[..., Page], app_url: str
) -> None:
    page = open_page(app_url)
    page.clock.install()  # time runs normally, but can be fast-forwarded below
    page.add_init_script(COUNT_SOCKETS)
    page.reload()
    with page.expect_websocket() as opened:
        sign_in_and_go_live(page, DRIVER1)
    socket = opened.value
    view = page.locator("#parking-slots-view").element_handle()

    with socket.expect_event("close", timeout=5_000):
        page.click("#logout-btn")
    expect(page.locator("#login-form")).to_be_visible()
    assert view.get_attribute("data-socket") == "closed"

    # A zombie socket would retry within the 15 s backoff cap: run a minute of timers now.
    page.clock.run_for(60_000)
    assert page.evaluate("window.socketsCreated") == 1
