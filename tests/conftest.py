"""Shared fixtures, used by name: a tiny random SE-ResNet, a seeded generator, a folder of generated class images;
for the browser tests, the app under `streamlit run` and headless Chromium. Plain helpers live in fakes.py,
probes.py, apphelp.py and browserhelp.py."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.browserhelp import CHROMIUM, CHROMIUM_ARGS, streamlit_server
from tests.fakes import LABELS, make_loaded, pattern


def pytest_configure(config):
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers:  # under -n N the workers share the cores: torch in each would otherwise start a thread per core
        threads = max(1, (os.cpu_count() or 1) // int(workers))
        torch.set_num_threads(threads)
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))  # and the same in the processes a test starts


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


@pytest.fixture(scope="session")
def server():
    """The app under `streamlit run`, one for every browser test of a worker (its models load once); yields its
    URL. A module that needs a server of its own (other settings) defines its own `server`."""
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (Debian's, driven by Playwright), one for every browser test of a worker."""
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
