"""`python -m se_models faithfulness`: deletion / insertion AUCs of each method's maps over a set of images, against
random maps."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from se_models.cli.common import add_image_set_arguments, batches, image_paths, median_row
from se_models.cli.registry import command
from se_models.explain import lenses, sanity


def add_arguments(parser) -> None:
    add_image_set_arguments(parser)
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--random", type=int, default=4, help="random maps per image (the baseline)")


@command("faithfulness", help="deletion / insertion AUC of each method's maps over a set of images, against random "
                              "maps", runs_model=True)
def run(args) -> int:
    from se_models.models.registry import load_model

    loaded = load_model(args.model, args.weights, device=args.device)
    paths = image_paths(loaded, args.data, args.limit)
    aucs = {m: {"deletion": [], "insertion": []} for m in [*args.methods, "random"]}
    for _, x in batches(loaded, paths):
        targets = lenses.predicted(loaded, x)
        maps = lenses.maps(loaded, x, args.methods, targets)
        for i in range(len(x)):
            f = sanity.faithfulness(loaded, x[i], {m: maps[m][i] for m in args.methods}, targets[i], args.steps,
                                    args.random)
            for m, c in f.curves.items():
                aucs[m]["deletion"].append(c.deletion_auc)
                aucs[m]["insertion"].append(c.insertion_auc)
            aucs["random"]["deletion"].append(float(np.mean([c.deletion_auc for c in f.random])))
            aucs["random"]["insertion"].append(float(np.mean([c.insertion_auc for c in f.random])))
    if args.json:
        Path(args.json).write_text(json.dumps({"model": loaded.name, "images": len(paths), "per_image": aucs}) + "\n")
    print(f"{loaded.name}: {len(paths)} images from {args.data}; area under the class-probability curve as the most "
          "important pixels are deleted (lower = better) or inserted (higher = better); median [95 % bootstrap "
          "interval]", file=sys.stderr)
    if args.markdown:
        print("| map | deletion AUC ↓ | insertion AUC ↑ |\n|---|---|---|")
    for m in aucs:
        label = lenses.METHODS.get(m, f"random ({args.random} maps an image)")
        cells = (median_row(aucs[m]["deletion"]), median_row(aucs[m]["insertion"]))
        print(f"| {label} | {cells[0]} | {cells[1]} |" if args.markdown else
              f"  {m:16s} deletion {cells[0]}  insertion {cells[1]}")
    return 0
