"""Phone widths: every slot of a spot in view, nothing overflowing or cut off, 44 px tap targets."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from .layout import PHONE_HEIGHT, assert_layout_fits
from .ui import (
    DRIVER1,
    DRIVER2,
    SLOTS,
    cell,
    insert_booking,
    release_dialog,
    sign_in_and_go_live,
)

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "grid-phone.png"
MIN_LABEL_PX = 11

# Each cell's texts inside the cell, and each spot's label above its own three cells.
CELL_PROBLEMS = """
() => {
  const problems = [];
  const inside = (inner, outer) =>
    inner.left >= outer.left - 0.5 && inner.right <= outer.right + 0.5 &&
    inner.top >= outer.top - 0.5 && inner.bottom <= outer.bottom + 0.5;
  for (const row of document.querySelectorAll('.parking-grid tbody tr')) {
    const label = row.querySelector('th').getBoundingClientRect();
    const cells = [...row.querySelectorAll('.slot-cell')];
    if (cells.length !== 3) {
      problems.push(`a spot row has ${cells.length} cells`);
    }
    for (const cell of cells) {
      const box = cell.getBoundingClientRect();
      if (box.top < label.bottom - 0.5) {
        problems.push(`${cell.dataset.spot} ${cell.dataset.slot} is not under its spot label`);
      }
      if (cell.scrollWidth > cell.clientWidth || cell.scrollHeight > cell.clientHeight) {
        problems.push(`${cell.dataset.spot} ${cell.dataset.slot} overflows its box`);
      }
      for (const text of cell.querySelectorAll('span')) {
        if (text.getClientRects().length && !inside(text.getBoundingClientRect(), box)) {
          problems.push(`"${text.textContent}" sticks out of ${cell.dataset.spot} ${cell.dataset.slot}`);
        }
      }
      const time = cell.querySelector('.slot-time');
      if (!time || time.getClientRects().length === 0) {
        problems.push(`${cell.dataset.spot} ${cell.dataset.slot} does not show its time`);
      }
    }
  }
  return problems;
}
"""

# The size a chart label is drawn at on screen: its font size times the SVG's scale.
CHART_LABEL_SIZES = """
() => [...document.querySelectorAll('.occupancy-axis text, .occupancy-hour-label')].map(
  (text) => parseFloat(getComputedStyle(text).fontSize) * text.getScreenCTM().a
)
"""


@pytest.mark.parametrize("width", [375, 320])
def test_a_phone_shows_each_spots_three_slots_with_nothing_cut_off(
    open_page: Callable[..., Page],
    afternoon_lot: tuple[str, str],
    database_url: str,
    width: int,
    tmp_path: Path,
) -> None:
    base_url, timezone = afternoon_lot
    zone = ZoneInfo(timezone)
    today = datetime.now(zone).date()
    # Every state on one screen: past (the morning), available, booked, yours.
    evening = datetime.combine(today, time(16), zone)
    insert_booking(database_url, DRIVER2, 4, evening, evening + timedelta(hours=4))
    noon = datetime.combine(today, time(12), zone)
    insert_booking(database_url, DRIVER1, 2, noon, noon + timedelta(hours=4))

    page = open_page(base_url, timezone)
    page.set_viewport_size({"width": width, "height": PHONE_HEIGHT})
    assert_layout_fits(page)  # the login page
    sign_in_and_go_live(page, DRIVER1)
    expect(page.get_by_test_id("occupancy-chart").locator("[data-hour]")).to_have_count(24, timeout=10_000)
    for state in ("past", "available", "booked", "mine"):
        expect(page.locator(f'[data-state="{state}"]').first).to_be_visible()

    assert_layout_fits(page)
    assert page.evaluate(CELL_PROBLEMS) == []
    label_sizes = page.evaluate(CHART_LABEL_SIZES)
    assert label_sizes and min(label_sizes) >= MIN_LABEL_PX, label_sizes

    if width == 375:  # the README's phone picture: set UPDATE_SCREENSHOTS=1 to refresh docs/grid-phone.png
        target = SCREENSHOT if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path / "grid-phone.png"
        page.screenshot(path=str(target), animations="disabled")

    # A long server message wraps inside the bar (one car per driver per slot).
    cell(page, 3, SLOTS[1]).click()
    expect(page.locator(".parking-notice")).to_contain_text("You already have Spot #2 booked for 12:00–16:00")
    assert_layout_fits(page)

    # The release question fits too, buttons included.
    cell(page, 2, SLOTS[1]).click()
    expect(release_dialog(page).get_by_role("button", name="Release")).to_be_enabled()
    assert_layout_fits(page)
