"""'Add to my calendar': the feed URL made, shown only in its field, copied, and replaced."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from .layout import PHONE_HEIGHT, assert_layout_fits
from .ui import DRIVER1, SLOTS, cell, choose_date, sign_in_and_go_live, utc_day

FEED_URL = re.compile(r"^http://127\.0\.0\.1:\d+/calendar/[A-Za-z0-9_-]{43}\.ics$")
# As if served over plain HTTP from another host: no Clipboard API.
WITHOUT_CLIPBOARD = "delete Navigator.prototype.clipboard;"


def fetch(url: str) -> tuple[int, str, str]:
    """(status, Content-Type, body) of a GET, as a calendar app would make it."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


@pytest.fixture
def new_context(browser: Browser, reset_db: str) -> Iterator[Callable[..., BrowserContext]]:
    contexts = []

    def new(width: int = 1100) -> BrowserContext:
        context = browser.new_context(viewport={"width": width, "height": PHONE_HEIGHT})
        contexts.append(context)
        return context

    yield new
    for context in contexts:
        context.close()


def signed_in_driver(context: BrowserContext, base_url: str) -> Page:
    page = context.new_page()
    page.goto(base_url + "/login")
    sign_in_and_go_live(page, DRIVER1)
    return page


def calendar_section(page: Page) -> Locator:
    return page.locator(".calendar-link")


def test_the_calendar_link_fetches_the_feed_copies_and_a_new_link_kills_the_old(
    new_context: Callable[..., BrowserContext], app_url: str
) -> None:
    context = new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url)
    page = signed_in_driver(context, app_url)
    choose_date(page, utc_day(1))
    cell(page, 2, SLOTS[0]).click()
    expect(cell(page, 2, SLOTS[0])).to_have_attribute("data-state", "mine")
    section = calendar_section(page)

    section.get_by_role("button", name="Add to my calendar").click()
    field = section.get_by_label("Your calendar link")
    expect(field).to_have_value(FEED_URL)
    expect(field).to_have_attribute("readonly", "")
    url = field.input_value()
    status, content_type, body = fetch(url)
    assert (status, content_type) == (200, "text/calendar; charset=utf-8")
    assert body.startswith("BEGIN:VCALENDAR") and body.count("BEGIN:VEVENT") == 1
    # The key is in the field's value only: in no attribute and no text of the page.
    key = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert key not in page.content()

    section.get_by_role("button", name="Copy the link").click()
    expect(section.get_by_role("status")).to_have_text("Copied. Paste it into your calendar app.")
    assert page.evaluate("navigator.clipboard.readText()") == url

    # A new link asks first, since subscribed calendars stop updating; keeping it changes nothing.
    section.get_by_role("button", name="New link…").click()
    question = page.get_by_role("dialog", name="Replace your calendar link?")
    expect(question).to_contain_text("The link shown stops working at once")
    question.get_by_role("button", name="Keep it").click()
    expect(question).to_have_count(0)
    expect(field).to_have_value(url)
    assert fetch(url)[0] == 200

    section.get_by_role("button", name="New link…").click()
    question.get_by_role("button", name="Replace it").click()  # waits until it wakes up
    expect(field).not_to_have_value(url)
    expect(field).to_have_value(FEED_URL)
    expect(section.locator(".calendar-link-status")).to_have_text("")  # "Copied" was about the old link
    assert fetch(url)[0] == 404
    assert fetch(field.input_value())[:2] == (200, "text/calendar; charset=utf-8")


@pytest.mark.parametrize("width", [375, 320])
def test_without_a_clipboard_the_link_is_selected_to_copy_by_hand_and_fits_a_phone(
    new_context: Callable[..., BrowserContext], app_url: str, width: int
) -> None:
    context = new_context(width)
    context.add_init_script(WITHOUT_CLIPBOARD)
    page = signed_in_driver(context, app_url)
    section = calendar_section(page)
    assert_layout_fits(page)

    made: list[str] = []
    page.on("request", lambda request: made.append(request.method) if request.url.endswith("/me/calendar") else None)
    section.get_by_role("button", name="Add to my calendar").dblclick()
    field = section.get_by_label("Your calendar link")
    expect(field).to_have_value(FEED_URL)
    assert made == ["POST"]  # one gesture, one link
    section.get_by_role("button", name="Copy the link").click()
    expect(section.get_by_role("status")).to_contain_text("the link is selected, so copy it yourself")
    selected = page.evaluate(
        "() => { const f = document.activeElement; return [f.id, f.value.slice(f.selectionStart, f.selectionEnd)]; }"
    )
    assert selected == ["calendar-url", field.input_value()]
    assert fetch(field.input_value())[0] == 200
    # The whole link is in view, wrapped inside its field, and nothing scrolls sideways.
    assert field.evaluate("(f) => f.scrollHeight <= f.clientHeight && f.scrollWidth <= f.clientWidth")
    assert_layout_fits(page)
