"""Layout checks for any page at a phone's width: nothing overflows or is cut off, 44 px taps."""

from __future__ import annotations

from playwright.sync_api import Page

PHONE_HEIGHT = 812
MIN_TAP_TARGET_PX = 44

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

SMALL_TAP_TARGETS = """
(minimum) => [...document.querySelectorAll('button, select, input, a[href]')]
  .filter((el) => el.getClientRects().length > 0)
  .map((el) => [el, el.getBoundingClientRect()])
  .filter(([, rect]) => rect.width < minimum || rect.height < minimum)
  .map(([el, rect]) => `${el.tagName.toLowerCase()} "${el.textContent.trim()}" ${rect.width}x${rect.height}`)
"""


def assert_layout_fits(page: Page) -> None:
    assert page.evaluate(LAYOUT_PROBLEMS) == []
    assert page.evaluate(SMALL_TAP_TARGETS, MIN_TAP_TARGET_PX) == []
