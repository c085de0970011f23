"""The explain, sanity and faithfulness subcommands of `python -m se_models` (the lenses beside Grad-CAM)."""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import numpy as np
import torch

from se_models import config
from se_models.errors import DatasetError
from se_models.explain import lenses, sanity
from se_models.findings.methods import sanity_finding


def add_parsers(sub, model_args, cmd_explain, cmd_sanity) -> None:
    sp = sub.add_parser("explain", help="write one method's map of an image as a PNG")
    model_args(sp)
    sp.add_argument("image")
    sp.add_argument("--method", choices=list(lenses.METHODS), default="gradcam")
    sp.add_argument("--target", help="class name or index (default: the predicted class)")
    sp.add_argument("--size", type=int, default=256)
    sp.add_argument("--out", required=True)
    sp.set_defaults(fn=cmd_explain)

    for name, helptext in (("sanity", "randomisation check: each method's map, trained vs the untrained control "
                                      "(Adebayo et al. 2018), medians over a set of images"),
                           ("faithfulness", "deletion / insertion AUC of each method's maps over a set of images, "
                                            "against random maps")):
        sp = sub.add_parser(name, help=helptext)
        sp.add_argument("data", help="'bundled' (the model's sample images) or DIR (images anywhere below it)")
        sp.add_argument("--model", default=None, help="model name (default: the default model)")
        sp.add_argument("--limit", type=int, default=200, help="at most this many images, drawn with seed 0")
        sp.add_argument("--methods", nargs="+", choices=list(lenses.METHODS), default=list(lenses.METHODS))
        sp.add_argument("--json", help="write the per-image numbers here")
        sp.add_argument("--markdown", action="store_true", help="print the summary as a Markdown table")
        if name == "sanity":
            sp.add_argument("--cascade", action="store_true",
                            help="also cascading randomisation, from the classifier down (median Spearman per step)")
        else:
            sp.add_argument("--steps", type=int, default=16)
            sp.add_argument("--random", type=int, default=4, help="random maps per image (the baseline)")
        sp.set_defaults(fn=cmd_sanity, check=name)


def explain_command(args, class_index) -> int:
    from se_models.data.images import load_image
    from se_models.models.registry import load_model

    loaded = load_model(args.model, args.weights)
    image = load_image(args.image)
    pic, target = lenses.explain(loaded, image, args.method, class_index(loaded, args.target), args.size)
    pic.save(args.out)
    print(f"{args.image}: {lenses.METHODS[args.method]} for {loaded.labels[target]} -> {args.out}")
    return 0


def image_paths(loaded, data: str, limit: int) -> list[str]:
    """The images of 'bundled' or a DIR, `limit` of them drawn with a fixed seed (every class, not the first)."""
    from se_models.data.datasets import sample_images

    if data == "bundled":
        paths = [p for p, _ in sample_images(loaded.card.dataset)]
        if not paths:
            raise DatasetError(f"{loaded.name} has no bundled sample images; give a folder of images instead")
    else:
        root = Path(data)
        if not root.is_dir():
            raise DatasetError(f"{data}: not a folder (give 'bundled' or a folder of images)")
        paths = sorted(str(p) for p in root.rglob("*") if p.suffix.lower() in config.IMAGE_EXTENSIONS)
        if not paths:
            raise DatasetError(f"{data}: no images (.png, .jpg, ...) below it")
    random.Random(0).shuffle(paths)
    return sorted(paths[:limit])


def _batches(loaded, paths: list[str], size: int = 64):
    from se_models.data.images import load_image

    for i in range(0, len(paths), size):
        yield paths[i:i + size], torch.stack([loaded.preprocess(load_image(p)) for p in paths[i:i + size]])


def _row(values, digits: int = 3) -> str:
    med, lo, hi = sanity.median_ci(values)
    return f"{med:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def sanity_command(args) -> int:
    from se_models.models.registry import load_model

    loaded = load_model(args.model)
    paths = image_paths(loaded, args.data, args.limit)
    if args.check == "faithfulness":
        return _faithfulness(args, loaded, paths)
    control = load_model(args.model, weights="random")
    per: dict[str, dict[str, list[float]]] = {m: {"spearman": [], "ssim": []} for m in args.methods}
    steps = sanity.cascade(loaded, control) if args.cascade else []
    casc: dict[str, dict[str, list[float]]] = {u: {m: [] for m in args.methods} for u, _ in steps}
    for _, x in _batches(loaded, paths):
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
        cells = (_row(per[m]["spearman"]), _row(per[m]["ssim"]))
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


def _faithfulness(args, loaded, paths: list[str]) -> int:
    aucs = {m: {"deletion": [], "insertion": []} for m in [*args.methods, "random"]}
    for _, x in _batches(loaded, paths):
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
        cells = (_row(aucs[m]["deletion"]), _row(aucs[m]["insertion"]))
        print(f"| {label} | {cells[0]} | {cells[1]} |" if args.markdown else
              f"  {m:16s} deletion {cells[0]}  insertion {cells[1]}")
    return 0
