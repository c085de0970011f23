"""Every view at a projector's 1280x720 (and at 1600x1000) in a real browser: drawn without an error, no text cut
off, nothing under the top bar, the main figure on the first screen."""
from __future__ import annotations

import re

import pytest

from tests.browserhelp import ARTIFACTS, full_screenshot, open_view, wait_charts_settled

# slow: every view drawn in a real browser at two screen sizes; one worker, so each view is drawn once a size
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("test_browser_layout")]
SIZES = [(1280, 720), (1600, 1000)]

# In the page: every visible text that is cut off, as {why, text, ...}. A text element (one with its own text: a
# label, button, chip, table cell, caption) is cut when its text is wider than its box and the box hides the rest
# (overflow not visible, or an ellipsis), or when it lies, even partly, outside the visible box of an ancestor that
# clips or scrolls sideways, or outside the viewport. Inputs show their value the same way. A table, data grid or
# formula that needs a horizontal scrollbar hides columns. Finally, at the top of the page nothing may sit under
# the fixed top bar.
CLIPPED_JS = r"""
(root) => {
  root = root || document;
  const out = [];
  const vw = document.documentElement.clientWidth, vh = window.innerHeight;
  const flag = (el, why) => {
    const r = el.getBoundingClientRect();
    out.push({why, text: (el.innerText || el.value || el.textContent || '').trim().slice(0, 60),
              testid: (el.closest('[data-testid]') || {dataset: {}}).dataset.testid || '',
              left: Math.round(r.left), right: Math.round(r.right), top: Math.round(r.top)});
  };
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) return false;
    const cs = getComputedStyle(el);
    return cs.visibility !== 'hidden' && cs.opacity !== '0' && cs.clip === 'auto';
  };
  const ownText = (el) => Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
  // a folded sidebar (the lesson's) lies left of the window on purpose: its contents are not on screen to be cut
  const side = document.querySelector('[data-testid="stSidebar"]');
  const folded = side && side.getBoundingClientRect().right <= 1;
  const skip = '.katex, .js-plotly-plot, [data-testid="stTooltipContent"], script, style'
    + (folded ? ', [data-testid="stSidebar"]' : '');
  const els = Array.from(root.querySelectorAll('*')).filter(el => !(el instanceof SVGElement) && !el.closest(skip)
    && (ownText(el) || (el.matches('input[type=text], input[type=number], input:not([type])') && el.value))
    && shown(el));
  for (const el of els) {
    const cs = getComputedStyle(el);
    if (cs.display !== 'inline' && el.scrollWidth > el.clientWidth + 1
        && (cs.overflowX !== 'visible' || cs.textOverflow === 'ellipsis' || el.matches('input'))) {
      flag(el, 'text wider than its box'); continue;
    }
    const r = el.getBoundingClientRect();
    if (r.left < -1 || r.right > vw + 1) { flag(el, 'outside the viewport'); continue; }
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const acs = getComputedStyle(a);
      if (acs.overflowX === 'visible') continue;
      const ar = a.getBoundingClientRect();
      const left = ar.left + a.clientLeft, right = left + a.clientWidth;
      if (r.left < left - 1 || r.right > right + 1) { flag(el, 'cut by its container'); break; }
      const top = ar.top + a.clientTop, bottom = top + a.clientHeight;
      // a short box that hides what does not fit (not the page itself, which scrolls), with the text half in it
      if ((acs.overflowY === 'hidden' || acs.overflowY === 'clip') && a.clientHeight < 0.8 * vh
          && r.bottom > top && r.top < bottom && (r.top < top - 1 || r.bottom > bottom + 1)) {
        flag(el, 'cut by its container (vertically)'); break;
      }
    }
  }
  for (const el of root.querySelectorAll('[data-testid="stDataFrame"] .dvn-scroller, [data-testid="stTable"], '
                                         + 'table, .katex-display')) {
    const box = el.matches('table') ? el.parentElement : el;
    const slack = el.matches('.katex-display') ? 3 : 1;  // KaTeX's own 2 px of margin overhang
    if (shown(box) && box.scrollWidth > box.clientWidth + slack) flag(box, 'needs a horizontal scrollbar');
  }
  const header = document.querySelector('[data-testid="stHeader"]');
  const main = document.querySelector('[data-testid="stMain"]');
  if (header && main && main.scrollTop === 0) {
    const below = header.getBoundingClientRect().bottom;
    for (const el of root.querySelectorAll('[data-testid="stMain"] [data-testid="stAlert"], '
                                           + '[data-testid="stMain"] h1, [data-testid="stMain"] h2, '
                                           + '[data-testid="stMain"] [data-testid="stWidgetLabel"]'))
      if (shown(el) && el.getBoundingClientRect().top < below - 1) flag(el, 'under the top bar');
  }
  return out;
}
"""


