"""What the ablation tables say: which stage's input-dependent gating the prediction needs (against the noise), the
scale of s = 1 (gates forced open) against the mean gate, another image's gates; one rule each, used by the Classes
view and the lesson alike."""
from __future__ import annotations

from se_models.findings import numbers as num
from se_models.findings.core import Finding, em, render
from se_models.hooks.naming import stage_index
from se_models.stats.tables import MODE_LABELS, drop_pp, noise_pp

FORCED_OPEN = MODE_LABELS["identity"]  # "s = 1 (gates forced open)": never "SE removed" (the scale changes too)


def _stage_of(block: str) -> str | None:
    si = stage_index(block)
    return f"stage {si[0]}" if si else None


def _stages(mean) -> list:
    """The stage rows of a mean-mode table, the costliest first."""
    return sorted((r for r in mean.rows if r.label.startswith("stage ")), key=lambda r: drop_pp(mean, r),
                  reverse=True)


def stage_need(tables: dict) -> Finding:
    """Which stage's input-dependent gating the prediction needs most (mean mode): the costliest stage, and whether
    it stands apart from the next beyond the noise (±2 SE). holds: one stage clearly matters most; False: none costs
    more than the noise; None: the top stages cannot be told apart."""
    mean = tables.get("mean")
    ranked = _stages(mean) if mean else []
    if not ranked:
        return Finding("stage_need", None, {}, "")
    top = ranked[0]
    d, noise = drop_pp(mean, top), noise_pp(mean, top)
    nums = dict(stage=top.label, drop=d, noise=noise, images=mean.images)
    if d <= noise:
        return Finding("stage_need", False, nums,
                       f"Replacing any one stage's gates by their mean gate costs no more than the noise (at most "
                       f"{num.points(d)} ± {num.points(noise)} points of top-1 on {mean.images} images): no stage's "
                       "input-dependent gating is needed on its own here.")
    text = (f"Replacing the gates of {em(top.label)} by their mean gate (the same for every image) costs "
            f"{em(num.points(d) + ' points')} of top-1 (±{num.points(noise)})")
    if len(ranked) == 1:
        return Finding("stage_need", True, nums, text + ": its input-dependent gating matters.")
    second = ranked[1]
    d2 = drop_pp(mean, second)
    nums.update(second=second.label, second_drop=d2)
    if d - d2 > noise:
        return Finding("stage_need", True, nums, text + f", clearly more than {second.label} ({num.points(d2)}): "
                                                        f"the input-dependent gates of {top.label} matter most.")
    return Finding("stage_need", None, nums, text + f", about as much as {second.label} ({num.points(d2)}, within "
                                                    f"the noise): {top.label} and {second.label} cannot be told "
                                                    "apart here.")


def specific_vs_needed(tables: dict, stats) -> Finding:
    """Is the block whose class curves lie furthest apart also where the prediction needs the gates most?"""
    mean = tables.get("mean")
    ranked = _stages(mean) if mean else []
    if stats is None or not stats.blocks or not ranked:
        return Finding("specific_is_needed", None, {}, "")
    top = ranked[0]
    spec = max(stats.blocks, key=lambda b: b.divergence)
    deepest = stats.blocks[-1].name
    where = "the deepest block" if spec.name == deepest else f"not the deepest block ({deepest})"
    own = next((r for r in mean.rows if r.label == spec.name), None)
    need = max((r for r in mean.rows if r.label in {b.name for b in stats.blocks}), key=lambda r: drop_pp(mean, r),
               default=None)
    head = (f"The block whose class curves lie furthest apart, {spec.name} ({where}, divergence "
            f"{num.units(spec.divergence)})")
    if own is not None and need is not None:  # per-block rows: compare blocks directly
        same = need.label == spec.name or drop_pp(mean, need) - drop_pp(mean, own) <= noise_pp(mean, need)
        return Finding("specific_is_needed", same, dict(block=spec.name, needed=need.label),
                       f"{head}, costs {num.points(drop_pp(mean, own))} points on its own; the block the prediction "
                       f"needs most is {need.label} ({num.points(drop_pp(mean, need))}), so the most class-dependent "
                       f"gates {'are' if same else 'are not'} the ones the prediction needs most.")
    stage = _stage_of(spec.name)
    row = next((r for r in ranked if r.label == stage), None)
    if row is None:
        return Finding("specific_is_needed", None, {}, "")
    tie = stage_need(tables).holds is None
    same = row is top or drop_pp(mean, top) - drop_pp(mean, row) <= noise_pp(mean, top)
    holds = None if same and tie else same
    verdict = ("are also the ones the prediction needs most" if holds else
               "are among those the prediction needs most, but the stages cannot be told apart here" if same else
               "are not the ones the prediction needs most")
    return Finding("specific_is_needed", holds, dict(block=spec.name, stage=stage),
                   f"{head}, sits in {stage}, whose mean-gate ablation costs {num.points(drop_pp(mean, row))} points: "
                   f"its gates {verdict}.")


