"""'My vehicles' at 320 px: a driver registers plates up to the server's limit and removes one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from .layout import PHONE_HEIGHT, assert_layout_fits
from .ui import DRIVER1, PASSWORD, api_call, screenshot_path, sign_in_and_go_live


@pytest.fixture
def narrow_phone(browser: Browser, reset_db: str) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 320, "height": PHONE_HEIGHT})
    yield context
    context.close()


def test_a_driver_registers_plates_up_to_the_servers_limit_and_removes_one(
    narrow_phone: BrowserContext, app_url: str, tmp_path: Path
) -> None:
    session = api_call(app_url, "POST", "/login", {"email": DRIVER1, "password": PASSWORD})["token"]
    limits = api_call(app_url, "GET", "/lot", token=session)["limits"]
    page = narrow_phone.new_page()
    page.goto(app_url + "/login")
    sign_in_and_go_live(page, DRIVER1)
    section = page.locator(".my-vehicles")
    section.scroll_into_view_if_needed()
    plate, label = section.get_by_label("Licence plate"), section.get_by_label("Label (optional)")
    # The fields stop where the server would refuse (GET /lot), not at the browser's own numbers.
    expect(plate).to_have_attribute("maxlength", str(limits["max_licence_plate"]))
    expect(label).to_have_attribute("maxlength", str(limits["max_vehicle_label"]))

    plate.fill("ab 123-cd")
    label.fill("Blue Golf")
    section.get_by_role("button", name="Add vehicle").click()
    items = section.locator(".my-vehicles-item")
    expect(items).to_have_count(1)
    expect(items.nth(0)).to_contain_text("AB 123-CD")  # as stored: upper-cased
    expect(items.nth(0)).to_contain_text("Blue Golf")
    expect(plate).to_have_value("")
    for n in range(2, limits["max_vehicles_per_driver"] + 1):
        plate.fill(f"CAR {n}")
        section.get_by_role("button", name="Add vehicle").click()
        expect(items).to_have_count(n)

    # At the limit, the form gives way to a sentence that says so.
    expect(section.get_by_role("button", name="Add vehicle")).to_have_count(0)
    most = limits["max_vehicles_per_driver"]
    expect(section).to_contain_text(f"You have registered {most} vehicles, the most allowed.")
    assert_layout_fits(page)
    section.screenshot(path=str(screenshot_path(tmp_path, "my-vehicles-320.png")))

    section.get_by_role("button", name="Remove AB 123-CD").click()
    expect(items).to_have_count(most - 1)
    expect(section.get_by_role("button", name="Add vehicle")).to_be_visible()
    remaining = api_call(app_url, "GET", "/me/vehicles", token=session)["vehicles"]
    assert sorted(v["licence_plate"] for v in remaining) == [f"CAR {n}" for n in range(2, most + 1)]
