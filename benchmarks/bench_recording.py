"""Benchmark: the cost of recording excitations and of excitation_stats, against bare forward passes.

Run by hand on an otherwise idle machine; results go into the README's Performance section.
  python benchmarks/bench_recording.py                                   # bundled model, 10 x 100 samples
  python benchmarks/bench_recording.py --model seresnet50.a1_in1k --weights random --data synthetic \\
      --per-class 16 --batch 32 --repeats 2                              # SE-ResNet-50 at 224 px"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere, no install needed

import se_models  # noqa: E402
from se_models.data.datasets import as_source  # noqa: E402
from se_models.stats.excitation import select_per_class  # noqa: E402


def timed(fn, repeats: int) -> float:
    """Median wall time of `repeats` runs after one warm-up run."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def synthetic_folder(root: Path, classes: int, per_class: int, size: int = 256) -> Path:
    """Random-noise JPEGs in DIR/<class>/<image> layout (the timing does not depend on content)."""
    rng = np.random.default_rng(0)
    for c in range(classes):
        (root / f"class{c}").mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(root / f"class{c}/{i}.jpg")
    return root


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None)
    p.add_argument("--weights", default=None)
    p.add_argument("--data", default="bundled", help="bundled | DIR | synthetic")
    p.add_argument("--classes", type=int, default=4, help="classes of the synthetic set")
    p.add_argument("--per-class", type=int, default=100)
    p.add_argument("--batch", type=int, default=256, help="batch of the recording-overhead measurement")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    loaded = se_models.load_model(args.model, args.weights)
    print(f"model {loaded.name} ({loaded.weights}), input {loaded.input_size}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")

    # 1. recording overhead on one batch
    x = torch.randn(args.batch, *loaded.input_size)
    with torch.inference_mode():
        bare = timed(lambda: loaded.model(x), args.repeats)

        def recorded():
            with se_models.SERecorder(loaded):
                loaded.model(x)
        rec = timed(recorded, args.repeats)
    print(f"batch {args.batch}: bare forward {bare * 1000:.1f} ms, with SERecorder {rec * 1000:.1f} ms "
          f"-> overhead {100 * (rec / bare - 1):+.1f}%")

    # 2. excitation_stats vs bare forward passes over the same images
    with tempfile.TemporaryDirectory() as tmp:
        data = synthetic_folder(Path(tmp), args.classes, args.per_class) if args.data == "synthetic" else args.data
        source = as_source(data, loaded)
        idx = select_per_class(source.targets, list(range(len(source.classes))), args.per_class, 0)
        tensors = torch.stack([source.get(j) for j in idx])

        def forward_only():
            with torch.inference_mode():
                for i in range(0, len(idx), 128):
                    loaded.model(tensors[i:i + 128])

        def decode_and_forward():
            with torch.inference_mode():
                for i in range(0, len(idx), 128):
                    loaded.model(torch.stack([source.get(j) for j in idx[i:i + 128]]))
        fwd = timed(forward_only, args.repeats)
        dec = timed(decode_and_forward, args.repeats)
        stats = timed(lambda: se_models.excitation_stats(loaded, data, per_class=args.per_class), args.repeats)
    print(f"{len(idx)} images: bare forward {fwd:.2f} s (pre-decoded), decode + forward {dec:.2f} s, "
          f"excitation_stats {stats:.2f} s -> {stats / dec:.2f}x decode + forward, {stats / fwd:.2f}x forward "
          f"alone; {len(idx) / stats:.1f} images/s")


if __name__ == "__main__":
    main()
