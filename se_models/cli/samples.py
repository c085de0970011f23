"""`python -m se_models samples`: held-out test images per class as PNG files into assets/samples/."""
from __future__ import annotations

import sys

from se_models.cli.registry import command


def add_arguments(parser) -> None:
    parser.add_argument("--dataset", default="fashion-mnist",
                        help="fashion-mnist (CIFAR-10 images may not be shipped)")
    parser.add_argument("--per-class", type=int, default=100)


@command("samples", help="write held-out test images per class as PNG into assets/samples/")
def run(args) -> int:
    from se_models.data.datasets import export_samples, training_data

    root = export_samples(training_data(args.dataset, train=False)[0], args.dataset, args.per_class)
    print(f"wrote {args.per_class} test images per class to {root}", file=sys.stderr)
    return 0
