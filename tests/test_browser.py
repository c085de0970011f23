"""Real-browser test: `streamlit run` on a free port, headless Chromium through Playwright, charts actually drawn."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from se_models.config import PROJECT

ROOT = PROJECT
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
pytestmark = pytest.mark.browser


def _missing(reason: str):
    if os.environ.get("SE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"SE_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"streamlit did not answer at {url} within {timeout} s")


@contextlib.contextmanager
def streamlit_server(script: str = "dashboard/app.py", cwd: Path = ROOT, **extra_env: str):
    """The app (or another Streamlit script) under `streamlit run` on a free local port, from the checkout `cwd`;
    yields its URL, always terminates it."""
    port = _free_port()
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"), **extra_env}
    ARTIFACTS.mkdir(exist_ok=True)
    # the server's own output, for when a test fails (a second checkout's server beside it keeps a log of its own)
    log = open(ARTIFACTS / ("streamlit_server.log" if cwd == ROOT else f"streamlit_server_{cwd.name}.log"), "wb")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
                             "--server.headless", "true", "--server.address", "127.0.0.1"],
                            cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_http(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def server():
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    exe = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not exe:
        _missing(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install playwright)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def open_view(browser, url: str, view: str, width: int = 1400, height: int = 900, min_charts: int = 1):
    """Open one view and wait until its plotly charts and images are drawn and the script has finished."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{url}?view={view}", wait_until="domcontentloaded")
    page.wait_for_selector('[data-testid="stApp"]', timeout=60_000)
    if min_charts:
        page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {min_charts}",
                               timeout=60_000)
    # the status widget shows while the script runs; wait for it to go, then for images to finish decoding
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=30_000)
    page.wait_for_timeout(800)  # plotly's last relayout
    return page


def full_screenshot(page, path: Path) -> None:
    """Streamlit scrolls inside its main section, so grow the viewport to the content before the screenshot."""
    height = page.evaluate("Math.max(...Array.from(document.querySelectorAll('[data-testid=\"stMain\"], "
                           "[data-testid=\"stSidebarContent\"]')).map(e => e.scrollHeight))")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height) + 40, 12000))})
    page.wait_for_timeout(1000)  # plotly charts resize to the new viewport
    path.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)


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
