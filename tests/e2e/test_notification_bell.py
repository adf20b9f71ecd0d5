"""The driver's bell: an attendant's release shows up at once, whatever date the tab shows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from .ui import ADMIN, DRIVER1, AttendantApi, choose_date, insert_booking, run_sql, sign_in_and_go_live, utc_day

LIVE_MS = 1_000


def test_the_bell_counts_an_attendants_release_and_the_panel_gives_the_reason(
    open_page: Callable[..., Page], app_url: str, reset_db: str, tmp_path: Path
) -> None:
    tomorrow = datetime.combine(datetime.now(UTC).date() + timedelta(days=1), time(8), tzinfo=UTC)
    reservation_id = insert_booking(reset_db, DRIVER1, 3, tomorrow, tomorrow + timedelta(hours=4))
    page = open_page(app_url)
    sign_in_and_go_live(page, DRIVER1)
    choose_date(page, utc_day(3))  # not the booking's day
    bell = page.get_by_role("button", name="Notifications", exact=False).and_(page.locator(".parking-bell"))
    expect(bell).to_be_visible()
    expect(page.locator(".parking-bell-count")).to_have_count(0)

    AttendantApi(app_url).call(
        "PUT", f"/admin/reservations/{reservation_id}/release", {"reason": "Snow clearing on level 1"}
    )
    expect(page.locator(".parking-bell-count")).to_have_text("1", timeout=LIVE_MS)
    expect(bell).to_have_attribute("aria-label", "Notifications, 1 unread")

    page.set_viewport_size({"width": 320, "height": 640})
    page.screenshot(path=str(tmp_path / "notification-bell-320.png"), animations="disabled")
    bell.click()
    panel = page.get_by_role("region", name="Notifications")
    expect(panel).to_contain_text("The attendant released your booking")
    expect(panel).to_contain_text("Reason: Snow clearing on level 1")
    expect(panel).to_contain_text("Spot #3 (floor 1)")
    # Opening the panel reads them: the count goes, and stays gone after a reload.
    expect(page.locator(".parking-bell-count")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "notification-panel-320.png"), animations="disabled")
    print(f"screenshot: {tmp_path / 'notification-panel-320.png'}")

    # At 320 px: no sideways scrolling, and the bell and the close button are full tap targets.
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 320
    for target in (bell, panel.get_by_role("button", name="Close notifications")):
        box = target.bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 44
        assert box["x"] >= 0 and box["x"] + box["width"] <= 320
    page.reload()
    expect(page.locator('#parking-slots-view[data-socket="open"]')).to_be_attached(timeout=10_000)
    expect(page.locator(".parking-bell")).to_be_visible()
    expect(page.locator(".parking-bell-count")).to_have_count(0)


def test_the_attendants_desk_counts_failed_webhook_deliveries(
    open_page: Callable[..., Page], app_url: str, reset_db: str
) -> None:
    attendant = AttendantApi(app_url)
    hook = attendant.call("POST", "/admin/webhooks", {"url": "http://127.0.0.1:9/hook", "events": ["*"]})
    run_sql(
        reset_db,
        "INSERT INTO deliveries (channel, webhook_id, event_type, payload, status, attempts)"
        " VALUES ('webhook', $1, 'spot.created', '{}', 'failed', 9)",
        hook["id"],
    )
    page = open_page(app_url)
    sign_in_and_go_live(page, ADMIN)
    expect(page.locator(".desk-deliveries")).to_have_text("Failed webhook deliveries: 1")
    expect(page.locator(".parking-bell")).to_have_count(0)  # the bell is a driver's
