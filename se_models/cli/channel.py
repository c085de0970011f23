"""`python -m se_models channel`: from a gate to its images: the images with the k highest and lowest gates of one
SE block's channel, overall and per class, each gate exact to the model's pass on that image, as JSON."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from se_models.cli.common import add_workers_argument, progress_bar, test_split
from se_models.cli.registry import command


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def add_arguments(parser) -> None:
    parser.add_argument("--data", default="bundled",
                        help="bundled (the model's sample images, default) | test (its dataset's test split, "
                             "downloaded) | DIR (DIR/<class>/<image>)")
    parser.add_argument("--block", required=True, help="SE block, e.g. SE_4_3")
    parser.add_argument("--channel", type=int, required=True, help="channel index in the block")
    parser.add_argument("--top", type=positive, default=8, help="k: how many highest and lowest gates to list")
    parser.add_argument("--classes", nargs="+", help="only these classes (default: every class of the data)")
    parser.add_argument("--json", required=True, help="write the ranking here")
    add_workers_argument(parser)


@command("channel", help="the images with the k highest and lowest gates of one SE block's channel, overall and "
                         "per class", runs_model=True)
def run(args) -> int:
    from se_models.findings.channel import channel_reading
    from se_models.models.registry import load_model
    from se_models.stats.channels import rank_channel

    loaded = load_model(args.model, args.weights, device=args.device)
    data = test_split(loaded) if args.data == "test" else args.data
    update, close = progress_bar(f"ranking {args.block} channel {args.channel}")
    try:
        ranking = rank_channel(loaded, data, args.block, args.channel, args.top, args.classes, update,
                               workers=args.workers)
    finally:
        close()
    Path(args.json).write_text(ranking.to_json())
    for msg in ranking.skipped:
        print(f"skipped: {msg}", file=sys.stderr)
    print(f"{loaded.name} {args.block} channel {args.channel}: {sum(ranking.counts.values())} images -> {args.json}",
          file=sys.stderr)
    for word, listed in (("highest", ranking.top), ("lowest", ranking.bottom)):
        print(f"  {word}: " + ", ".join(f"{r.image} ({r.cls}) {r.gate:.4f}" for r in listed), file=sys.stderr)
    print(channel_reading(ranking), file=sys.stderr)
    return 0
