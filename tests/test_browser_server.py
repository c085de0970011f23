"""The classroom server under `streamlit run` in a real browser: a pipe and a /dev/zero link in an allowed folder are
skipped by name, a control bound to the URL writes it, and the server still stops on SIGTERM."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests.browserhelp import ARTIFACTS, ROOT, assert_no_error, full_screenshot, wait_done, wait_http, wait_idle
from tests.fakes import pattern

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def start(tmp_path, port: int) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "SE_EXPLORER_ROOTS": str(tmp_path)}
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 - the server writes it until it stops
    return subprocess.Popen([sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.port", str(port),
                             "--server.headless", "true", "--server.address", "127.0.0.1"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def test_a_pipe_in_an_allowed_folder_is_skipped_and_the_server_stops(browser, tmp_path):
    import socket

    for cls, kind in (("Bag", "circle"), ("Trouser", "stripes")):
        (tmp_path / "data" / cls).mkdir(parents=True)
        for i in range(3):
            pattern(kind, size=28, seed=i).save(tmp_path / "data" / cls / f"{i}.png")
    os.mkfifo(tmp_path / "data" / "Bag" / "pipe.png")  # opening it for reading would wait for a writer for ever
    (tmp_path / "data" / "Trouser" / "zero.png").symlink_to("/dev/zero")  # reading it would never end
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    proc = start(tmp_path, port)
    try:
        try:
            wait_http(url, proc)
        except RuntimeError:  # the server exited: its own words say why
            pytest.fail((tmp_path / "server.log").read_text()[-2000:])
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(f"{url}?view=classes&model=se_resnet20_fashion_mnist&source=folder&per_class=4&live_control=off",
                  wait_until="domcontentloaded")
        box = page.get_by_role("textbox", name="Folder on this server")
        box.wait_for(timeout=90_000)
        box.fill(str(tmp_path / "data"))
        box.press("Enter")
        wait_done(page, "document.body.innerText.includes('unreadable image(s) skipped')")
        body = page.inner_text("body")
        assert "pipe.png" in body or "zero.png" in body
        assert_no_error(page)
        full_screenshot(page, ARTIFACTS / "browser_server_pipe.png")

        page.goto(f"{url}?view=compare", wait_until="domcontentloaded")  # a control Streamlit binds to the URL
        wait_done(page, "document.querySelectorAll('.js-plotly-plot').length >= 2")
        box = page.get_by_role("combobox", name="SE block")
        box.scroll_into_view_if_needed()  # clicked while the page scrolls to it, its list opens and closes again
        box.click()
        page.get_by_role("option", name="SE_3_3", exact=True).click()
        page.wait_for_function("location.search.includes('cmp_block=SE_3_3')", timeout=60_000)
        wait_idle(page, timeout=60_000)
        page.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail("the server did not stop on SIGTERM")
    assert code in (0, -signal.SIGTERM), code
