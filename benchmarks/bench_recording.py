"""Benchmark: cost of recording excitations, and of excitation_stats, against bare forward passes.

Run by hand on an otherwise idle machine: `python benchmarks/bench_recording.py [--model NAME]`.
Results go into the README's Performance section."""
from __future__ import annotations

import argparse
import statistics
import time

import torch

import se_models
from se_models.data import as_source
from se_models.stats import _select


def best_of(fn, repeats: int) -> float:
    """Median wall time of `repeats` runs after one warm-up run."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model", default=None)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    loaded = se_models.load_model(args.model)
    print(f"model {loaded.name}, torch {torch.__version__}, {torch.get_num_threads()} threads")

    # 1. recording overhead on one batch of 256
    x = torch.randn(256, *loaded.input_size)
    with torch.inference_mode():
        bare = best_of(lambda: loaded.model(x), args.repeats)

        def recorded():
            with se_models.SERecorder(loaded) as rec:
                loaded.model(x)
            return rec
        rec = best_of(recorded, args.repeats)
    print(f"batch 256: bare forward {bare * 1000:.1f} ms, with SERecorder {rec * 1000:.1f} ms "
          f"-> overhead {100 * (rec / bare - 1):+.1f}%")

    # 2. excitation_stats on 10 classes x 100 bundled images vs bare forward passes over the same images
    source = as_source("bundled", loaded)
    idx = _select(source.targets, list(range(len(source.classes))), 100, 0)

    def load_and_forward():
        with torch.inference_mode():
            for i in range(0, len(idx), 128):
                loaded.model(torch.stack([source.get(j) for j in idx[i:i + 128]]))
    bare_all = best_of(load_and_forward, args.repeats)
    tensors = torch.stack([source.get(j) for j in idx])

    def forward_only():
        with torch.inference_mode():
            for i in range(0, len(idx), 128):
                loaded.model(tensors[i:i + 128])
    bare_fwd = best_of(forward_only, args.repeats)
    stats_t = best_of(lambda: se_models.excitation_stats(loaded, "bundled", per_class=100), args.repeats)
    print(f"{len(idx)} images: bare forward {bare_fwd:.2f} s (decoded beforehand), decode + bare forward "
          f"{bare_all:.2f} s, excitation_stats {stats_t:.2f} s -> {stats_t / bare_all:.2f}x decode + forward, "
          f"{stats_t / bare_fwd:.2f}x forward alone ({len(idx) / stats_t:.0f} images/s)")


if __name__ == "__main__":
    main()
