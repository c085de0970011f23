"""The later views' libraries imported in a background thread once the first view is on the screen."""
from __future__ import annotations

import importlib
import threading

# what the Methods view imports on its first visit (captum, scipy: slow to import); the first paint does
# without them (tests/test_startup.py). Not scikit-learn: it imports pandas, and Streamlit reads pandas from
# sys.modules while a script runs, so a pandas half imported by this thread broke a run ("partially initialized
# module 'pandas' has no attribute 'Series'"); the statistics import it when they first run.
LATER = ("captum.attr", "scipy.stats", "se_models.explain.lenses", "se_models.explain.sanity", "se_models.plots.lenses")
DELAY_S = 1.0  # after the first run ends: the browser is still drawing the first view, and it shares the cores

_lock = threading.Lock()
_thread: threading.Timer | None = None


def _import_all() -> None:
    for name in LATER:
        try:
            importlib.import_module(name)
        except ImportError:  # a view that needs it says so when visited; a warm-up has no one to tell
            pass


def start(delay: float = DELAY_S) -> threading.Timer:
    """Start the warm-up once per server process (later calls return the same thread). The imports run under the
    interpreter's import lock, so a view visited meanwhile waits for the module instead of importing it twice; the
    next run's frozen.freeze_new_imports() then keeps them out of the collector's walks."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Timer(delay, _import_all)
            _thread.daemon = True
            _thread.start()
        return _thread
