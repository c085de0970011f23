"""`python -m se_models gradcam`: one image's Grad-CAM at one layer, drawn over what the model saw, as a PNG."""
from __future__ import annotations

from se_models.cli.common import class_index
from se_models.cli.registry import command


def add_arguments(parser) -> None:
    parser.add_argument("image")
    parser.add_argument("--target", help="class name or index (default: the predicted class)")
    parser.add_argument("--layer",
                        help="module path or SE block name, e.g. SE_3_3 (default: the last residual block)")
    parser.add_argument("--alpha", type=float, default=0.5)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--out", required=True)


@command("gradcam", help="write a Grad-CAM overlay PNG", runs_model=True)
def run(args) -> int:
    from se_models.data.images import load_image
    from se_models.explain.analysis import analyze_image
    from se_models.explain.cam import default_layer
    from se_models.explain.overlay import overlay
    from se_models.models.registry import load_model

    loaded = load_model(args.model, args.weights, device=args.device)
    image = load_image(args.image)
    layer = args.layer or default_layer(loaded)
    a = analyze_image(loaded, image, target=class_index(loaded, args.target), layers=[layer])
    # drawn on the model's own resize + centre crop: the only picture the map lines up with
    overlay(loaded.model_view(image), a.cams[layer], args.alpha, args.size).save(args.out)
    print(f"{args.image}: predicted {loaded.labels[a.predicted]} ({a.probs.max():.1%}); Grad-CAM for "
          f"{loaded.labels[a.target]} at {layer} ({loaded.block_module(layer)}) -> {args.out}")
    return 0
