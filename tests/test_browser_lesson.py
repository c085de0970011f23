"""The lesson in a real browser at a projector's 1280×720: Next through every step and Back, no error box, nothing
clipped, each step's main figure on screen without scrolling, the sidebar folded away; on a larger screen the
figures grow to fill it; no legend cut or scrolled; the Classes view's Fig. 6 preset ends on screen."""
from __future__ import annotations

import pytest

from dashboard.views.lesson import STEPS
from tests.browserhelp import ARTIFACTS, wait_charts_settled, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # every lesson step drawn in a real browser

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
  for (const bar of main.querySelectorAll('.js-plotly-plot .legend .scrollbar'))
    if (bar.getBoundingClientRect().height > 0) out.push('a legend scrolls inside its chart');
  const side = document.querySelector('[data-testid="stSidebar"]');
  const right = side ? Math.round(side.getBoundingClientRect().right) : 0;
  if (right > 1) out.push('the sidebar takes ' + right + ' px');
  return out;
}"""

# How much of the window's height the step's figure leaves empty below it.
EMPTY_BELOW = """() => {
  const figs = document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot');
  return figs.length ? (window.innerHeight - figs[figs.length - 1].getBoundingClientRect().bottom) / window.innerHeight
                     : null;
}"""


def _settled(page, step: int) -> None:
    page.wait_for_function(f"new URL(location.href).searchParams.get('step') === '{step}'", timeout=60_000)
    title = f"Array.from(document.querySelectorAll('h3')).some(h => h.textContent.startsWith('{step} · '))"
    page.wait_for_function(title, timeout=90_000)
    wait_idle(page, timeout=90_000)
    page.wait_for_function("document.querySelectorAll('[data-stale=\"true\"]').length === 0", timeout=60_000)
    page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=30_000)
    wait_charts_settled(page)


def _check(page, step: int) -> None:
    errors = page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').all_inner_texts()
    assert not errors, f"step {step}: {errors}"
    problems = page.evaluate(LAYOUT_PROBLEMS)
    if problems:
        page.screenshot(path=str(ARTIFACTS / f"browser_lesson_step{step}.png"))
    assert not problems, f"step {step} at {WIDTH}×{HEIGHT}: {problems}"


def test_lesson_walks_forward_and_back_at_1280x720(browser, server):
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


def test_a_larger_screen_gets_a_larger_figure(browser, server):
    """At 1600×1000 each step's figure fills the screen below its sentences (step 3 once left 40 % of it
    empty): steps 1 to 4 in one page, Next between them."""
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    try:
        page.goto(f"{server}?view=lesson&step=1", wait_until="domcontentloaded")
        for step in (1, 2, 3, 4):
            if step > 1:
                page.locator(".st-key-lesson_next button").click()
            _settled(page, step)
            page.wait_for_function("document.querySelectorAll('[data-testid=\"stMain\"] .js-plotly-plot').length"
                                   " > 0", timeout=60_000)
            wait_charts_settled(page)  # the stretched figure's relayout
            problems = page.evaluate(LAYOUT_PROBLEMS)
            empty = page.evaluate(EMPTY_BELOW)
            if problems or empty > 0.1:
                page.screenshot(path=str(ARTIFACTS / f"browser_lesson_large_step{step}.png"))
            assert not problems, f"step {step}: {problems}"
            assert 0 <= empty <= 0.1, f"step {step}: {empty:.0%} of the screen empty below the figure"
    finally:
        page.close()


def test_the_paper_preset_shows_the_deepest_block_without_scrolling(browser, server):
    page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
    try:
        page.goto(f"{server}?view=classes&fig6=on", wait_until="domcontentloaded")
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length > 0", timeout=90_000)
        wait_idle(page, timeout=90_000)
        wait_charts_settled(page)
        fig = page.locator('[data-testid="stMain"] .js-plotly-plot').first
        box = fig.bounding_box()
        deepest = page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot .annotation-text'))
            .filter(t => t.textContent.startsWith('SE_4_3')).map(t => t.getBoundingClientRect().bottom)""")
        if box["y"] + box["height"] > HEIGHT + 1:
            page.screenshot(path=str(ARTIFACTS / "browser_classes_preset.png"))
        assert deepest and max(deepest) < HEIGHT
        assert box["y"] + box["height"] <= HEIGHT + 1, f"the class curves end at {box['y'] + box['height']:.0f} px"
        bars = page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot .legend .scrollbar'))
            .map(b => b.getBoundingClientRect().height)""")
        assert not any(h > 0 for h in bars), "the class legend scrolls"
    finally:
        page.close()
