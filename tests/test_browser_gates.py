"""From a gate to its images in a real browser: a click on a Fig. 6 line opens that channel's panel, and a channel
link under the Image view's feature maps leads there too."""
from __future__ import annotations

import re

import pytest

from tests.browserhelp import wait_charts_settled, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a channel's images ranked and drawn in a real browser

FASHION = "se_resnet20_fashion_mnist"
PANEL = "which images open and close its gate"


# where a Fig. 6 line of the subplot `sub` (e.g. "x5y5") is on screen: half way along the path plotly drew for it
LINE_POINT = """(sub) => {
  const path = document.querySelector(`.js-plotly-plot .cartesianlayer .subplot.${sub} .scatterlayer path.js-line`);
  const p = path.getPointAtLength(path.getTotalLength() / 2), m = path.getScreenCTM();
  return {x: m.a * p.x + m.c * p.y + m.e, y: m.b * p.x + m.d * p.y + m.f};
}"""


def _settled(page) -> None:
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0", timeout=120_000)
    wait_idle(page)
    wait_charts_settled(page)


def test_a_click_on_a_fig6_line_opens_that_channel(browser, server):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    try:
        page.goto(f"{server}?view=classes&model={FASHION}&source=bundled&classes=Bag&classes=Sneaker",
                  wait_until="domcontentloaded")
        _settled(page)
        panels = page.locator(".js-plotly-plot").first.locator(".nsewdrag")
        deepest = panels.nth(panels.count() - 1)  # SE_4_3, the last panel
        deepest.scroll_into_view_if_needed()
        point = page.evaluate(LINE_POINT, deepest.get_attribute("data-subplot"))
        page.mouse.move(point["x"], point["y"])  # onto a line: plotly shows that channel's hover label
        hover = page.locator(".hoverlayer .hovertext").first
        hover.wait_for(timeout=30_000)
        channel = re.search(r"SE_4_3 channel (\d+)", hover.text_content()).group(1)
        page.mouse.down()
        page.mouse.up()
        page.wait_for_selector(f"h3:has-text('Channel {channel} of SE_4_3: {PANEL}')", timeout=120_000)
        assert f"ch_block=SE_4_3&ch={channel}" in page.url
        page.locator(f"h3:has-text('{PANEL}')").scroll_into_view_if_needed()
        page.wait_for_function("['The 8 highest gates', 'The 8 lowest gates'].every(t => Array.from(document"
                               ".querySelectorAll('.js-plotly-plot .gtitle')).some(g => g.textContent === t))",
                               timeout=120_000)
        assert page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').count() == 0
    finally:
        page.close()


def test_an_image_view_channel_link_leads_to_its_images(browser, server):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    try:
        page.goto(f"{server}?view=image&model={FASHION}", wait_until="domcontentloaded")
        _settled(page)
        link = page.locator(".st-key-img_channel_links a").first
        label = link.inner_text()
        channel = re.search(r"ch (\d+)", label).group(1)
        link.click()
        page.wait_for_selector(f"h3:has-text('Channel {channel} of SE_4_3: {PANEL}')", timeout=240_000)
        assert "view=classes" in page.url or "/classes" in page.url
    finally:
        page.close()
