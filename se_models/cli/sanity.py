"""`python -m se_models sanity`: Adebayo et al.'s randomisation check over a set of images, trained vs control."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from se_models.cli.common import add_image_set_arguments, batches, image_paths, median_row
from se_models.cli.registry import command
from se_models.explain import lenses, sanity
from se_models.findings.methods import sanity_finding


def add_arguments(parser) -> None:
    add_image_set_arguments(parser)
    parser.add_argument("--cascade", action="store_true",
                        help="also cascading randomisation, from the classifier down (median Spearman per step)")


@command("sanity", help="randomisation check: each method's map, trained vs the untrained control (Adebayo et al. "
                        "2018), medians over a set of images", runs_model=True)
def run(args) -> int:
    from se_models.models.registry import load_model

    loaded = load_model(args.model, args.weights, device=args.device)
    paths = image_paths(loaded, args.data, args.limit)
    control = load_model(args.model, weights="random", device=args.device)
    per: dict[str, dict[str, list[float]]] = {m: {"spearman": [], "ssim": []} for m in args.methods}
    steps = sanity.cascade(loaded, control) if args.cascade else []
    casc: dict[str, dict[str, list[float]]] = {u: {m: [] for m in args.methods} for u, _ in steps}
    for _, x in batches(loaded, paths):
        r = sanity.sanity_check(loaded, control, x, args.methods)
        for m in args.methods:
            per[m]["spearman"] += r.spearman[m].tolist()
            per[m]["ssim"] += r.ssim[m].tolist()
        for unit, model in steps:
            maps = lenses.maps(model, x, args.methods, r.targets)
            for m in args.methods:
                casc[unit][m] += sanity.spearman(r.trained[m], maps[m]).tolist()
    out = {"model": loaded.name, "images": len(paths), "data": args.data, "per_image": per}
    if steps:
        out["cascade"] = casc
    if args.json:
        Path(args.json).write_text(json.dumps(out) + "\n")
    print(f"{loaded.name}: {len(paths)} images from {args.data}; similarity of each method's map, trained vs "
          "untrained control (median [95 % bootstrap interval]; 1 = unchanged, 0 = unrelated)", file=sys.stderr)
    if args.markdown:
        print("| method | Spearman ρ | SSIM |\n|---|---|---|")
    for m in args.methods:
        cells = (median_row(per[m]["spearman"]), median_row(per[m]["ssim"]))
        print(f"| {lenses.METHODS[m]} | {cells[0]} | {cells[1]} |" if args.markdown else
              f"  {m:16s} spearman {cells[0]}  ssim {cells[1]}")
    medians = {m: float(np.median(per[m]["spearman"])) for m in args.methods}
    print(sanity_finding(medians, lenses.METHODS, images=len(paths)).text, file=sys.stderr)
    if steps:
        print("cascading randomisation, median Spearman with the trained map as units are randomised top-down:",
              file=sys.stderr)
        for unit, _ in steps:
            print(f"  up to {unit:10s} " + "  ".join(f"{m} {np.median(casc[unit][m]):.3f}" for m in args.methods))
    return 0
