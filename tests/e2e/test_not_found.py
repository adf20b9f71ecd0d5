"""An unknown path: a browser gets a plain "not found" page, the API keeps its JSON errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from .layout import assert_layout_fits


@pytest.mark.parametrize("path", ["/slots/", "/foo", "/reservations/abc"])
def test_a_browser_at_an_unknown_path_gets_a_not_found_page_with_a_way_back(
    open_page: Callable[..., Page], app_url: str, path: str
) -> None:
    page = open_page(app_url)
    page.set_viewport_size({"width": 320, "height": 640})
    response = page.goto(app_url + path)
    assert response is not None
    assert response.status == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    expect(page).to_have_title("Page not found · SmartParking")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    assert_layout_fits(page)

    page.get_by_role("link", name="Go to SmartParking").click()
    expect(page.locator("#login-form")).to_be_visible()


def test_api_clients_still_get_json_errors_at_unknown_paths(
    open_page: Callable[..., Page], app_url: str
) -> None:
    api = open_page(app_url).request
    # As curl and fetch() ask: no token is a 401 (the API's surface is not shown anonymously).
    for accept in ("*/*", "application/json"):
        response = api.get(app_url + "/foo", headers={"Accept": accept})
        assert response.status == 401
        assert response.json()["error"]["code"] == "unauthorized"
    # Only a page request gets the page: a POST asking for HTML is still the API's.
    response = api.post(app_url + "/foo", headers={"Accept": "text/html"})
    assert response.status == 401
    assert response.json()["error"]["code"] == "unauthorized"
    # A known API path keeps its own answer whatever the Accept header says.
    response = api.get(app_url + "/spots", headers={"Accept": "text/html"})
    assert response.status == 401
    assert response.json()["error"]["code"] == "unauthorized"
