"""An open tab tells the truth: live updates paused while the server is away, the session over when it is."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

from playwright.sync_api import Page, expect

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
