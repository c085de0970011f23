"""Benchmark: the full garbage collection Streamlit runs after every script run, with the app's libraries loaded,
as they are (the default) and frozen once after the imports (what dashboard/app.py does), interleaved.

Run by hand; results go into the README's Performance section.
  python benchmarks/bench_gc.py [--model seresnet50.a1_in1k --weights random] [--repeats 11]"""
from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere, no install needed

import se_models  # noqa: E402
from dashboard.views import about, classes, compare, image, lesson, methods  # noqa: E402, F401 - the app's imports


def collection() -> float:
    """Seconds of one gc.collect(2), the call Streamlit makes after each run (runner.postScriptGC)."""
    t = time.perf_counter()
    gc.collect(2)
    return time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None)
    p.add_argument("--weights", default=None)
    p.add_argument("--repeats", type=int, default=11)
    args = p.parse_args()
    se_models.load_model(args.model, args.weights)
    gc.collect(2)
    print(f"{len(gc.get_objects())} objects tracked by the garbage collector with the app's libraries and the model")
    times: dict[str, list[float]] = {"as they are": [], "frozen once": []}
    for _ in range(args.repeats):  # interleaved: each round times both, in turn
        times["as they are"].append(collection())
        gc.freeze()
        times["frozen once"].append(collection())
        gc.unfreeze()
    for name, ts in times.items():
        print(f"gc.collect(2), {name}: {statistics.median(ts) * 1000:.1f} ms (median of {len(ts)}, "
              f"max {max(ts) * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