def opened(browser, server, view: str, width: int, height: int, page=None):
    """A view drawn to the end: its first text is there, no placeholder is left and the script has finished (in a
    new page, or loaded into `page`)."""
    page = open_view(browser, server, view, min_charts=0, width=width, height=height, page=page)
    page.wait_for_selector('[data-testid="stMain"] [data-testid="stMarkdownContainer"], '
                           '[data-testid="stMain"] [data-testid="stAlert"]', timeout=120_000)
    page.wait_for_function("!document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=180_000)
    wait_charts_settled(page)
    return page


def clipped(page, root=None) -> list[dict]:
    return page.evaluate(CLIPPED_JS, root)


# where the first chart (or, without one, the first image) of the main section starts, px from the top; null: none
FIRST_FIGURE_TOP = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const first = main.querySelector('.js-plotly-plot, [data-testid="stImage"]');
  return first ? first.getBoundingClientRect().top : null; }"""
# what the view drew: its charts, images, each chart's legend entries, and any exception or error box
DRAWN = """() => ({
  charts: document.querySelectorAll('.js-plotly-plot .main-svg').length,
  images: document.querySelectorAll('[data-testid="stImage"] img').length,
  legends: Array.from(document.querySelectorAll('.js-plotly-plot')).map(c =>
    Array.from(c.querySelectorAll('.legend .legendtext')).map(e => e.textContent)),
  errors: document.querySelectorAll('[data-testid="stException"], [data-testid="stAlertContentError"]').length,
  traceback: document.body.innerText.includes('Traceback')})"""


@pytest.fixture(scope="module")
def views(browser, server) -> list[str]:
    """Every view in the top navigation (views added later included), as their ?view= names."""
    page = opened(browser, server, "about", 1280, 720)
    try:
        hrefs = page.locator('[data-testid="stTopNavLink"]').evaluate_all("els => els.map(a => a.href)")
    finally:
        page.close()
    names = [re.sub(r"^https?://[^/]+/?", "", h).split("?")[0] or "about" for h in hrefs]
    assert {"image", "classes", "compare", "about"} <= set(names), names
    return names


@pytest.fixture(scope="module")
def measured(browser, server, views):
    """measured(width, height) -> {view: (its cut-off texts, where its main figure starts, what it drew)}: every view
    opened once per screen size, every check read from the same drawn page (the Image and Classes views' screenshots
    in artifacts/)."""
    done = {}

    def at(width: int, height: int) -> dict[str, tuple[list[dict], float | None]]:
        if (width, height) not in done:
            done[(width, height)] = {}
            page = browser.new_page(viewport={"width": width, "height": height})  # one tab a size, a view a load
            try:
                for view in views:
                    opened(browser, server, view, width, height, page=page)
                    done[(width, height)][view] = (clipped(page), page.evaluate(FIRST_FIGURE_TOP),
                                                   page.evaluate(DRAWN))
                    if view in ("image", "classes") and width == 1280:  # for a person to look at
                        full_screenshot(page, ARTIFACTS / f"browser_{view}.png")
            finally:
                page.close()
        return done[(width, height)]
    return at


def test_the_check_finds_a_deliberately_clipped_element(browser, server):
    """The check itself: text cut by its own box, a chip pushed out of its scrolling row, a table wider than its
    column, and a message under the top bar are each found; the same page without them is clean."""
    page = opened(browser, server, "about", 1280, 720)
    try:
        page.evaluate("""() => {
          const host = document.createElement('div');
          host.id = 'planted';
          host.innerHTML = `
            <p style="width:60px;overflow:hidden;white-space:nowrap;text-overflow:ellipsis">Mean ± std (Fig. 7)</p>
            <div style="width:120px;overflow-x:auto;white-space:nowrap"><span>SE_2_3</span> <span>SE_3_3</span>
              <span>SE_4_1</span> <span>SE_4_2</span> <span>SE_4_3</span></div>
            <div style="width:100px;overflow-x:auto"><table style="white-space:nowrap"><tr>
              <td>a very wide table cell</td>
              <td>another wide cell</td></tr></table></div>`;
          document.querySelector('[data-testid="stMainBlockContainer"]').prepend(host);
        }""")
        found = clipped(page, page.locator("#planted").element_handle())
        whys = {f["why"] for f in found}
        texts = " ".join(f["text"] for f in found)
        assert "text wider than its box" in whys and "Mean ± std" in texts, found
        assert "cut by its container" in whys and "SE_4_3" in texts, found
        assert "needs a horizontal scrollbar" in whys, found
        page.evaluate("() => document.getElementById('planted').remove()")
        page.evaluate("""() => { const h = document.querySelector('[data-testid="stMain"] h2');
                                  h.style.position = 'relative'; h.style.top = '-60px'; }""")
        assert any(f["why"] == "under the top bar" for f in clipped(page)), "a heading moved under the bar"
    finally:
        page.close()


@pytest.mark.parametrize("width, height", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_view_draws_without_an_error(measured, width, height):
    drawn = {view: d for view, (_, _, d) in measured(width, height).items()}
    for view, d in drawn.items():
        assert d["errors"] == 0 and not d["traceback"], f"{view}: an error on the page"
    image, classes = drawn["image"], drawn["classes"]
    assert image["charts"] >= 3 and image["images"] >= 4, image  # input, model view, Grad-CAM, stages
    assert any(image["legends"]), image
    fig6 = classes["legends"][0]  # several classes and "all"
    assert classes["charts"] >= 2 and "all" in fig6 and len(fig6) >= 3, classes


@pytest.mark.parametrize("width, height", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_no_view_cuts_off_text(measured, width, height):
    problems = {view: found for view, (found, _, _) in measured(width, height).items() if found}
    assert not problems, "\n".join(f"{view}: {p['why']}: {p['text']!r} ({p['testid']}, x {p['left']}–{p['right']}, "
                                    f"y {p['top']})" for view, found in problems.items() for p in found)


def test_the_main_figure_is_on_the_first_screen_at_1280x720(measured):
    """The first chart (or, without one, the first image) of each view starts in the upper part of the screen."""
    late = {view: round(top) for view, (_, top, _) in measured(1280, 720).items()
            if top is not None and top > 720 - 300}  # at least 300 px of it on screen
    assert not late, f"main figure starts too low (px from the top at 1280x720): {late}"