def forced_open(tables: dict, stats=None) -> Finding:
    """s = 1 (gates forced open) in every block against the mean gate: is the loss the changed scale or the lost
    attention? holds: mostly the scale (far beyond the mean gate's loss)."""
    ident, mean = tables.get("identity"), tables.get("mean")
    if not ident:
        return Finding("forced_open_is_scale", None, {}, "")
    a_i = ident.row("all blocks")
    d_i = drop_pp(ident, a_i)
    base = (f"Forcing every gate open ({FORCED_OPEN.split(' (')[0]} in every block) takes top-1 from "
            f"{ident.baseline['top1']:.1%} to {a_i.top1:.1%} on {ident.images} images")
    if not mean:
        return Finding("forced_open_is_scale", None, dict(drop=d_i),
                       base + "; part of that is the changed scale, which the following layers never saw in training.")
    a_m = mean.row("all blocks")
    d_m = drop_pp(mean, a_m)
    level = (f" (trained gates average {sum(b.mean for b in stats.blocks) / len(stats.blocks):.2f})"
             if stats is not None and stats.blocks else "")
    nums = dict(drop=d_i, mean_drop=d_m)
    if d_i > 2 * max(d_m, 0) + noise_pp(ident, a_i):
        return Finding("forced_open_is_scale", True, nums,
                       f"{base}: {em(num.points(d_i) + ' points')}, far more than the mean gate's {num.points(d_m)}, "
                       f"so most of that loss is the changed scale{level}, which the following layers never saw in "
                       "training, not the lost attention.")
    return Finding("forced_open_is_scale", False, nums,
                   f"{base}: {num.points(d_i)} points, about what the mean gate costs ({num.points(d_m)}): the scale "
                   "of the gates matters little here.")


def wrong_gates(tables: dict) -> Finding:
    """Another image's gates against the mean gate: is a wrong attention worse than none?"""
    shuf, mean = tables.get("shuffle"), tables.get("mean")
    if not (shuf and mean):
        return Finding("wrong_worse_than_none", None, {}, "")
    a_s, a_m = shuf.row("all blocks"), mean.row("all blocks")
    worse = drop_pp(shuf, a_s) - drop_pp(mean, a_m) > noise_pp(shuf, a_s)
    return Finding("wrong_worse_than_none", worse, dict(drop=drop_pp(shuf, a_s), mean_drop=drop_pp(mean, a_m)),
                   f"Another image's gates cost {num.points(drop_pp(shuf, a_s))} points over all blocks"
                   + (", more than the mean gate: a wrong image's attention is worse than none." if worse else
                      ", not clearly more than the mean gate."))


def ablation_findings(tables: dict, stats=None) -> list[Finding]:
    return [stage_need(tables), specific_vs_needed(tables, stats), forced_open(tables, stats), wrong_gates(tables)]


def ablation_sentence(tables: dict, stats=None, markdown: bool = False) -> str:
    """The ablation findings as one paragraph (numbers bold in Markdown)."""
    return render(ablation_findings(tables, stats), markdown)
