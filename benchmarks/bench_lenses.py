"""Time each attribution method for one image and for a batch of 64 on the default model, interleaved with Grad-CAM.

Run: python benchmarks/bench_lenses.py [--repeats 5] [--model NAME]"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from se_models import load_model  # noqa: E402
from se_models.explain import lenses  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model", default=None)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    warnings.filterwarnings("ignore")
    loaded = load_model(args.model)
    torch.manual_seed(0)
    batches = {1: torch.randn(1, *loaded.input_size), 64: torch.randn(64, *loaded.input_size)}
    times = {(m, b): [] for m in lenses.METHODS for b in batches}
    for m in lenses.METHODS:  # warm-up: first calls pay for oneDNN kernel selection
        lenses.attribute(loaded, batches[1], m, 0)
    for _ in range(args.repeats):  # interleaved: every round runs every method, so load changes hit all alike
        for b, x in batches.items():
            for m in lenses.METHODS:
                t = time.perf_counter()
                lenses.attribute(loaded, x, m, 0)
                times[(m, b)].append(time.perf_counter() - t)
    print(f"{loaded.name}, {torch.get_num_threads()} threads, median of {args.repeats} interleaved rounds")
    print("| method | 1 image (ms) | batch of 64 (ms) | per image in the batch (ms) | vs Grad-CAM (batch) |")
    print("|---|---|---|---|---|")
    gc = statistics.median(times[("gradcam", 64)])
    for m in lenses.METHODS:
        one, many = statistics.median(times[(m, 1)]), statistics.median(times[(m, 64)])
        print(f"| {lenses.METHODS[m]} | {one * 1e3:.0f} | {many * 1e3:.0f} | {many * 1e3 / 64:.1f} "
              f"| {many / gc:.2f}× |")


if __name__ == "__main__":
    main()
