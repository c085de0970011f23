"""Shared fixtures, used by name: a tiny random SE-ResNet, a seeded generator, a folder of generated class images;
for the browser tests, the app under `streamlit run` and headless Chromium. Plain helpers live in fakes.py,
probes.py, apphelp.py and browserhelp.py."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.browserhelp import CHROMIUM, CHROMIUM_ARGS, streamlit_server
from tests.fakes import LABELS, make_loaded, pattern


@pytest.fixture
def tiny():
    return make_loaded()


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def image_folder(tmp_path):
    """DIR/<class>/<image>.png with 6 generated images per class."""
    for c in LABELS:
        (tmp_path / c).mkdir()
        for i in range(6):
            pattern(c, seed=i).save(tmp_path / c / f"{i}.png")
    return tmp_path


# ---- the browser tests ------------------------------------------------------------------------------------------
def _missing(reason: str):
    if os.environ.get("SE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"SE_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server():
    """The app under `streamlit run`, one per test module; yields its URL."""
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's, driven by Playwright), one per test module."""
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
