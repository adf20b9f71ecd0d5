"""Phone widths: every slot of a spot in view, nothing overflowing or cut off, 44 px tap targets."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

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
PHONE_HEIGHT = 812
MIN_TAP_TARGET_PX = 44
MIN_LABEL_PX = 11

# Every visible element against the viewport and its own box. Returns what is wrong, as text.
LAYOUT_PROBLEMS = """
() => {
  const width = document.documentElement.clientWidth;
  const problems = [];
  const name = (el) =>
    `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} "${el.textContent.trim().slice(0, 40)}"`;
  if (document.documentElement.scrollWidth > width) {
    problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} > ${width}`);
  }
  for (const el of document.querySelectorAll('body *')) {
    if (el.getClientRects().length === 0) {
      continue; // not rendered
    }
    const rect = el.getBoundingClientRect();
    if (rect.left < -0.5 || rect.right > width + 0.5) {
      problems.push(`outside the viewport: ${name(el)} spans ${rect.left}..${rect.right}`);
    }
    const style = getComputedStyle(el);
    if (style.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1) {
      problems.push(`cuts its content off: ${name(el)} ${el.scrollWidth} > ${el.clientWidth}`);
    }
  }
  // A select draws its chosen option's text itself: measure every option against the room it has.
  const context = document.createElement('canvas').getContext('2d');
  for (const select of document.querySelectorAll('select')) {
    const style = getComputedStyle(select);
    context.font = style.font;
    const arrow = 24;
    const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - arrow;
    for (const option of select.options) {
      if (context.measureText(option.text).width > room) {
        problems.push(`option cut off in #${select.id}: "${option.text}"`);
      }
    }
  }
  return problems;
}
"""

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

SMALL_TAP_TARGETS = """
(minimum) => [...document.querySelectorAll('button, select, input, a[href]')]
  .filter((el) => el.getClientRects().length > 0)
  .map((el) => [el, el.getBoundingClientRect()])
  .filter(([, rect]) => rect.width < minimum || rect.height < minimum)
  .map(([el, rect]) => `${el.tagName.toLowerCase()} "${el.textContent.trim()}" ${rect.width}x${rect.height}`)
"""

# The size a chart label is drawn at on screen: its font size times the SVG's scale.
CHART_LABEL_SIZES = """
() => [...document.querySelectorAll('.occupancy-axis text, .occupancy-hour-label')].map(
  (text) => parseFloat(getComputedStyle(text).fontSize) * text.getScreenCTM().a
)
"""


def assert_layout_fits(page: Page) -> None:
    assert page.evaluate(LAYOUT_PROBLEMS) == []
    assert page.evaluate(SMALL_TAP_TARGETS, MIN_TAP_TARGET_PX) == []


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
