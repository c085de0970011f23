"""`python -m se_models reference`: a model's reference statistics (trained + control) over its test split or a
folder: a bundled model's into assets/models/, any other's into the user cache."""
from __future__ import annotations

import sys
from pathlib import Path

from se_models.cli.common import add_workers_argument, progress_bar, test_split
from se_models.cli.registry import command


def add_arguments(parser) -> None:
    parser.add_argument("--data", help="DIR (DIR/<class>/<image>; needed for an ImageNet model), or 'test' for a "
                                       "bundled model's test split (default)")
    parser.add_argument("--label", help="how the statistics name their data (default: the split, or DIR's name)")
    add_workers_argument(parser)


# no --weights: the reference statistics are those of the model's own weights, the ones every student sees
@command("reference", help="a model's reference statistics (trained + control): a bundled model's into "
                           "assets/models/, any other's into the user cache", runs_model=True, weights=False)
def run(args) -> int:
    from se_models.models.registry import load_model
    from se_models.stats.excitation import reference_stats
    from se_models.stats.stored import writable_reference_path

    loaded = load_model(args.model, device=args.device)
    data = args.data or "test"
    dataset = test_split(loaded) if data == "test" else data  # a DIR is named by its path in the statistics
    update, close = progress_bar("reference statistics (trained + control)")
    stats = reference_stats(loaded, dataset, load_model(loaded.name, "random", device=args.device), update,
                            args.workers)
    close()
    if args.label or data != "test":  # a folder is named by its name: the app shows this to every student
        stats.data = args.label or Path(data).resolve().name
    out = writable_reference_path(loaded.name)  # a zoo / timm model's go to the user cache, never the package
    out.parent.mkdir(parents=True, exist_ok=True)
    stats.save(out)
    print(f"wrote {out}: {sum(stats.counts.values())} images", file=sys.stderr)
    return 0
