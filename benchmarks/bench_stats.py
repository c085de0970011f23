"""Benchmark: the statistics with chance baselines and intervals, streaming, against the previous excitation_stats
and against bare decode + forward passes; peak memory against the number of images; decoding workers.

Run by hand; results go into docs/performance.md.
  python benchmarks/bench_stats.py overhead      # 10 x 100 bundled images: now vs before the baselines (git 94a952a)
  python benchmarks/bench_stats.py scale --data DIR --per-class 2000     # 20 000 images: vs bare decode + forward
  python benchmarks/bench_stats.py memory --data DIR --per-class 200 2000 4000 --repeats 2  # a process a run
  python benchmarks/bench_stats.py workers --data DIR --per-class 2000 --workers 0 2"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import tracemalloc
import types
from pathlib import Path

import torch
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere, no install needed

import se_models  # noqa: E402
from se_models.config import PROJECT  # noqa: E402
from se_models.data.datasets import ImageItems, as_source, collate_readable  # noqa: E402
from se_models.stats import significance as sig  # noqa: E402
from se_models.stats.excitation import excitation_stats, select_per_class  # noqa: E402


def previous_stats_module(ref: str) -> types.ModuleType:
    """se_models/stats.py as it was at git `ref`, imported beside the current package (its relative imports work)."""
    code = subprocess.run(["git", "show", f"{ref}:se_models/stats.py"], cwd=PROJECT, capture_output=True, text=True,
                          check=True).stdout
    mod = types.ModuleType("se_models._stats_before")
    mod.__package__ = "se_models"
    sys.modules[mod.__name__] = mod  # dataclasses look their module up
    exec(compile(code, f"{ref}:se_models/stats.py", "exec"), mod.__dict__)  # noqa: S102 - our own file at a commit
    return mod


def interleaved(runs: dict, repeats: int, warm_up: bool = False) -> dict[str, float]:
    """Median seconds of each callable, timed once per round in turn (whatever runs first looks slower here)."""
    times = {k: [] for k in runs}
    for fn in runs.values() if warm_up else ():
        fn()
    for _ in range(repeats):
        for k, fn in runs.items():
            t = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t)
    return {k: sorted(v)[len(v) // 2] for k, v in times.items()}


def overhead(args, loaded) -> None:
    """Interleaved: the previous excitation_stats vs the current one, same images, no control."""
    before = previous_stats_module(args.ref)
    runs = {"before": lambda: before.excitation_stats(loaded, args.data, per_class=args.per_class[0]),
            "now": lambda: excitation_stats(loaded, args.data, per_class=args.per_class[0])}
    med = interleaved(runs, args.repeats, warm_up=True)
    print(f"{args.per_class[0]} images per class: before {med['before']:.2f} s, now {med['now']:.2f} s "
          f"-> {med['now'] / med['before']:.2f}x (medians of {args.repeats}, interleaved)")


def bare(loaded, source, indices, workers: int, batch: int = 128) -> None:
    """Decode + forward, nothing recorded: the floor of any statistics over these images."""
    loader = DataLoader(ImageItems(source, indices), batch_size=batch, num_workers=workers, collate_fn=collate_readable)
    with torch.inference_mode():
        for _, x, _ in loader:
            loaded.model(x)


def scale(args, loaded) -> None:
    """Interleaved: statistics vs bare decode + forward over the same images, with the same workers."""
    source = as_source(args.data, loaded)
    idx = select_per_class(source.targets, list(range(len(source.classes))), args.per_class[0], 0)
    runs = {"bare": lambda: bare(loaded, source, idx, args.workers[0]),
            "stats": lambda: excitation_stats(loaded, args.data, per_class=args.per_class[0],
                                              workers=args.workers[0])}
    med = interleaved(runs, args.repeats)  # no warm-up: each run is minutes long
    print(f"{len(idx)} images, {args.workers[0]} workers: bare decode + forward {med['bare']:.1f} s, statistics "
          f"{med['stats']:.1f} s -> {med['stats'] / med['bare']:.2f}x (medians of {args.repeats}, interleaved)")


def status_mb(field: str) -> float:
    """A memory field of /proc/self/status (VmRSS: resident now, VmHWM: its peak) in MB (Linux)."""
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def one_run(args, loaded) -> None:
    """(child process) one statistics run; prints JSON: its time, the resident memory with the model loaded and
    scikit-learn imported (the probe's, imported on its first fit), and the peak resident memory during the run over
    that (the kernel's high-water mark, reset to the current RSS once loaded); with --heap, the peak of the memory
    allocated through Python during the run (tracemalloc: numpy arrays, the sample, file lists; not torch's own
    allocations nor the allocator's slack)."""
    sig.probe_tools()
    loaded_mb = status_mb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS (Linux >= 4.0)
    if args.heap:
        tracemalloc.start()
    t = time.perf_counter()
    st = excitation_stats(loaded, args.data, per_class=args.per_class[0], workers=args.workers[0])
    out = {"images": sum(st.counts.values()), "seconds": round(time.perf_counter() - t, 2),
           "rss_loaded_mb": round(loaded_mb, 1), "peak_over_loaded_mb": round(status_mb("VmHWM") - loaded_mb, 1)}
    if args.heap:
        out["python_heap_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2 ** 20, 1)
    print(json.dumps(out))


def children(args, key: str) -> None:
    """One fresh process per run (peak memory is per process), the settings alternated; then the median peak over
    the loaded model per setting, and how far apart those medians are (issue #27's goal: within 25 MB)."""
    values = args.per_class if key == "per_class" else args.workers
    peaks: dict[int, list[float]] = {v: [] for v in values}
    for _ in range(args.repeats if key == "per_class" else 1):  # RSS varies between runs: alternate the settings
        for v in values:
            cmd = [sys.executable, __file__, "one", "--data", str(args.data), "--model", args.model or "",
                   "--per-class", str(v if key == "per_class" else args.per_class[0]),
                   "--workers", str(v if key == "workers" else args.workers[0])] + (["--heap"] if args.heap else [])
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
            print(f"{key} {v}: {out}", flush=True)
            peaks[v].append(json.loads(out)["peak_over_loaded_mb"])
    medians = {v: statistics.median(ps) for v, ps in peaks.items()}
    print("peak RSS over the loaded model, median per setting: "
          + ", ".join(f"{key} {v}: {m:.0f} MB" for v, m in medians.items())
          + f"; spread {max(medians.values()) - min(medians.values()):.0f} MB")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["overhead", "scale", "memory", "workers", "one"])
    p.add_argument("--model", default=None)
    p.add_argument("--data", default="bundled")
    p.add_argument("--per-class", type=int, nargs="+", default=[100])
    p.add_argument("--workers", type=int, nargs="+", default=[0])
    p.add_argument("--repeats", type=int, default=5, help="timing rounds; runs of each setting for memory")
    p.add_argument("--heap", action="store_true", help="memory: also the peak of Python-allocated memory")
    p.add_argument("--ref", default="94a952a", help="git ref of the previous statistics (overhead; default: the "
                   "last commit before the chance baselines and intervals)")
    args = p.parse_args()
    loaded = se_models.load_model(args.model or (None if args.data != "bundled" else "se_resnet20_fashion_mnist"))
    if args.what != "one":
        print(f"model {loaded.name}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    {"overhead": overhead, "scale": scale, "one": one_run}.get(args.what, lambda a, m: None)(args, loaded)
    if args.what in ("memory", "workers"):
        children(args, "per_class" if args.what == "memory" else "workers")


if __name__ == "__main__":
    main()
