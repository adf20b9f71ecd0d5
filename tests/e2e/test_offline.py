"""Offline at 375 px: the app opens from the service worker's cache with the last-known My bookings."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from .ui import SLOTS, choose_date, screenshot, signed_in_phone, utc_day


def test_offline_the_app_opens_with_the_last_known_bookings_and_signing_out_empties_the_cache(
    phone, app_url: str, tmp_path: Path
) -> None:
    context = phone()
    page = signed_in_phone(context, app_url)
    page.evaluate("navigator.serviceWorker.ready")
    choose_date(page, utc_day(1))
    page.get_by_role("button", name=f"Any spot, {SLOTS[0]}").click()
    expect(page.locator(".my-booking")).to_have_count(1)
    # The worker controls the page once it is active (clients.claim).
    page.wait_for_function("navigator.serviceWorker.controller !== null")

    context.set_offline(True)
    page.reload()
    mark = page.locator(".my-bookings-offline")
    expect(mark).to_have_text(re.compile(r"^Offline: as of \d\d:\d\d$"))
    row = page.locator(".my-booking")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Spot 2 · Floor 1")
    for button in row.get_by_role("button").all():
        expect(button).to_be_disabled()
    expect(page.locator(".any-spot:enabled")).to_have_count(0)
    expect(page.locator("[data-state='available']")).to_have_count(0)
    page.evaluate("window.scrollTo(0, 0)")  # the driver's view as the app opens
    screenshot(page, "offline-phone.png", tmp_path)

    # Only the shell is cached by the worker: no API answer, no token, no board.
    cached = page.evaluate(
        """async () => {
          const urls = [];
          for (const name of await caches.keys()) {
            for (const request of await (await caches.open(name)).keys()) urls.push(name + ' ' + new URL(request.url).pathname);
          }
          return urls;
        }"""
    )
    shell = [url for url in cached if url.startswith("parking-shell-")]
    assert shell and all(url.split(" ")[1] == "/" or url.split(" ")[1].startswith("/static/") for url in shell)
    assert [url for url in cached if not url.startswith("parking-shell-")] == [
        "parking-my-bookings /offline/my-bookings"
    ]

    page.get_by_role("button", name="Logout").click()
    expect(page.locator("#login-form")).to_be_visible()
    page.wait_for_function("caches.keys().then((names) => !names.includes('parking-my-bookings'))")
    names = page.evaluate("caches.keys()")
    assert all(name.startswith("parking-shell-") for name in names)
