"""The `ablate` command: switch attention blocks off (identity, mean, shuffle) and print what it costs, or transplant
another class's mean gates (transplant) and print which predictions move; as a table, Markdown or JSON."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from se_models.cli.common import progress_bar, test_split
from se_models.cli.registry import command
from se_models.errors import DatasetError
from se_models.stats.ablation import MODES, ablation_tables
from se_models.stats.stored import ablation_path, reference_mean_gates, stored_tables
from se_models.stats.tables import CONTROL_SUFFIX, TRANSPLANT_FIELDS, AblationTable, accuracy_tables, save_tables


def pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.2%}"


def with_ci(v: float, ci) -> str:
    """`0.52% [0.22–1.18]`: a share with its interval, in percent."""
    return f"{v:.2%} [{ci[0] * 100:.2f}–{ci[1] * 100:.2f}]"


def format_transplant(t: AblationTable) -> str:
    """The transplant as a table: per row, moved and kept with their controls (95 % intervals), and the reading."""
    from se_models.findings.transplant import transplant_finding

    head = (f"{'row':<14}{'moved':>24}{'moved, control':>24}{'kept':>10}{'kept, control':>15}{'top-1':>9}  "
            "blocks")
    lines = [f"{t.model} ({t.weights}) · mode transplant ({MODES['transplant']})",
             f"data: {t.data}, {t.images} images, {t.donors} donor classes each; baseline top-1 "
             f"{pct(t.baseline['top1'])}", f"intervals: {t.interval}", head]
    for r in t.rows:
        blocks = ", ".join(r.blocks) if len(r.blocks) <= 4 else f"{r.blocks[0]} … {r.blocks[-1]} ({len(r.blocks)})"
        control = with_ci(r.moved_control, r.moved_control_ci)
        lines.append(f"{r.label:<14}{with_ci(r.moved, r.moved_ci):>24}{control:>24}{pct(r.kept):>10}"
                     f"{pct(r.kept_control):>15}{pct(r.top1):>9}  {blocks}")
    return "\n".join(lines + ["", transplant_finding(t).text])


def format_table(t: AblationTable) -> str:
    """A readable table: baseline, then every row with top-1, top-5, change in top-1 and share changed."""
    if t.mode == "transplant":
        return format_transplant(t)
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

    tables = accuracy_tables(tables)  # the transplant has its own (markdown_transplant)
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


def markdown_transplant(tables: dict[str, AblationTable]) -> str:
    """The transplant (and its untrained control, when computed) as a Markdown table (the README's): moved and kept
    against the control, per stage and for all blocks, with 95 % intervals."""
    from se_models.stats.tables import summary_rows

    lines = []
    for key in ("transplant", "transplant" + CONTROL_SUFFIX):
        t = tables.get(key)
        if t is None:
            continue
        lines += [f"**{t.model}** ({'untrained control' if t.weights == 'random' else 'trained'}) — {t.data}, "
                  f"{t.images} images × {t.donors} donor classes, baseline top-1 {t.baseline['top1']:.2%}", "",
                  "| transplanted into | moved to the donor class | moved, control (own class) | kept "
                  "| kept, control |",
                  "|---|---|---|---|---|"]
        lines += [f"| {r.label} | {with_ci(r.moved, r.moved_ci)} | {with_ci(r.moved_control, r.moved_control_ci)} | "
                  f"{pct(r.kept)} | {pct(r.kept_control)} |" for r in summary_rows(t)]
        lines.append("")
    return "\n".join(lines).rstrip()


ROW_FIELDS = ("top1", "top5", "changed")


def table_json(t: AblationTable) -> dict:
    fields = ROW_FIELDS + (TRANSPLANT_FIELDS if t.mode == "transplant" else ())
    extra = {"donors": t.donors, "interval": t.interval} if t.mode == "transplant" else {}
    return {"model": t.model, "weights": t.weights, "data": t.data, "mode": t.mode, "images": t.images,
            "baseline": {"top1": t.baseline["top1"], "top5": t.baseline["top5"]},
            "mean_source": t.mean_source, **extra,
            "rows": [{"label": r.label, "blocks": r.blocks, **{f: getattr(r, f) for f in fields}} for r in t.rows]}


@command("ablate", help="switch attention blocks off (s = 1, mean gate, another image's gates) and print the "
                        "accuracy per stage, per block and for all blocks; or transplant another class's mean gates "
                        "and print which predictions move", runs_model=True)
def run(args) -> int:
    from se_models.models.registry import DEFAULT_MODEL, load_model

    if args.data == "reference":  # the stored tables over the test split: instant, offline
        tables = stored_tables(args.model or DEFAULT_MODEL)
        key = args.mode + (CONTROL_SUFFIX if args.weights == "random" else "")
        if tables is None or key not in tables:
            raise DatasetError(f"no stored ablation for {args.model or 'the default model'} (mode {args.mode}"
                               f"{', untrained' if args.weights == 'random' else ''}); compute one with --data test "
                               "or --data DIR")
        table = tables[key]
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
                                 mean_gates=gates, mean_source=source, seed=args.seed, progress=update,
                                 donors=args.donors)
        close()
        if (args.store or args.control and args.mode == "transplant") and not loaded.is_control:
            # the transplant's untrained control: stored beside it, printed after it
            update, close = progress_bar("transplant, untrained control")
            control = load_model(args.model, "random", device=args.device)
            tables["transplant" + CONTROL_SUFFIX] = ablation_tables(
                control, data, ("transplant",), args.per_block, per_class=args.per_class, seed=args.seed,
                progress=update, donors=args.donors)["transplant"]
            close()
        for t in tables.values():
            t.data = args.label or t.data
        if args.store:
            save_tables(tables, ablation_path(loaded.name))
            print(f"wrote {ablation_path(loaded.name)}", file=sys.stderr)
        table = tables[args.mode]
        for msg in table.skipped:
            print(f"skipped: {msg}", file=sys.stderr)
    control = tables.get("transplant" + CONTROL_SUFFIX) if args.mode == "transplant" and table.weights != "random" \
        else None
    if args.markdown:
        print(markdown_transplant(tables) if args.mode == "transplant" else markdown_tables(tables))
    else:
        print(format_table(table) + ("\n\n" + format_table(control) if control is not None else ""))
    if args.json:
        out = table_json(table)
        if control is not None:
            out["control"] = table_json(control)
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
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
    parser.add_argument("--control", action="store_true", help="mode transplant: also the untrained control's "
                        "transplant (where nothing should move), printed after the trained one and under 'control' "
                        "in --json")
    parser.add_argument("--donors", type=int, default=None, help="mode transplant: donor classes per image (default: "
                        "every other class; fewer for many classes, e.g. ImageNet), a seeded sample")
    parser.add_argument("--seed", type=int, default=0, help="image selection (--per-class), the shuffle and the "
                        "transplant's donor sample")
    parser.add_argument("--json", help="write the table as JSON")
    parser.add_argument("--markdown", action="store_true", help="print every computed mode side by side as a "
                        "Markdown table (with --store or --data reference: all three; mode transplant: its own)")
    parser.add_argument("--store", action="store_true", help="compute every mode in one sweep (and the "
                        "transplant of the untrained control) and store the tables next to the reference statistics "
                        "(assets/models/<model>.ablation.json), for the app")
    parser.add_argument("--label", help="how the tables name their data (default: the split, or DIR's path)")
