"""Shared fixtures, used by name: a tiny random SE-ResNet, a seeded generator, a folder of generated class images;
for the browser tests, the app under `streamlit run` and headless Chromium. Plain helpers live in fakes.py,
probes.py, apphelp.py and browserhelp.py."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# torch, the project and Streamlit are imported by the fixtures and the test modules, not here: under -n the
# process that hands out tests runs none and would import them for nothing before the workers start


def pytest_configure(config):
    if getattr(config.option, "numprocesses", None) and not os.environ.get("PYTEST_XDIST_WORKER"):
        return  # the process that only hands out tests to the workers
    _scan_components_once()
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers:  # under -n N the workers share the cores: torch in each would otherwise start a thread per core
        import torch

        threads = max(1, (os.cpu_count() or 1) // int(workers))
        torch.set_num_threads(threads)
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))  # and the same in the processes a test starts


def _scan_components_once():
    """Every new AppTest scans all installed packages for Streamlit components, which takes longer than a cached
    view's whole run; the packages do not change while the tests run, so each worker scans once."""
    import functools

    try:
        from streamlit.components.v2 import manifest_scanner  # read by name at each app's first run
    except ImportError:  # a Streamlit without it scans elsewhere or not at all: only slower
        return
    manifest_scanner.scan_component_manifests = functools.cache(manifest_scanner.scan_component_manifests)


@pytest.fixture
def tiny():
    from tests.fakes import make_loaded

    return make_loaded()


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(0)


@pytest.fixture
def image_folder(tmp_path):
    """DIR/<class>/<image>.png with 6 generated images per class."""
    from tests.fakes import LABELS, pattern

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
    URL. With the hidden hook check (?debug=hooks) on, which the several-users test reads; a module that needs a
    server of its own (other settings) defines its own `server`."""
    from se_models.config import ENV_DEBUG
    from tests.browserhelp import streamlit_server

    with streamlit_server(**{ENV_DEBUG: "1"}) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (Debian's, driven by Playwright), one for every browser test of a worker."""
    from tests.browserhelp import CHROMIUM, CHROMIUM_ARGS

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
