"""One gesture, one intent: a double-click books once, and a release needs a confirmation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Locator, Page, Request, Route, expect

from .ui import (
    DRIVER1,
    SLOTS,
    cell,
    choose_date,
    release_dialog,
    run_sql,
    sign_in_and_go_live,
    utc_day,
)

RESERVATION_COUNTS = """
SELECT json_build_object('booked', count(*) FILTER (WHERE status = 'booked'),
                         'completed', count(*) FILTER (WHERE status = 'completed'))::text
FROM reservations
"""


def centre(locator: Locator) -> tuple[float, float]:
    box = locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def click_twice(page: Page, target: Locator, interval_ms: int, as_double_click: bool) -> None:
    """Two clicks on one spot, `interval_ms` apart, as a person makes them.

    As a double-click the second press carries click count 2 (event.detail 2); otherwise it
    is a second single click, as some touch screens and assistive tools send.
    """
    x, y = centre(target)
    page.mouse.click(x, y)
    page.wait_for_timeout(interval_ms)  # the person's pause: part of the input, not a wait for a result
    if as_double_click:
        page.mouse.down(click_count=2)
        page.mouse.up(click_count=2)
    else:
        page.mouse.click(x, y)


def record_requests(page: Page) -> list[str]:
    """The page's writes from now on, as "METHOD url"."""
    writes: list[str] = []

    def record(request: Request) -> None:
        if request.method in ("POST", "PUT"):
            writes.append(f"{request.method} {request.url}")

    page.on("request", record)
    return writes


def test_a_double_click_on_a_free_cell_books_it_once_and_never_releases_it(
    open_page: Callable[..., Page], app_url: str, database_url: str
) -> None:
    page = open_page(app_url)
    sign_in_and_go_live(page, DRIVER1)
    writes = record_requests(page)
    # One slot per case: a driver holds one spot per slot.
    cases = [
        (1, SLOTS[0], 60, True),
        (1, SLOTS[1], 200, True),
        (1, SLOTS[2], 60, False),
        (2, SLOTS[0], 200, False),
    ]
    for days_ahead, slot, interval_ms, as_double_click in cases:
        if page.locator("#date-select").input_value() != utc_day(days_ahead):
            choose_date(page, utc_day(days_ahead))
        click_twice(page, cell(page, 2, slot), interval_ms, as_double_click)
        expect(cell(page, 2, slot)).to_have_attribute("data-state", "mine", timeout=5_000)
        expect(release_dialog(page)).to_have_count(0)

    assert [write.split(" ")[0] for write in writes] == ["POST"] * len(cases)
    assert run_sql(database_url, RESERVATION_COUNTS) == '{"booked" : 4, "completed" : 0}'


def test_a_cell_with_a_booking_in_flight_ignores_further_clicks(
    open_page: Callable[..., Page], app_url: str, database_url: str
) -> None:
    page = open_page(app_url)
    sign_in_and_go_live(page, DRIVER1)
    choose_date(page, utc_day(1))
    held: list[Route] = []
    # The answer waits until the test lets it through.
    page.route("**/reservations", lambda route: held.append(route))
    writes = record_requests(page)
    target = cell(page, 4, SLOTS[1])

    with page.expect_request("**/reservations"):
        click_twice(page, target, 120, as_double_click=False)
    expect(target).to_have_attribute("data-state", "pending")
    target.click(force=True)  # a third, deliberate click: still in flight, still ignored
    held[0].continue_()

    expect(target).to_have_attribute("data-state", "mine", timeout=5_000)
    assert writes == [f"POST {page.url.removesuffix('/slots')}/reservations"]
    assert run_sql(database_url, RESERVATION_COUNTS) == '{"booked" : 1, "completed" : 0}'


def test_releasing_asks_first_and_the_rest_of_a_double_click_cannot_confirm(
    open_page: Callable[..., Page], app_url: str, database_url: str
) -> None:
    page = open_page(app_url)
    page.clock.install()  # time runs normally, until the test pauses it below
    page.reload()
    sign_in_and_go_live(page, DRIVER1)
    choose_date(page, utc_day(1))
    yours = cell(page, 5, SLOTS[2])
    yours.click()
    expect(yours).to_have_attribute("data-state", "mine", timeout=5_000)
    expect(yours).to_be_enabled()  # quiet for half a second after the booking (aria-disabled)
    writes = record_requests(page)
    dialog = release_dialog(page)
    release_button = dialog.get_by_role("button", name="Release")

    # Timers stop here, so the dialog stays exactly as young as it is when it opens.
    page.clock.pause_at(datetime.now(UTC) + timedelta(seconds=5))
    yours.click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"Spot 5 · {SLOTS[2]} ·")
    expect(dialog.get_by_role("button", name="Keep it")).to_be_focused()
    # The rest of the double-click lands on Release, then one more quick tap: neither counts.
    x, y = centre(release_button)
    page.mouse.move(x, y)
    page.mouse.down(click_count=2)
    page.mouse.up(click_count=2)
    page.mouse.click(x, y)
    expect(release_button).to_be_disabled()
    expect(dialog).to_be_visible()
    assert writes == []

    # Awake after half a second: now a click releases.
    page.clock.run_for(600)
    release_button.click()
    expect(dialog).to_have_count(0)
    expect(yours).to_have_attribute("data-state", "available", timeout=5_000)
    assert [write.split(" ")[0] for write in writes] == ["PUT"]
    assert run_sql(database_url, RESERVATION_COUNTS) == '{"booked" : 0, "completed" : 1}'


def test_keep_it_or_escape_closes_the_question_and_keeps_the_booking(
    open_page: Callable[..., Page], app_url: str, database_url: str
) -> None:
    page = open_page(app_url)
    sign_in_and_go_live(page, DRIVER1)
    choose_date(page, utc_day(1))
    yours = cell(page, 3, SLOTS[0])
    yours.click()
    expect(yours).to_have_attribute("data-state", "mine", timeout=5_000)
    writes = record_requests(page)

    yours.click()
    release_dialog(page).get_by_role("button", name="Keep it").click()
    expect(release_dialog(page)).to_have_count(0)
    yours.click()
    expect(release_dialog(page)).to_be_visible()
    page.keyboard.press("Escape")
    expect(release_dialog(page)).to_have_count(0)
    expect(yours).to_be_focused()  # back where the driver was

    expect(yours).to_have_attribute("data-state", "mine")
    assert writes == []
    assert run_sql(database_url, RESERVATION_COUNTS) == '{"booked" : 1, "completed" : 0}'
