"""Benchmark: what a view's first paint imports beyond the floor of any PyTorch Streamlit app: -X importtime.

Two fresh interpreters, alternated: the app's first paint of a view under Streamlit's AppTest, and the floor (streamlit,
plotly, torch and timm imported, and AppTest). Import time is summed per top-level package (each module's own time,
so nothing counts twice); the table lists the packages by what the app spends beyond the floor. The times move with
the machine's load, the list of packages does not (tests/test_startup.py asserts the libraries that must be absent).

Run by hand; results go into docs/performance.md.
  python benchmarks/bench_imports.py [--view image] [--rounds 3] [--top 15]"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard" / "app.py"
FIRST_PAINT = ("from streamlit.testing.v1 import AppTest; at = AppTest.from_file({app!r}, default_timeout=600); "
               "at.query_params['view'] = {view!r}; at.run(); assert not at.exception, at.exception")
FLOOR = "import streamlit, plotly.graph_objects, torch, timm; from streamlit.testing.v1 import AppTest"


def import_times(code: str) -> dict[str, float]:
    """Seconds of import per top-level package (the sum of each module's own time) in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")})
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    per: dict[str, float] = defaultdict(float)
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, _, name = line[len("import time:"):].split("|")
        per[name.strip().split(".")[0]] += int(own) / 1e6
    return per


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--view", default="image")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--top", type=int, default=15)
    args = p.parse_args()
    runs: dict[str, list[dict[str, float]]] = {"app": [], "floor": []}
    for _ in range(args.rounds):  # alternated, so both see the same machine state
        runs["app"].append(import_times(FIRST_PAINT.format(app=str(APP), view=args.view)))
        runs["floor"].append(import_times(FLOOR))
    med = {k: {pkg: statistics.median(r.get(pkg, 0.0) for r in rs) for pkg in set().union(*rs)}
           for k, rs in runs.items()}
    totals = {k: statistics.median(sum(r.values()) for r in rs) for k, rs in runs.items()}
    print(f"imports of the {args.view} view's first paint vs the floor, medians of {args.rounds} alternated rounds "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    print(f"total: app {totals['app']:.2f} s, floor {totals['floor']:.2f} s, beyond the floor "
          f"{totals['app'] - totals['floor']:.2f} s")
    only_app = sorted(set(med["app"]) - set(med["floor"]), key=lambda k: -med["app"][k])
    print(f"packages the floor does not import ({len(only_app)}): {', '.join(only_app)}")
    print("| package | app (s) | floor (s) | beyond the floor (s) |\n|---|---|---|---|")
    rows = sorted(med["app"], key=lambda k: -(med["app"][k] - med["floor"].get(k, 0.0)))
    for pkg in rows[:args.top]:
        a, f = med["app"][pkg], med["floor"].get(pkg, 0.0)
        print(f"| {pkg} | {a:.3f} | {f:.3f} | {a - f:+.3f} |")


if __name__ == "__main__":
    main()
