"""`python -m se_models explain`: one method's map of an image (Grad-CAM, guided backprop, ...) as a PNG."""
from __future__ import annotations

from se_models.cli.common import class_index
from se_models.cli.registry import command
from se_models.explain import lenses


def add_arguments(parser) -> None:
    parser.add_argument("image")
    parser.add_argument("--method", choices=list(lenses.METHODS), default="gradcam")
    parser.add_argument("--target", help="class name or index (default: the predicted class)")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--out", required=True)


@command("explain", help="write one method's map of an image as a PNG", runs_model=True)
def run(args) -> int:
    from se_models.data.images import load_image
    from se_models.models.registry import load_model

    loaded = load_model(args.model, args.weights, device=args.device)
    image = load_image(args.image)
    pic, target = lenses.explain(loaded, image, args.method, class_index(loaded, args.target), args.size)
    pic.save(args.out)
    print(f"{args.image}: {lenses.METHODS[args.method]} for {loaded.labels[target]} -> {args.out}")
    return 0
