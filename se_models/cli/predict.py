"""`python -m se_models predict`: classify images, as text or JSON; bad files reported, the good ones still read."""
from __future__ import annotations

import json
import sys

from se_models.cli.registry import command


def add_arguments(parser) -> None:
    parser.add_argument("images", nargs="+")
    parser.add_argument("--top", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print JSON")


@command("predict", help="classify images", runs_model=True)
def run(args) -> int:
    import torch

    from se_models.data.images import load_image
    from se_models.errors import ImageError
    from se_models.models.registry import load_model

    loaded = load_model(args.model, args.weights, device=args.device)
    results, failed = [], 0
    for path in args.images:
        try:
            x = loaded.preprocess(load_image(path))[None]
        except ImageError as err:
            print(f"error: {err}", file=sys.stderr)
            failed += 1
            continue
        with torch.inference_mode():
            probs = loaded.model(x.to(loaded.device))[0].softmax(0).cpu()
        top = probs.topk(min(args.top, len(probs)))
        preds = [{"class": loaded.labels[i], "index": int(i), "probability": round(float(p), 4)}
                 for p, i in zip(top.values, top.indices)]
        results.append({"image": path, "top": preds})
        if not args.json:
            print(f"{path}: " + ", ".join(f"{p['class']} {p['probability']:.1%}" for p in preds))
    if args.json:
        print(json.dumps({"model": loaded.name, "weights": loaded.weights, "predictions": results}, indent=2))
    return 1 if failed else 0
