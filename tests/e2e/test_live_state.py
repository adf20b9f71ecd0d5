"""An open tab tells the truth: live updates paused while the server is away, the session over when it is."""

from __future__ import annotations

import re
import time as clock
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

from playwright.sync_api import Page, WebSocketRoute, expect

from tests.support import RestartableServer

from .ui import (
    DRIVER1,
    DRIVER2,
    SESSION_ENDED,
    SLOTS,
    cell,
    choose_date,
    insert_booking,
    sign_in_and_go_live,
    utc_day,
)

SECRET = "live-state-secret-" + "0123456789abcdef" * 2
OTHER_SECRET = "another-secret-after-a-restart-" + "fedcba9876543210" * 2
PAUSED = "Live updates paused, reconnecting…"
# The client's backoff reaches several seconds while the server is away.
RECONNECT_TIMEOUT_MS = 30_000
# Failed connections before the 1001 in the reconnect test: enough for a long backoff.
FAILURES = 4


def test_while_the_server_is_away_the_tab_says_live_updates_are_paused_until_it_has_resynced(
    open_page: Callable[..., Page], restartable_server: RestartableServer, database_url: str
) -> None:
    base_url = restartable_server.start(SECRET)
    page = open_page(base_url)
    sign_in_and_go_live(page, DRIVER1)
    choose_date(page, utc_day(1))
    paused = page.get_by_text(PAUSED)
    expect(paused).to_have_count(0)

    restartable_server.stop()
    expect(paused).to_be_visible(timeout=10_000)  # after about 2 s without the socket
    # Booked while this tab could not hear of it: only the resync's snapshot can show it.
    morning = datetime.combine(datetime.now(UTC).date() + timedelta(days=1), time(8), UTC)
    insert_booking(database_url, DRIVER2, 3, morning, morning + timedelta(hours=4))

    restartable_server.start(SECRET)
    expect(paused).to_have_count(0, timeout=RECONNECT_TIMEOUT_MS)
    expect(cell(page, 3, SLOTS[0])).to_have_attribute("data-state", "booked")
    expect(page.locator('#parking-slots-view[data-socket="open"]')).to_be_attached()
    expect(page).to_have_url(base_url + "/slots")


def test_a_restart_with_a_new_secret_ends_the_session_and_the_tab_says_so(
    open_page: Callable[..., Page], restartable_server: RestartableServer
) -> None:
    base_url = restartable_server.start(SECRET)
    page = open_page(base_url)
    sign_in_and_go_live(page, DRIVER1)

    # The API would answer 401 too; cut it off, so the socket alone must see the session is over.
    page.route(re.compile(r"/(lot|spots|stats)\b"), lambda route: route.abort())
    # Every token the old secret signed is now refused, the socket's with 4401.
    restartable_server.stop()
    restartable_server.start(OTHER_SECRET)
    expect(page).to_have_url(base_url + "/login", timeout=RECONNECT_TIMEOUT_MS)
    expect(page.locator(".error-msg")).to_have_text(SESSION_ENDED)
    expect(page.locator("#parking-slots-view")).to_have_count(0)


def test_a_socket_closed_for_a_restart_reconnects_at_once_and_refetches_the_grid(
    open_page: Callable[..., Page], app_url: str, database_url: str
) -> None:
    page = open_page(app_url)
    # Every socket the tab opens goes through this proxy to the real server:
    # the first is served; the next FAILURES fail (so the tab's backoff grows
    # to seconds); the one after is closed as a draining server closes it;
    # then they are served again.
    opened: list[float] = []
    first: list[tuple[WebSocketRoute, WebSocketRoute]] = []

    def through_proxy(ws: WebSocketRoute) -> None:
        opened.append(clock.monotonic())
        attempt = len(opened) - 1
        if attempt == 0:
            first.append((ws, ws.connect_to_server()))
        elif attempt <= FAILURES:
            ws.close(code=1011, reason="server error")
        elif attempt == FAILURES + 1:
            ws.close(code=1001, reason="server restarting")
        else:
            ws.connect_to_server()

    page.route_web_socket(re.compile(r"/ws$"), through_proxy)
    sign_in_and_go_live(page, DRIVER1)
    choose_date(page, utc_day(1))
    ((socket, server_side),) = first
    # From now on the first socket hears nothing: the booking below can reach
    # the grid only through the refetch that follows a reconnect.
    server_side.on_message(lambda message: None)
    morning = datetime.combine(datetime.now(UTC).date() + timedelta(days=1), time(8), UTC)
    insert_booking(database_url, DRIVER2, 4, morning, morning + timedelta(hours=4))
    socket.close(code=1011, reason="server error")

    expect(cell(page, 4, SLOTS[0])).to_have_attribute("data-state", "booked", timeout=RECONNECT_TIMEOUT_MS)
    assert len(opened) == FAILURES + 3
    # After five failures in a row (the first socket's, then four) the backoff
    # is 7.5 to 15 s; after the 1001 the tab came back at once (within its
    # 0.5 s of jitter), not after that backoff.
    after_restart = opened[FAILURES + 2] - opened[FAILURES + 1]
    assert after_restart < 3, f"reconnected {after_restart:.1f} s after the 1001"
