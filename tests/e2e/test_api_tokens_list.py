"""'API tokens': a driver sees every token of theirs, on a phone too, and revokes one after asking."""

from __future__ import annotations

import urllib.error
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from .layout import PHONE_HEIGHT, assert_layout_fits
from .ui import DRIVER1, DRIVER2, PASSWORD, api_call, run_sql, sign_in_and_go_live

SCREENSHOT = Path(__file__).resolve().parents[2] / ".data" / "screenshots" / "api-tokens-320.png"


@pytest.fixture
def phone(browser: Browser, reset_db: str) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 320, "height": PHONE_HEIGHT})
    yield context
    context.close()


def session_token(base_url: str, email: str) -> str:
    return api_call(base_url, "POST", "/login", {"email": email, "password": PASSWORD})["token"]


def new_token(base_url: str, session: str, name: str, **extra: int) -> dict:
    return api_call(base_url, "POST", "/me/tokens", {"name": name, **extra}, session)


def signed_in(context: BrowserContext, base_url: str, email: str) -> Page:
    page = context.new_page()
    page.goto(base_url + "/login")
    sign_in_and_go_live(page, email)
    return page


def test_a_driver_sees_their_tokens_on_a_phone_and_revokes_one(phone, app_url, reset_db):
    session = session_token(app_url, DRIVER1)
    script = new_token(app_url, session, "Nightly booking script", expires_in_days=30)
    stolen = new_token(app_url, session, "a token I never made — with a long name that must wrap on a phone")
    old = new_token(app_url, session, "Lobby display")
    run_sql(reset_db, "UPDATE api_tokens SET expires_at = now() - interval '1 day' WHERE id = $1", old["id"])
    new_token(app_url, session_token(app_url, DRIVER2), "Driver 2's own")

    page = signed_in(phone, app_url, DRIVER1)
    section = page.locator(".api-tokens")
    section.scroll_into_view_if_needed()
    rows = section.locator(".api-token")
    expect(rows).to_have_count(3)
    # Newest first; another driver's token is not shown.
    expect(rows.locator(".api-token-name")).to_have_text(
        ["Lobby display", stolen["name"], "Nightly booking script"]
    )
    expect(rows.nth(0)).to_contain_text("Expired")
    expect(rows.nth(1)).to_contain_text("Never expires")
    expect(rows.nth(2)).to_contain_text("Expires")
    expect(rows.nth(2)).to_contain_text("Never used")
    assert_layout_fits(page)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    section.screenshot(path=str(SCREENSHOT))

    rows.nth(1).get_by_role("button", name=f"Revoke {stolen['name']}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("stop working at once")
    assert_layout_fits(page)
    page.screenshot(path=str(SCREENSHOT.with_name("api-tokens-320-revoke.png")))
    dialog.get_by_role("button", name="Revoke it").click()
    expect(rows).to_have_count(2)
    expect(section).not_to_contain_text(stolen["name"])
    with pytest.raises(urllib.error.HTTPError) as refused:
        api_call(app_url, "GET", "/spots", token=stolen["token"])
    assert refused.value.code == 401
    assert api_call(app_url, "GET", "/spots", token=script["token"])["spots"]

    # "Keep it" keeps it.
    rows.nth(0).get_by_role("button", name="Revoke Lobby display").click()
    page.get_by_role("dialog").get_by_role("button", name="Keep it").click()
    expect(rows).to_have_count(2)


def test_a_long_list_comes_a_page_at_a_time(phone, app_url, reset_db, user_ids):
    run_sql(
        reset_db,
        "INSERT INTO api_tokens (user_id, name, token_hash, expires_at) "
        "SELECT $1, 'old script ' || n, sha256(n::text::bytea), now() - interval '1 day' "
        "FROM generate_series(1, 70) AS n",
        user_ids[DRIVER1],
    )
    page = signed_in(phone, app_url, DRIVER1)
    section = page.locator(".api-tokens")
    rows = section.locator(".api-token")
    expect(rows).to_have_count(50)
    expect(rows.first.locator(".api-token-name")).to_have_text("old script 70")
    section.get_by_role("button", name="Show older tokens").click()
    expect(rows).to_have_count(70)
    expect(rows.last.locator(".api-token-name")).to_have_text("old script 1")
    expect(section.get_by_role("button", name="Show older tokens")).to_have_count(0)
