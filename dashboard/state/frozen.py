"""The libraries' long-lived objects kept out of the full garbage collection Streamlit runs after every script run."""
from __future__ import annotations

import gc
import sys
import threading

_lock = threading.Lock()
_modules_at_freeze = 0  # len(sys.modules) when the collector was last frozen


def freeze_new_imports() -> bool:
    """Freeze every object the collector tracks if modules were imported since the last freeze; True if it froze.

    Streamlit runs gc.collect(2) after each script run (runner.postScriptGC), holding the interpreter lock while the
    run's last messages wait to be sent; torch and timm alone leave some 600 000 long-lived objects for it to walk.
    The views and the libraries only some of them use (captum, scikit-learn, scipy) are imported on first use, so
    one freeze after the app's own imports would leave theirs in every later collection. Called at the start of a
    run, after the previous run's collection, this freezes what that run imported and little garbage with it (a
    frozen object is still freed when its last reference goes, but a frozen cycle is never collected)."""
    global _modules_at_freeze
    with _lock:
        if len(sys.modules) <= _modules_at_freeze:
            return False
        _modules_at_freeze = len(sys.modules)
        gc.freeze()
        return True
