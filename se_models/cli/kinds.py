"""`python -m se_models kinds`: models of different channel attention (SE, ECA, CBAM) trained on the same data, from
their reference statistics: the first stage against the deepest block per model, and each kind against SE."""
from __future__ import annotations

from se_models.cli.registry import command
from se_models.errors import DatasetError


def add_arguments(parser) -> None:
    parser.add_argument("models", nargs="+", metavar="MODEL", help="models with reference statistics, e.g. "
                        "se_resnet20_fashion_mnist eca_resnet20_fashion_mnist cbam_resnet20_fashion_mnist")
    parser.add_argument("--markdown", action="store_true", help="the table as Markdown (the README's)")


def kinds_table(models: dict, markdown: bool) -> str:
    """One row per model: its kind, the divergence at the end of the first stage and at the deepest block with 95 %
    intervals, their ratio with its interval, and whether the deepest block is learned and the rise holds."""
    from se_models.findings import numbers as num
    from se_models.findings.attention import kind_of, model_trend

    head = ["model", "kind", "first stage", "deepest", "deepest / first", "deepest learned", "rises with depth"]
    rows = []
    for name, stats in models.items():
        t = model_trend(name, stats).numbers
        b1, bn = stats.block(t["first"]), stats.block(t["deep"])
        words = {True: "yes", False: "no", None: "–"}
        rows.append([name, kind_of(stats), f"{t['first']} {num.units(b1.divergence)}{num.interval(b1.divergence_ci)}",
                     f"{t['deep']} {num.units(bn.divergence)}{num.interval(bn.divergence_ci)}",
                     num.ratio(t["ratio"], t["ci"]), words[bn.learned], words[model_trend(name, stats).holds]])
    if markdown:
        return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
                         + ["| " + " | ".join(r) + " |" for r in rows])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    return "\n".join("  ".join(str(x).ljust(w) for x, w in zip(r, widths)) for r in [head, *rows])


@command("kinds", help="models of different channel attention trained on the same data, from their reference "
                       "statistics: does each become class-specific with depth as SE does?")
def run(args) -> int:
    from se_models.findings.attention import kinds_reading
    from se_models.stats.excitation import ExcitationStats
    from se_models.stats.stored import find_reference

    models = {}
    for name in args.models:
        path = find_reference(name)
        if path is None:
            raise DatasetError(f"{name} has no reference statistics; compute them with: python -m se_models "
                               f"reference --model {name}")
        models[name] = ExcitationStats.load(path)
    print(kinds_table(models, args.markdown))
    print()
    print(kinds_reading(models, markdown=args.markdown))
    return 0
