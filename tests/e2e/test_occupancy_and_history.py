"""The occupancy chart under the grid and the driver's CSV history download."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from .ui import (
    DRIVER1,
    DRIVER2,
    SESSION_ENDED,
    SLOTS,
    cell,
    choose_date,
    forge_token,
    insert_booking,
    insert_past_reservation,
    run_sql,
    sign_in_and_go_live,
    utc_day,
)


def short_day(day: str) -> str:
    """'2026-10-23' -> '23 Oct', as the chart writes it."""
    value = date.fromisoformat(day)
    return f"{value.day} {value:%b}"


def test_chart_shows_24_hours_and_highlights_the_peak_once_a_booking_exists(
    open_page: Callable[..., Page], app_url: str, database_url: str
) -> None:
    # The driver's own booking for tomorrow has occupied nothing yet, and the chart says so.
    tomorrow_morning = datetime.combine(datetime.now(UTC).date() + timedelta(days=1), time(8), UTC)
    insert_booking(database_url, DRIVER1, 2, tomorrow_morning, tomorrow_morning + timedelta(hours=4))
    page = open_page(app_url)
    sign_in_and_go_live(page, DRIVER1)
    chart = page.get_by_test_id("occupancy-chart")
    expect(chart.locator("[data-hour]")).to_have_count(24, timeout=10_000)
    expect(chart.locator('[data-peak="true"]')).to_have_count(0)
    expect(page.locator(".occupancy-summary")).to_have_text(
        "No spot has been occupied in this period so far: a booking counts once its slot has started."
    )
    expect(page.locator(".occupancy-range")).to_have_text(
        f"Last 30 days: {short_day(utc_day(-29))} – {short_day(utc_day(0))} · hours in UTC"
    )

    # Yesterday 08:00–12:00 in the lot's zone (UTC), while the page is open.
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    morning = datetime.combine(yesterday, time(8), UTC)
    insert_past_reservation(database_url, DRIVER2, 1, morning, morning + timedelta(hours=4))

    expect(chart.locator('[data-peak="true"]')).to_have_count(4, timeout=10_000)
    for hour in range(8, 12):
        expect(chart.locator(f'[data-hour="{hour}"]')).to_have_attribute("data-peak", "true")
    expect(chart.locator('[data-hour="12"]')).to_have_attribute("data-peak", "false")
    expect(chart.locator(".occupancy-peak-marker")).to_have_count(4)  # a text marker, not colour alone
    # One spot of five for one day of thirty.
    summary = "Busiest: 08:00–12:00, 0.7% of spots on average."
    expect(page.locator(".occupancy-summary")).to_have_text(summary)
    expect(page.get_by_role("img", name=re.compile(re.escape(summary)))).to_be_visible()

    # Two spots yesterday evening: a new peak. The inserts' events reach the page over the
    # socket and refresh the chart; nothing else would (no reload, no reconnect).
    evening = datetime.combine(yesterday, time(16), UTC)
    for spot_number in (2, 3):
        insert_past_reservation(database_url, DRIVER2, spot_number, evening, evening + timedelta(hours=4))
    expect(page.locator(".occupancy-summary")).to_have_text(
        "Busiest: 16:00–20:00, 1.3% of spots on average.", timeout=10_000
    )
    expect(chart.locator('[data-peak="true"]')).to_have_count(4)
    expect(chart.locator('[data-hour="8"]')).to_have_attribute("data-peak", "false")


def test_the_chart_gives_the_no_show_rate_once_a_booked_slot_has_started(
    open_page: Callable[..., Page], app_url: str, database_url: str
) -> None:
    page = open_page(app_url)
    sign_in_and_go_live(page, DRIVER1)
    expect(page.locator(".occupancy-summary")).to_be_visible(timeout=10_000)
    no_shows = page.locator(".occupancy-no-shows")
    expect(no_shows).to_have_count(0)  # no slot has started: no rate, rather than a made-up 0%

    # Yesterday morning one driver came and one did not; their events refresh the chart.
    morning = datetime.combine(datetime.now(UTC).date() - timedelta(days=1), time(8), UTC)
    insert_past_reservation(database_url, DRIVER1, 1, morning, morning + timedelta(hours=4))
    run_sql(
        database_url,
        """
        INSERT INTO reservations (user_id, spot_id, start_time, end_time, status, completed_at, released_by)
        SELECT u.id, s.id, $1, $2, 'completed', $1::timestamptz + interval '30 minutes', 'no_show'
        FROM users u, spots s WHERE u.email = $3 AND s.spot_number = 2
        """,
        morning,
        morning + timedelta(hours=4),
        DRIVER2,
    )
    expect(no_shows).to_have_text("No-shows: 50% of the bookings whose slot started.", timeout=10_000)


# Records every object URL the page creates and revokes.
TRACK_OBJECT_URLS = """
window.objectUrls = { created: [], revoked: [] };
const createObjectURL = URL.createObjectURL;
const revokeObjectURL = URL.revokeObjectURL;
URL.createObjectURL = (blob) => {
  const url = createObjectURL(blob);
  window.objectUrls.created.push(url);
  return url;
};
URL.revokeObjectURL = (url) => {
  window.objectUrls.revoked.push(url);
  revokeObjectURL(url);
};
"""

DRIVER_ROWS = """
SELECT json_agg(json_build_array(r.id, s.spot_number, r.status) ORDER BY r.start_time, r.id)
FROM reservations r JOIN spots s ON s.id = r.spot_id JOIN users u ON u.id = r.user_id
WHERE u.email = $1
"""


def test_history_download_is_a_csv_of_the_drivers_own_reservations(
    open_page: Callable[..., Page], app_url: str, database_url: str
) -> None:
    start = datetime.combine(datetime.now(UTC).date() - timedelta(days=2), time(12), UTC)
    insert_past_reservation(database_url, DRIVER1, 3, start, start + timedelta(hours=4))
    insert_past_reservation(database_url, DRIVER2, 4, start, start + timedelta(hours=4))
    page = open_page(app_url)
    page.add_init_script(TRACK_OBJECT_URLS)
    page.reload()
    sign_in_and_go_live(page, DRIVER1)
    choose_date(page, utc_day(1))
    cell(page, 2, SLOTS[0]).click()
    expect(cell(page, 2, SLOTS[0])).to_have_attribute("data-state", "mine", timeout=5_000)

    with page.expect_download(timeout=10_000) as download_info:
        page.get_by_role("button", name="Download my history (CSV)").click()
    download = download_info.value

    # The name from Content-Disposition, not the client's fallback.
    assert download.suggested_filename == f"smart-parking-reservations-{utc_day(0)}.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    expected = json.loads(run_sql(database_url, DRIVER_ROWS, DRIVER1))
    assert [[int(row["id"]), int(row["spot_number"]), row["status"]] for row in rows] == expected
    assert [row["status"] for row in rows] == ["completed", "booked"]  # driver 2's booking is not there
    assert rows[0]["start"] == start.isoformat()

    # The temporary object URL is released once the browser has the file.
    page.wait_for_function(
        "objectUrls.revoked.length === 1 && objectUrls.revoked[0] === objectUrls.created[0]", timeout=5_000
    )
    expect(page.get_by_role("button", name="Download my history (CSV)")).to_be_enabled()


def test_a_rejected_token_on_download_sends_the_driver_to_login(
    open_page: Callable[..., Page], app_url: str
) -> None:
    page = open_page(app_url)
    sign_in_and_go_live(page, DRIVER1)
    forge_token(page)
    with page.expect_response(lambda response: response.url.endswith("/reservations/export.csv")) as answer:
        page.get_by_role("button", name="Download my history (CSV)").click()
    assert answer.value.status == 401
    expect(page).to_have_url(app_url + "/login", timeout=5_000)
    expect(page.locator(".error-msg")).to_have_text(SESSION_ENDED)


def test_logging_out_with_a_chart_refresh_pending_sends_no_request_later(
    open_page: Callable[..., Page], app_url: str
) -> None:
    page = open_page(app_url)
    page.clock.install()
    page.reload()
    sign_in_and_go_live(page, DRIVER1)
    expect(page.get_by_test_id("occupancy-chart").locator("[data-hour]")).to_have_count(24, timeout=10_000)
    choose_date(page, utc_day(1))
    # From here on the page's timers fire only when the test says so.
    page.clock.pause_at(datetime.now(UTC) + timedelta(seconds=5))
    cell(page, 1, SLOTS[2]).click()
    expect(cell(page, 1, SLOTS[2])).to_have_attribute("data-state", "mine", timeout=5_000)  # a refresh is due

    stats_requests: list[str] = []
    page.on("request", lambda request: stats_requests.append(request.url) if "/stats" in request.url else None)
    page.click("#logout-btn")
    expect(page.locator("#login-form")).to_be_visible()
    page.clock.run_for(60_000)
    assert stats_requests == []
