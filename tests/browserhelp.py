"""Driving the app in a real browser: `streamlit run` on a free local port, Chromium's path and flags, opening a view
until it is drawn, full-page screenshots, waiting on the app (its script finished, its charts laid out), never on
the clock, and the page's error check."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from se_models.config import PROJECT

ROOT = PROJECT
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
# idle: the script has finished (the state Streamlit's front end keeps on its root; the running-man widget alone
# shows up only after a delay, so a short run could pass for idle before its charts were drawn)
IDLE = ("document.querySelector('[data-testid=\"stApp\"]')?.dataset.testScriptState === 'notRunning'"
        " && !document.querySelector('[data-testid=\"stStatusWidget\"]')")
# every visible chart laid out for its box: plotly's SVG as wide and as high as the chart's element (a chart
# relayouts a moment after its box changes: a new viewport, a stretched figure), and these sizes the same over
# two animation frames (checked once a frame: polling="raf")
CHARTS_SETTLED = """() => {
  const sizes = Array.from(document.querySelectorAll('.js-plotly-plot')).map(p => {
    const r = p.getBoundingClientRect(), svg = p.querySelector('.main-svg');
    return [r.width, r.height, svg ? +svg.getAttribute('width') : -1, svg ? +svg.getAttribute('height') : -1]; })
    .filter(([w, h]) => w > 0 && h > 0);  // a chart in a closed expander or tab has no box to fill
  const key = JSON.stringify(sizes), seen = window.__chartSizes;
  window.__chartSizes = {key, frames: seen && seen.key === key ? seen.frames + 1 : 0};
  return window.__chartSizes.frames >= 2
    && sizes.every(([w, h, sw, sh]) => Math.abs(w - sw) <= 1 && Math.abs(h - sh) <= 1);
}"""


def wait_idle(page, timeout: int = 120_000) -> None:
    """Until the script has finished its run."""
    page.wait_for_function(IDLE, timeout=timeout)


def wait_charts_settled(page, timeout: int = 60_000) -> None:
    """Until every visible plotly chart has drawn itself at its final size (see CHARTS_SETTLED)."""
    page.evaluate("window.__chartSizes = null")  # count frames from now, not from an earlier wait
    page.wait_for_function(CHARTS_SETTLED, polling="raf", timeout=timeout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    """Until the server at `url` answers its health check (a busy CPU can take minutes to import Streamlit and
    torch); RuntimeError when it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)  # not listening yet: poll again, within the deadline (no page to wait on before this)
    raise TimeoutError(f"streamlit did not answer at {url} within {timeout} s")


@contextlib.contextmanager
def streamlit_server(script: str = "dashboard/app.py", cwd: Path = ROOT, **extra_env: str):
    """The app (or another Streamlit script) under `streamlit run` on a free local port, from the checkout `cwd`;
    yields its URL, always terminates it."""
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"), **extra_env}
    ARTIFACTS.mkdir(exist_ok=True)
    # the server's own output, for when a test fails (a second checkout's server beside it keeps a log of its own)
    log = open(ARTIFACTS / ("streamlit_server.log" if cwd == ROOT else f"streamlit_server_{cwd.name}.log"), "wb")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
                             "--server.headless", "true", "--server.address", "127.0.0.1"],
                            cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_http(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def open_view(browser, url: str, view: str, width: int = 1400, height: int = 900, min_charts: int = 1, page=None):
    """Open one view and wait until its plotly charts and images are drawn and the script has finished: in a new
    page, or in `page` (a new session in the same tab, whose browser cache already holds Streamlit's scripts)."""
    page = page or browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{url}?view={view}", wait_until="domcontentloaded")
    # a cold server loads its model and runs its first analysis before the first chart: minutes on a busy CPU
    page.wait_for_selector('[data-testid="stApp"]', timeout=60_000)
    if min_charts:
        page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {min_charts}",
                               timeout=180_000)
    wait_idle(page, timeout=180_000)
    page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=30_000)
    wait_charts_settled(page)
    return page


def full_screenshot(page, path: Path) -> None:
    """Streamlit scrolls inside its main section, so grow the viewport to the content before the screenshot."""
    height = page.evaluate("Math.max(...Array.from(document.querySelectorAll('[data-testid=\"stMain\"], "
                           "[data-testid=\"stSidebarContent\"]')).map(e => e.scrollHeight))")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height) + 40, 12000))})
    wait_charts_settled(page)  # plotly charts resize to the new viewport
    path.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)


def wait_done(page, what: str, timeout: int = 120_000) -> None:
    """Until `what` (a JavaScript expression) holds and the script has finished."""
    page.wait_for_function(what, timeout=timeout)
    wait_idle(page, timeout=timeout)


def assert_no_error(page) -> None:
    """No exception box, no error box and no traceback on the page."""
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    assert "Traceback" not in page.inner_text("body")
