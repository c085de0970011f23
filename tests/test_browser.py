"""Real-browser test: `streamlit run` on a free port, headless Chromium through Playwright, charts actually drawn."""
from __future__ import annotations

import pytest

from tests.browserhelp import ARTIFACTS, full_screenshot, open_view

# slow: a real server and browser (some 40 s of a worker); the fast loop drives the same views under AppTest
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_image_view_draws_charts_and_images(browser, server):
    page = open_view(browser, server, "image", min_charts=3)
    try:
        charts = page.locator(".js-plotly-plot").count()
        assert charts >= 3, f"only {charts} plotly charts on the Image view"
        assert page.locator('[data-testid="stImage"] img').count() >= 4  # input, model view, Grad-CAM, stages
        assert page.locator(".js-plotly-plot .legend .traces").count() > 0
        assert page.locator('[data-testid="stException"]').count() == 0
        assert "Traceback" not in page.inner_text("body")
        full_screenshot(page, ARTIFACTS / "browser_image.png")
    finally:
        page.close()


def test_classes_view_draws_paper_figure(browser, server):
    page = open_view(browser, server, "classes", min_charts=2)
    try:
        assert page.locator(".js-plotly-plot").count() >= 2
        legend = page.locator(".js-plotly-plot .legend .traces")
        assert legend.count() >= 3  # several classes plus "all"
        names = page.locator(".js-plotly-plot .legend .legendtext").evaluate_all("els => els.map(e => e.textContent)")
        assert "all" in names, names
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator('[data-testid="stAlertContentError"]').count() == 0
        full_screenshot(page, ARTIFACTS / "browser_classes.png")
    finally:
        page.close()


def test_navigation_keeps_the_model_in_the_url(browser, server):
    import se_models

    control = se_models.DEFAULT_MODEL + ":control"
    page = open_view(browser, server, f"image&model={control}", min_charts=3)
    try:
        page.get_by_text("Classes", exact=True).first.click()
        page.wait_for_function("Array.from(document.querySelectorAll('.js-plotly-plot .gtitle'))"
                               ".some(t => t.textContent.includes('per channel and class'))", timeout=60_000)
        assert "view=classes" in page.url and f"model={control}".replace(":", "%3A") in page.url.replace(":", "%3A")
        titles = page.locator(".js-plotly-plot .gtitle").evaluate_all("els => els.map(e => e.textContent)")
        assert any("untrained" in t for t in titles), titles
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        page.close()
