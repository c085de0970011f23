"""`python -m se_models download`: zoo / timm:NAME pretrained weights into timm's cache, for offline use later."""
from __future__ import annotations

import sys

from se_models.cli.registry import command


def add_arguments(parser) -> None:
    parser.add_argument("names", nargs="+", metavar="NAME")


@command("download", help="fetch zoo / timm:NAME pretrained weights into timm's cache, for offline use")
def run(args) -> int:
    from se_models.models.prefetch import download

    for name in args.names:
        print(f"{name}: {download(name)}", file=sys.stderr)
    return 0
