"""The cost of an ablation table: forward passes counted, and its time against plain forward passes, interleaved.

Run from the repository root:  OMP_NUM_THREADS=1 python benchmarks/bench_ablation.py [--per-class 20] [--repeats 3]
Prints, per mode set, the rows, the forward calls made (expected: batches x (1 + modes x rows)), and the table's time
less the decoding, over the time of one plain pass over the same (already decoded) images: one pass per row means a
ratio of about 1 + modes x rows."""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from se_models import load_model  # noqa: E402
from se_models.data.datasets import as_source  # noqa: E402
from se_models.hooks.manager import ModelHooks  # noqa: E402
from se_models.stats.ablation import ablation_tables, stage_rows  # noqa: E402
from se_models.stats.stored import reference_mean_gates  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="se_resnet20_fashion_mnist")
    ap.add_argument("--per-class", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    loaded = load_model(args.model)
    source = as_source("bundled", loaded)
    t = torch.tensor(source.targets)
    idx = [i for c in t.unique().tolist() for i in (t == c).nonzero().flatten()[:args.per_class].tolist()]
    x = torch.stack([source.get(i) for i in idx])  # decoded once, for the plain passes
    calls = {"n": 0}
    counting = ExitStack()  # the counting hook stays on until the end, through the library's hook manager
    counting.enter_context(ModelHooks(loaded.model)).pre_forward("", lambda *_: calls.__setitem__("n", calls["n"] + 1))
    gates = reference_mean_gates(loaded.name)
    setups = {"identity, stage rows": (("identity",), False), "3 modes, stage rows": (("identity", "mean", "shuffle"),
              False), "3 modes, per block": (("identity", "mean", "shuffle"), True)}
    times: dict[str, list[float]] = {k: [] for k in ["plain pass", "decode", *setups]}
    counted = {}
    for _ in range(args.repeats):  # interleaved: each repeat times every setup once
        start = time.perf_counter()
        for i in idx:
            source.get(i)
        times["decode"].append(time.perf_counter() - start)
        with torch.inference_mode():
            start = time.perf_counter()
            for b in range(0, len(x), 128):
                loaded.model(x[b:b + 128])
            times["plain pass"].append(time.perf_counter() - start)
        for name, (modes, per_block) in setups.items():
            calls["n"] = 0
            start = time.perf_counter()
            ablation_tables(loaded, "bundled", modes, per_block, per_class=args.per_class, mean_gates=gates)
            times[name].append(time.perf_counter() - start)
            counted[name] = calls["n"]
    plain, decode = statistics.median(times["plain pass"]), statistics.median(times["decode"])
    batches = -(-len(idx) // 128)
    print(f"{loaded.name}, {len(idx)} bundled images, {batches} batch(es), median of {args.repeats}; "
          f"one plain pass {plain:.2f} s, decoding {decode:.2f} s")
    print("| setup | rows x modes + baseline | forward calls | expected | time (s) | (time - decoding) / plain pass |")
    print("|---|---|---|---|---|---|")
    for name, (modes, per_block) in setups.items():
        rows = len(stage_rows(list(loaded.se_blocks), per_block))
        passes = 1 + rows * len(modes)
        med = statistics.median(times[name])
        print(f"| {name} | {rows} x {len(modes)} + 1 = {passes} | {counted[name]} | {batches * passes} "
              f"| {med:.2f} | {(med - decode) / plain:.1f} |")
    counting.close()


if __name__ == "__main__":
    main()
