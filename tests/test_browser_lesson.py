"""The lesson in a real browser at a projector's 1280×720: Next through every step and Back, no error box, nothing
clipped, each step's main figure on screen without scrolling."""
from __future__ import annotations

import pytest

from dashboard.views.lesson import STEPS
from tests.test_browser import ARTIFACTS, browser, server  # noqa: F401 - pytest fixtures, used by name

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 1280, 720

# Elements whose text is wider than their box (cut off or ellipsised), anything reaching past the right edge of the
# window, the step's header hidden under the navigation bar, and the step's figure not fully on screen.
LAYOUT_PROBLEMS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const out = [];
  const sel = 'button, label, p, h3, [data-testid="stCaptionContainer"], [data-testid="stImageCaption"]';
  for (const el of main.querySelectorAll(sel)) {
    const r = el.getBoundingClientRect();
    if (!r.width) continue;
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible')
      out.push('text wider than its box: ' + el.textContent.slice(0, 60));
    if (r.right > window.innerWidth + 1) out.push('past the right edge: ' + el.textContent.slice(0, 60));
  }
  const nav = document.querySelector('[data-testid="stHeader"]');
  const head = document.querySelector('.st-key-lesson_head');
  if (nav && head && head.getBoundingClientRect().top < nav.getBoundingClientRect().bottom - 1)
    out.push('step buttons under the navigation bar');
  const figs = main.querySelectorAll('.js-plotly-plot, [data-testid="stImage"] img');
  if (figs.length) {
    const last = figs[figs.length - 1].getBoundingClientRect();
    if (last.bottom > window.innerHeight + 1) out.push('main figure ends at ' + Math.round(last.bottom) + ' px');
  }
  return out;
}"""


def _settled(page, step: int) -> None:
    page.wait_for_function(f"new URL(location.href).searchParams.get('step') === '{step}'", timeout=60_000)
    title = f"Array.from(document.querySelectorAll('h3')).some(h => h.textContent.startsWith('{step} · '))"
    page.wait_for_function(title, timeout=90_000)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=90_000)
    page.wait_for_function("document.querySelectorAll('[data-stale=\"true\"]').length === 0", timeout=60_000)
    page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=30_000)
    page.wait_for_timeout(800)  # plotly's last relayout


def _check(page, step: int) -> None:
    errors = page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').all_inner_texts()
    assert not errors, f"step {step}: {errors}"
    problems = page.evaluate(LAYOUT_PROBLEMS)
    if problems:
        page.screenshot(path=str(ARTIFACTS / f"browser_lesson_step{step}.png"))
    assert not problems, f"step {step} at {WIDTH}×{HEIGHT}: {problems}"


def test_lesson_walks_forward_and_back_at_1280x720(browser, server):  # noqa: F811
    page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
    try:
        page.goto(f"{server}?view=lesson&step=1", wait_until="domcontentloaded")
        _settled(page, 1)
        for step in STEPS:
            _check(page, step)
            if step < len(STEPS):
                page.locator(".st-key-lesson_next button").click()
                _settled(page, step + 1)
        assert page.locator(".st-key-lesson_next button").is_disabled()  # the last step has no Next
        page.locator(".st-key-lesson_back button").click()
        _settled(page, len(STEPS) - 1)
        _check(page, len(STEPS) - 1)
    finally:
        page.close()
