"""The `ablate` command: switch SE blocks off (identity, mean, shuffle) and print what it costs, as a table."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from se_models.cli.common import progress_bar, test_split
from se_models.cli.registry import command
from se_models.errors import DatasetError
from se_models.stats.ablation import MODES, ablation_tables
from se_models.stats.stored import ablation_path, reference_mean_gates, stored_tables
from se_models.stats.tables import AblationTable, save_tables


def pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.2%}"


def format_table(t: AblationTable) -> str:
    """A readable table: baseline, then every row with top-1, top-5, change in top-1 and share changed."""
    has5 = t.baseline.get("top5") is not None
    head = f"{'row':<14}{'top-1':>9}" + (f"{'top-5':>9}" if has5 else "") + f"{'Δ top-1':>10}{'changed':>10}  blocks"
    lines = [f"{t.model} · mode {t.mode} ({MODES[t.mode]})", f"data: {t.data}, {t.images} images"
             + (f"; mean gates: {t.mean_source}" if t.mean_source else ""), head,
             f"{'baseline':<14}{pct(t.baseline['top1']):>9}" + (f"{pct(t.baseline['top5']):>9}" if has5 else "")]
    for r in t.rows:
        delta = f"{(r.top1 - t.baseline['top1']) * 100:+.2f} pp"
        blocks = ", ".join(r.blocks) if len(r.blocks) <= 4 else f"{r.blocks[0]} … {r.blocks[-1]} ({len(r.blocks)})"
        lines.append(f"{r.label:<14}{pct(r.top1):>9}" + (f"{pct(r.top5):>9}" if has5 else "")
                     + f"{delta:>10}{pct(r.changed):>10}  {blocks}")
    return "\n".join(lines)


def markdown_tables(tables: dict[str, AblationTable]) -> str:
    """Every mode side by side as a Markdown table (the README's): top-1 per row, the change in points ± two standard
    errors of the paired difference, and the share of predictions changed."""
    from se_models.stats.tables import MODE_LABELS, drop_pp, noise_pp, summary_rows

    first = next(iter(tables.values()))
    head = (f"**{first.model}** — {first.data}, {first.images} images, "
            f"baseline top-1 {first.baseline['top1']:.2%}\n\n"
            "| switched off | " + " | ".join(f"{MODE_LABELS[m]}, `{m}`" for m in tables) + " |\n|---|"
            + "---|" * len(tables))
    lines = [head]
    for row in summary_rows(first):
        cells = []
        for t in tables.values():
            r = t.row(row.label)
            cells.append(f"{r.top1:.1%} ({-drop_pp(t, r):+.1f} ± {noise_pp(t, r):.1f}; {r.changed:.0%} changed)")
        lines.append(f"| {row.label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table_json(t: AblationTable) -> dict:
    return {"model": t.model, "data": t.data, "mode": t.mode, "images": t.images,
            "baseline": {"top1": t.baseline["top1"], "top5": t.baseline["top5"]},
            "mean_source": t.mean_source,
            "rows": [{"label": r.label, "blocks": r.blocks, "top1": r.top1, "top5": r.top5, "changed": r.changed}
                     for r in t.rows]}


@command("ablate", help="switch SE blocks off (s = 1, mean gate, another image's gates) and print the accuracy per "
                        "stage, per block and for all blocks", runs_model=True)
def run(args) -> int:
    from se_models.models.registry import DEFAULT_MODEL, load_model

    if args.data == "reference":  # the stored tables over the test split: instant, offline
        tables = stored_tables(args.model or DEFAULT_MODEL)
        if tables is None or args.mode not in tables:
            raise DatasetError(f"no stored ablation for {args.model or 'the default model'} (mode {args.mode}); "
                               "compute one with --data test or --data DIR")
        table = tables[args.mode]
    else:
        loaded = load_model(args.model, args.weights, device=args.device)
        data = test_split(loaded) if args.data == "test" else args.data
        gates, source = None, None
        if args.mode == "mean" and args.mean_from != "same":
            gates = reference_mean_gates(loaded.name)
            if gates is None and args.mean_from == "reference":
                raise DatasetError(f"{loaded.name} has no reference statistics to take mean gates from")
            if gates is not None and (args.mean_from == "reference" or args.data != "test"):
                source = "all-class mean gate of the reference statistics (the model's test split)"
            else:
                gates = None
        modes = tuple(MODES) if args.store else (args.mode,)
        update, close = progress_bar(f"ablation ({', '.join(modes)})")
        tables = ablation_tables(loaded, data, modes, args.per_block, per_class=args.per_class,
                                 mean_gates=gates, mean_source=source, seed=args.seed, progress=update)
        close()
        for t in tables.values():
            t.data = args.label or t.data
        if args.store:
            save_tables(tables, ablation_path(loaded.name))
            print(f"wrote {ablation_path(loaded.name)}", file=sys.stderr)
        table = tables[args.mode]
        for msg in table.skipped:
            print(f"skipped: {msg}", file=sys.stderr)
    print(markdown_tables(tables) if args.markdown else format_table(table))
    if args.json:
        Path(args.json).write_text(json.dumps(table_json(table), indent=1) + "\n")
    return 0


def add_arguments(parser) -> None:
    parser.add_argument("--data", default="bundled", help="bundled (sample images) | reference (the stored tables "
                        "over the test split) | test (the dataset's test split) | DIR (DIR/<class>/<image>)")
    parser.add_argument("--per-class", type=int, default=None, help="images per class (default: all)")
    parser.add_argument("--mode", choices=list(MODES), default="identity")
    parser.add_argument("--per-block", action="store_true", help="also one row per SE block")
    parser.add_argument("--mean-from", choices=["auto", "same", "reference"], default="auto",
                        help="mode mean: the mean gate over the same images (a first pass), or the reference "
                             "statistics' all-class mean; auto = the reference's unless evaluating the test split")
    parser.add_argument("--seed", type=int, default=0, help="image selection (--per-class) and the shuffle")
    parser.add_argument("--json", help="write the table as JSON")
    parser.add_argument("--markdown", action="store_true", help="print every computed mode side by side as a "
                        "Markdown table (with --store or --data reference: all three)")
    parser.add_argument("--store", action="store_true", help="compute every mode in one sweep and store the tables "
                        "next to the reference statistics (assets/models/<model>.ablation.json), for the app")
    parser.add_argument("--label", help="how the tables name their data (default: the split, or DIR's path)")
