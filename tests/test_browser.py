"""Real-browser test: moving between views keeps the model in the URL (every view drawn at two sizes:
test_browser_layout)."""
from __future__ import annotations

import pytest

from tests.browserhelp import open_view

# slow: a real server and browser; the fast loop drives the same views under AppTest
pytestmark = [pytest.mark.browser, pytest.mark.slow]


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
