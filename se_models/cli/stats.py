"""`python -m se_models stats`: class-wise excitation statistics (paper Fig. 6) with verdicts, as JSON, HTML, PNG and
a Markdown table (findings.readings.block_table); from the stored reference, the bundled samples, the test split
or a folder."""
from __future__ import annotations

import sys
from pathlib import Path

from se_models.cli.common import add_workers_argument, progress_bar, test_split
from se_models.cli.registry import command


def add_arguments(parser) -> None:
    parser.add_argument("--data", default="reference",
                        help="reference (precomputed, offline) | bundled (sample images) | test (the dataset's test "
                             "split, downloaded) | DIR (DIR/<class>/<image>)")
    parser.add_argument("--classes", nargs="+")
    parser.add_argument("--per-class", type=int, default=50)
    parser.add_argument("--control", action="store_true", help="also the untrained control")
    parser.add_argument("--json", required=True)
    parser.add_argument("--blocks", nargs="+", help="SE blocks in the class-curve figure (default: the paper's Fig. 6 "
                        "choice, the last block of every stage plus every block of the last stage)")
    parser.add_argument("--html", help="write the figures as one HTML page")
    parser.add_argument("--png", metavar="PREFIX", help="write PREFIX_curves.png and PREFIX_depth.png")
    parser.add_argument("--markdown", action="store_true", help="print the per-block table as Markdown")
    parser.add_argument("--epoch", type=int, help="with --data reference: the statistics at this epoch of the model's "
                                                  "training (python -m se_models epochs lists them)")
    add_workers_argument(parser)


def write_html(stats, path: str, blocks: list[str] | None) -> None:
    """The class curves (trained, and control when there is one) and specificity vs depth as one HTML page."""
    from se_models.plots.figures import class_curves, specificity_vs_depth

    figs = [class_curves(stats, blocks), specificity_vs_depth(stats)]
    if stats.control:
        figs.insert(1, class_curves(stats, blocks, control=True))
    html = "".join(f.to_html(full_html=False, include_plotlyjs="cdn" if i == 0 else False)
                   for i, f in enumerate(figs))
    Path(path).write_text(f"<html><head><meta charset='utf-8'><title>{stats.model}</title></head>"
                          f"<body>{html}</body></html>")


def epoch_stats(name: str, epoch: int):
    """One epoch's statistics from the model's stored per-epoch statistics (a typed error naming what exists)."""
    from se_models.errors import DatasetError
    from se_models.stats.epochs import EpochHistory
    from se_models.stats.stored import find_epochs

    path = find_epochs(name)
    if path is None:
        raise DatasetError(f"{name} has no per-epoch statistics (python -m se_models epochs --model {name} says how "
                           "to make them)")
    history = EpochHistory.load(path)
    if epoch not in history.numbers:
        raise DatasetError(f"{name} has statistics of epochs {history.numbers[0]}..{history.last}, not {epoch}")
    return history.at(epoch)


@command("stats", help="class-wise excitation statistics (paper Fig. 6) and class-specificity", runs_model=True)
def run(args) -> int:
    from se_models.errors import DatasetError
    from se_models.findings.numbers import p_value
    from se_models.findings.readings import block_table, specificity_reading, verdict_words
    from se_models.models.device import resolve_device
    from se_models.models.registry import DEFAULT_MODEL, load_model
    from se_models.stats import distributed
    from se_models.stats.excitation import ExcitationStats, excitation_stats
    from se_models.stats.stored import find_reference

    if args.epoch is not None and args.data != "reference":
        raise DatasetError("--epoch reads the stored per-epoch statistics: use it with --data reference")
    if args.data == "reference" and args.epoch is not None:
        stats = epoch_stats(args.model or DEFAULT_MODEL, args.epoch)
        if args.weights == "random":  # the untrained control, the same at every epoch
            stats = stats.control_only()
        if args.classes:
            stats = stats.subset(args.classes)
    elif args.data == "reference":
        path = find_reference(args.model or DEFAULT_MODEL)
        if path is None:
            raise DatasetError(f"{args.model or 'the default model'} has no reference statistics; "
                               "run: python -m se_models reference --model NAME [--data DIR]")
        stats = ExcitationStats.load(path)
        if args.weights == "random":  # the reference's untrained control, on its own: never the trained numbers
            stats = stats.control_only()
        if args.classes:
            stats = stats.subset(args.classes)
    else:
        device = resolve_device(args.device)
        distributed.init_from_env(device)
        rank, _ = distributed.rank_and_world()
        loaded = load_model(args.model, args.weights, device=device)
        control = load_model(loaded.name, "random", device=device) if args.control else None
        update, close = progress_bar("excitation statistics") if rank == 0 else (None, lambda: None)
        data = test_split(loaded) if args.data == "test" else args.data
        stats = excitation_stats(loaded, data, classes=args.classes, per_class=args.per_class, progress=update,
                                 control=control, workers=args.workers)
        close()
        if rank != 0:  # rank 0 writes the merged result
            return 0
        for msg in stats.skipped:
            print(f"skipped: {msg}", file=sys.stderr)
    Path(args.json).write_text(stats.to_json())
    if args.html:
        write_html(stats, args.html, args.blocks)
    if args.png:
        from se_models.plots.figures import class_curves, specificity_vs_depth

        class_curves(stats, args.blocks).write_image(f"{args.png}_curves.png", width=1300, scale=1.5)
        specificity_vs_depth(stats).write_image(f"{args.png}_depth.png", width=1300, scale=1.5)
    if args.markdown:
        print(block_table(stats))
    procs = f" from {stats.processes} processes" if stats.processes > 1 else ""
    print(f"{stats.model}: {sum(stats.counts.values())} images{procs}, {len(stats.blocks)} SE blocks -> {args.json}",
          file=sys.stderr)
    for b in stats.blocks:
        p = "p –" if b.divergence_p is None else p_value(b.divergence_p, stats.permutations)
        verdict = verdict_words(b, stats.untrained)  # above chance? learned? (findings.readings)
        print(f"  {b.name:8s} divergence {b.divergence:.4f}  chance (99th pct) "
              f"{b.divergence_null[1] if b.divergence_null else float('nan'):.4f}  {p:11s} {verdict:34s} "
              f"probe {'–' if b.probe_accuracy is None else f'{b.probe_accuracy:.3f}'}  "  # 0.900, not 0.9
              f"eta2 {b.eta_squared if b.eta_squared is None else round(b.eta_squared, 3)}", file=sys.stderr)
    for note in stats.sample_notes():
        print(f"note: {note}", file=sys.stderr)
    if stats.blocks[0].divergence_p is not None:
        print(specificity_reading(stats), file=sys.stderr)
    return 0
