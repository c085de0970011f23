"""Benchmark: the full garbage collection Streamlit runs after every script run (runner.postScriptGC), with the app's
libraries loaded as a session meets them: the first paint's (the app, the Image view, the model), then the other
views' (captum, scipy, scikit-learn: imported on their first visit since issue #27).

Three states: nothing frozen; frozen once after the first paint's imports only (the later imports walked by every
collection); frozen again after the later imports (what dashboard/state/frozen.py does at the start of the next run).
The first two are measured in turn, then the last two interleaved (a freeze cannot be partly undone).

Run by hand; results go into docs/performance.md.
  python benchmarks/bench_gc.py [--model seresnet50.a1_in1k --weights random] [--repeats 11]"""
from __future__ import annotations

import argparse
import gc
import importlib
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere, no install needed

import se_models  # noqa: E402
from dashboard import ui  # noqa: E402, F401 - the app's own imports, as dashboard/app.py makes them
from dashboard.panels import sidebar  # noqa: E402, F401
from dashboard.state import frozen  # noqa: E402
from dashboard.views import debug, image  # noqa: E402, F401 - and the first paint's view
from se_models.stats import significance  # noqa: E402

LATER_VIEWS = ["methods", "classes", "compare", "lesson", "about"]


def collection() -> float:
    """Seconds of one gc.collect(2), the call Streamlit makes after each run (runner.postScriptGC)."""
    t = time.perf_counter()
    gc.collect(2)
    return time.perf_counter() - t


def tracked() -> int:
    """Objects a full collection walks (frozen ones are not listed)."""
    return len(gc.get_objects())


def report(name: str, ts: list[float], objects: int) -> None:
    print(f"gc.collect(2), {name}: {statistics.median(ts) * 1000:.1f} ms (median of {len(ts)}, max "
          f"{max(ts) * 1000:.1f} ms), {objects} objects walked")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None)
    p.add_argument("--weights", default=None)
    p.add_argument("--repeats", type=int, default=11)
    args = p.parse_args()
    se_models.load_model(args.model, args.weights)
    gc.collect(2)
    frozen.freeze_new_imports()  # the app's first run: its imports and the model
    for view in LATER_VIEWS:  # the later visits' imports
        importlib.import_module(f"dashboard.views.{view}")
    importlib.import_module("captum.attr")  # the Methods view imports it with its lenses
    significance.probe_tools()  # scikit-learn: the first statistics computed
    gc.collect(2)
    once = [collection() for _ in range(args.repeats)]
    report("frozen once, after the first paint's imports", once, tracked())
    times: dict[str, list[float]] = {"nothing frozen": [], "frozen again after the later imports (now)": []}
    objects = {}
    for _ in range(args.repeats):  # interleaved: each round times both, in turn
        gc.unfreeze()
        objects["nothing frozen"] = tracked()
        times["nothing frozen"].append(collection())
        gc.freeze()
        objects["frozen again after the later imports (now)"] = tracked()
        times["frozen again after the later imports (now)"].append(collection())
    for name, ts in times.items():
        report(name, ts, objects[name])


if __name__ == "__main__":
    main()
