"""One tab too many: the page says so, instead of reconnecting in a loop."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from .ui import DRIVER1, sign_in, sign_in_and_go_live

TOO_MANY_TABS = "Too many open tabs"
# Far more than the client's first retry (0.5 s): a loop would have tried again by then.
NO_RETRY_WITHIN_MS = 3_000


@pytest.fixture(scope="session")
def one_socket_each_url(start_session_server: Callable[..., str]) -> str:
    """A server that lets each account keep one socket open."""
    return start_session_server(MAX_SOCKETS_PER_USER="1")


def test_the_tab_over_the_socket_cap_says_too_many_open_tabs_and_stops_reconnecting(
    open_page: Callable[..., Page], one_socket_each_url: str
) -> None:
    first = open_page(one_socket_each_url)
    sign_in_and_go_live(first, DRIVER1)

    second = open_page(one_socket_each_url)
    second.set_viewport_size({"width": 320, "height": 640})
    with second.expect_websocket() as refused:
        sign_in(second, DRIVER1)
    refused.value.wait_for_event("close", timeout=10_000)
    notice = second.get_by_text(TOO_MANY_TABS)
    expect(notice).to_be_visible(timeout=10_000)
    expect(second.get_by_text("reconnecting")).to_have_count(0)
    expect(second.locator("[data-state]")).to_have_count(15)  # the grid is still there to read
    with pytest.raises(PlaywrightError):  # Playwright's TimeoutError: no second attempt came
        second.wait_for_event("websocket", timeout=NO_RETRY_WITHIN_MS)
    second.screenshot(path="/tmp/i26b-too-many-tabs.png")
    # The first tab is unaffected.
    expect(first.locator('#parking-slots-view[data-socket="open"]')).to_be_attached()
    expect(first.get_by_text(TOO_MANY_TABS)).to_have_count(0)
