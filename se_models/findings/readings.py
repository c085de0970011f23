"""The statistics in words: each block's three answers (above chance? learned? how much?), the paper's pattern across
depth, two models side by side and the per-block table; every rule written once, here."""
from __future__ import annotations

from se_models.findings import numbers as num
from se_models.findings.core import Finding, em, render
from se_models.hooks.naming import last_of_each_stage
from se_models.stats.significance import ALPHA, ratio_interval

# "The first stage is near-identical across classes" is a statement of size: its class curves lie at most a fifth as
# far apart as the deepest block's (the deepest / first-stage ratio's interval at or above 5). The paper's Fig. 6
# shows SE_2_3's curves nearly on top of each other beside clearly separate deep ones; the shipped CIFAR-10 model
# measures 7.8x, Fashion-MNIST 3.9x, whose first stage already tells classes apart by silhouette.
NEAR_IDENTICAL = 5.0
CONTRAST = 2.0  # one model's first stage this many times another's (intervals apart): worth explaining

LEARNED_RULE = f"above chance (p < {ALPHA}) with an interval above the untrained control's"
LEGEND = "filled = class-specific (learned: above chance and the control) · open = not learned"


def first_and_deepest(stats_or_names) -> tuple[str, str]:
    """The two blocks every reading compares: the end of the first stage (the paper's SE_2_3) and the deepest."""
    names = [b.name for b in stats_or_names.blocks] if hasattr(stats_or_names, "blocks") else list(stats_or_names)
    return last_of_each_stage(names)[0], names[-1]


def _control_block(stats, name: str):
    return next((c for c in stats.control or [] if c.name == name), None)


def verdict_words(b, untrained: bool = False) -> str:
    """A block's verdict in a few words (tables, hover text, the CLI's per-block lines)."""
    if b.above_chance is None:
        return "no chance baseline"
    if not b.above_chance:
        return "not distinguishable from chance"
    if b.learned:
        return "class-specific (learned)"
    if b.learned is False:
        return "above chance, not learned"
    return "above chance (random weights)" if untrained else "above chance (no control measured)"


def block_verdict(stats, name: str) -> Finding:
    """One block: above chance (permutation p), then learned (interval above the untrained control's)."""
    b = stats.block(name)
    c = _control_block(stats, name)
    p = num.p_value(b.divergence_p, stats.permutations)
    nums = dict(block=name, p=b.divergence_p, ci=b.divergence_ci, above_chance=b.above_chance, learned=b.learned,
                control_ci=c.divergence_ci if c else None)
    if b.above_chance is None:
        return Finding("learned", None, nums, f"{name} carries no chance baseline.")
    if not b.above_chance:
        return Finding("learned", b.learned, nums, f"{name} is not distinguishable from chance ({p}).")
    if b.learned:
        return Finding("learned", True, nums, f"{name} is class-specific: above chance ({p}) and learned, its "
                                              f"interval above the untrained control's {num.units(c.divergence)}"
                                              f"{num.interval(c.divergence_ci)}.")
    if b.learned is False:
        return Finding("learned", False, nums, f"{name} is above chance ({p}) but not above the untrained control's "
                                               f"{num.units(c.divergence)}{num.interval(c.divergence_ci)}: not "
                                               "learned.")
    if stats.untrained:
        return Finding("learned", None, nums, f"{name} is above chance ({p}).")
    return Finding("learned", None, nums, f"{name} is above chance ({p}); without the untrained control, whether "
                                          "training made it cannot be told.")


def sizes(stats) -> Finding:
    """How far apart the class curves lie at the first stage and the deepest block, with intervals and chance."""
    first, deep = first_and_deepest(stats)
    b1, bn = stats.block(first), stats.block(deep)
    text = (f"Class divergence is {em(num.units(b1.divergence))}{num.interval(b1.divergence_ci)} at {first} (end of "
            f"the first stage) and {em(num.units(bn.divergence))}{num.interval(bn.divergence_ci)} at {deep} (the "
            "deepest block)")
    if b1.divergence_null and bn.divergence_null:
        text += (f"; by chance (the 99th percentile of {stats.permutations} label shuffles) they would lie "
                 f"{num.units(b1.divergence_null[1])} and {num.units(bn.divergence_null[1])} apart")
    return Finding("sizes", None, dict(first=first, deep=deep, first_divergence=b1.divergence,
                                       deep_divergence=bn.divergence, first_ci=b1.divergence_ci,
                                       deep_ci=bn.divergence_ci), text + ".")


def depth_ratio(stats) -> Finding:
    """The one ratio every view quotes: the deepest block's divergence over the first stage's, with its interval."""
    first, deep = first_and_deepest(stats)
    if first == deep:
        return Finding("depth_ratio", None, dict(first=first, deep=deep), "")
    r, ci = stats.ratio(deep, first)
    holds = None if not ci else bool(ci[0] > 1)
    return Finding("depth_ratio", holds, dict(first=first, deep=deep, ratio=r, ci=ci),
                   f"{deep}'s class curves lie {em(num.ratio(r, ci))} as far apart as {first}'s.")


def first_stage_size(stats) -> Finding:
    """'The first stage is near-identical across classes': a statement of size beside the deepest block, never a
    yes/no read off p. Holds when the deepest / first ratio's interval lies at or above NEAR_IDENTICAL."""
    first, deep = first_and_deepest(stats)
    r, ci = stats.ratio(deep, first)
    b1, bn = stats.block(first), stats.block(deep)
    low, high = (ci[0], ci[1]) if ci else (r, r)
    holds = True if low >= NEAR_IDENTICAL else False if high < NEAR_IDENTICAL else None
    part = num.share(b1.divergence / bn.divergence) if bn.divergence > 0 else "–"
    nums = dict(first=first, deep=deep, ratio=r, ci=ci, share=b1.divergence / bn.divergence if bn.divergence else None)
    head = (f"At {first} the class curves lie {num.units(b1.divergence)} apart, {part} of {deep}'s "
            f"{num.units(bn.divergence)}")
    if holds:
        return Finding("first_stage_near_identical", True, nums,
                       f"{head}: near-identical beside the deepest block, as in the paper's Fig. 6.")
    if holds is False:
        return Finding("first_stage_near_identical", False, nums,
                       f"{head}: already apart, unlike the paper's near-identical first stage.")
    return Finding("first_stage_near_identical", None, nums,
                   f"{head}: whether that is near-identical (at most a fifth) the interval cannot tell.")


def rises_with_depth(stats) -> Finding:
    """'Class-specificity rises with depth' holds when the deepest block is learned and the deepest / first-stage
    ratio's interval lies above 1."""
    first, deep = first_and_deepest(stats)
    bn = stats.block(deep)
    r, ci = stats.ratio(deep, first)
    nums = dict(first=first, deep=deep, deep_learned=bn.learned, ratio=r, ci=ci)
    if bn.above_chance is None:
        return Finding("rises_with_depth", None, nums, "These statistics carry no chance baseline (a subset of the "
                                                       "classes), so they give no verdict on class-specificity.")
    if stats.untrained:
        return Finding("rises_with_depth", None, nums, "")  # the untrained finding says what random weights are
    if bn.learned is None:
        return Finding("rises_with_depth", None, nums, "Without the untrained control these statistics cannot say "
                                                       "whether the class dependence was learned, so they give no "
                                                       "verdict on the paper's rise of class-specificity with depth.")
    if not bn.learned:
        return Finding("rises_with_depth", False, nums, f"The deepest block ({deep}) is not class-specific here, so "
                                                        "these data do not show the paper's rise of "
                                                        "class-specificity with depth.")
    if ci and ci[0] > 1:
        return Finding("rises_with_depth", True, nums, "Class-specificity rises with depth, as the paper found: the "
                                                       "deepest block is learned and the ratio's interval lies "
                                                       "above 1.")
    if ci and ci[1] < 1:
        return Finding("rises_with_depth", False, nums, f"Here {first} is further apart than {deep}, unlike the "
                                                        "paper's rise with depth.")
    return Finding("rises_with_depth", False, nums, f"{first} and {deep} are about equally far apart (the ratio's "
                                                    "interval includes 1 or is missing): no rise with depth shown.")


def learned_blocks(stats) -> Finding:
    """How many blocks are learned (None where nothing can be: random weights, no control, no baseline)."""
    n = len(stats.blocks)
    above = sum(bool(b.above_chance) for b in stats.blocks)
    learned = sum(bool(b.learned) for b in stats.blocks)
    nums = dict(blocks=n, above_chance=above, learned=learned)
    if any(b.above_chance is None for b in stats.blocks) or stats.untrained:
        return Finding("learned_blocks", None, nums, "")
    if all(b.learned is None for b in stats.blocks):
        return Finding("learned_blocks", None, nums, f"{above} of {n} blocks are above chance; with no untrained "
                                                     "control measured, none can be called learned.")
    if learned == 0:
        return Finding("learned_blocks", False, nums, f"No block is class-specific (learned) here; {above} of {n} "
                                                      "are above chance.")
    return Finding("learned_blocks", True, nums, f"{learned} of {n} blocks are class-specific, i.e. learned: "
                                                 f"{LEARNED_RULE}.")


def deepest_vs_control(stats) -> Finding:
    """The deepest block against the untrained control's same block: the ratio with its joint interval."""
    _, deep = first_and_deepest(stats)
    bn, c = stats.block(deep), _control_block(stats, deep)
    if c is None or stats.untrained:
        return Finding("deepest_vs_control", None, dict(deep=deep), "")
    r, ci = stats.ratio(deep, deep, den_control=True)
    return Finding("deepest_vs_control", bn.learned, dict(deep=deep, ratio=r, ci=ci),
                   f"{deep}'s divergence is {em(num.ratio(r, ci))} the untrained control's (same block, same "
                   "images).")


def probe(stats) -> Finding:
    """The linear probe at the first stage and the deepest block, against chance and shuffled labels."""
    first, deep = first_and_deepest(stats)
    b1, bn = stats.block(first), stats.block(deep)
    if b1.probe_accuracy is None or bn.probe_accuracy is None:
        return Finding("probe", None, {}, "")
    floor = max(bn.chance, bn.probe_null or 0)
    holds = bool(bn.probe_ci and bn.probe_ci[0] > floor)
    pct = lambda v: num.interval(v, num.share)  # noqa: E731
    return Finding("probe", holds, dict(first=b1.probe_accuracy, deep=bn.probe_accuracy, chance=bn.chance,
                                        null=bn.probe_null),
                   f"A linear probe reads the class from the gates with {em(num.share(b1.probe_accuracy))}"
                   f"{pct(b1.probe_ci)} accuracy at {first} and {em(num.share(bn.probe_accuracy))}{pct(bn.probe_ci)} "
                   f"at {deep} (chance {num.share(bn.chance)}; with shuffled labels "
                   f"{num.share(bn.probe_null) if bn.probe_null is not None else '–'}).")


def untrained(stats) -> Finding:
    """What random weights are: class-dependent above chance through colour and texture, nothing learned."""
    if not stats.untrained:
        return Finding("nothing_learned", False, {}, "")
    n = len(stats.blocks)
    above = [b for b in stats.blocks if b.above_chance]
    nums = dict(blocks=n, above_chance=len(above))
    text = ("These are the untrained network's statistics (random weights): nothing in them is learned, so no block "
            "is class-specific. ")
    if above:
        text += (f"In {len(above)} of {n} blocks the class curves still differ above chance (p < {ALPHA}): random "
                 "filters respond to colours, textures and silhouettes, which differ between classes. ")
    elif any(b.above_chance is False for b in stats.blocks):
        text += "No block's class curves differ above chance. "
    return Finding("nothing_learned", True, nums, text + "Choose the trained model to see what training adds.")


def specificity_findings(stats) -> list[Finding]:
    """Everything the statistics say, in reading order (the Classes view, the CLI, the lesson pick from these)."""
    first, deep = first_and_deepest(stats)
    if stats.untrained:
        return [untrained(stats), sizes(stats), depth_ratio(stats), probe(stats)]
    if stats.block(deep).above_chance is None:
        return [sizes(stats), depth_ratio(stats), rises_with_depth(stats)]
    out = [sizes(stats), block_verdict(stats, deep)]
    if first != deep:
        out.append(block_verdict(stats, first))
    out += [deepest_vs_control(stats), depth_ratio(stats)]
    if first != deep:
        out.append(first_stage_size(stats))
    return out + [probe(stats), learned_blocks(stats), rises_with_depth(stats)]


def specificity_reading(stats, markdown: bool = False) -> str:
    """The findings above as one paragraph: plain for the terminal, Markdown (numbers bold) for the app."""
    return render(specificity_findings(stats), markdown)


# ---- two models side by side (Compare) --------------------------------------------------------------------------
def _same_images(a, b) -> bool:
    return a.data == b.data and a.counts == b.counts and a.sample_counts == b.sample_counts


def model_summary(label: str, stats) -> Finding:
    """One model in one clause: learned blocks and the depth ratio, or what random weights are."""
    first, deep = first_and_deepest(stats)
    bn = stats.block(deep)
    r, ci = stats.ratio(deep, first)
    above = sum(bool(b.above_chance) for b in stats.blocks)
    learned = sum(bool(b.learned) for b in stats.blocks)
    nums = dict(label=label, learned=learned, above_chance=above, blocks=len(stats.blocks), ratio=r, ci=ci)
    depth = f"{deep} {em(num.ratio(r, ci))} {first}" if first != deep else ""
    if bn.above_chance is None:
        return Finding("model_summary", None, nums, f"{label}: no chance baseline.")
    if stats.untrained:
        return Finding("model_summary", None, nums, f"{label}: random weights, nothing learned ({above} of "
                                                    f"{len(stats.blocks)} blocks above chance through colour and "
                                                    f"texture{'; ' + depth if depth else ''}).")
    if all(b.learned is None for b in stats.blocks):
        return Finding("model_summary", None, nums, f"{label}: {above} of {len(stats.blocks)} blocks above chance, "
                                                    f"no control measured{', ' + depth if depth else ''}.")
    return Finding("model_summary", learned > 0, nums, f"{label}: {learned} of {len(stats.blocks)} blocks "
                                                       f"class-specific (learned){', ' + depth if depth else ''}.")


def from_training(label_t: str, trained, label_c: str, control) -> Finding:
    """A trained model against its own untrained network on the same images: is the deepest block's class
    dependence beyond the untrained one's (intervals apart)? Only the same architecture on the same images can
    answer this; anything else gives no claim."""
    deep = first_and_deepest(trained)[1]
    if trained.model != control.model or not _same_images(trained, control) or \
            deep not in {b.name for b in control.blocks}:
        return Finding("from_training", None, {}, "")
    t, c = trained.block(deep), control.block(deep)
    if not (t.divergence_ci and c.divergence_ci):
        return Finding("from_training", None, {}, "")
    ratio = t.divergence / c.divergence if c.divergence > 0 else float("inf")
    ci = ratio_interval(t.divergence_boot, c.divergence_boot) if t.divergence_boot and c.divergence_boot else None
    nums = dict(block=deep, ratio=ratio, ci=ci, trained_ci=t.divergence_ci, control_ci=c.divergence_ci)
    if t.above_chance and t.divergence_ci[0] > c.divergence_ci[1]:
        return Finding("from_training", True, nums,
                       f"At {deep} the trained divergence is {em(num.ratio(ratio, ci))} the untrained network's "
                       f"({label_c}), with intervals apart: the class specificity of {label_t} comes from training, "
                       "not from the architecture.")
    return Finding("from_training", False, nums,
                   f"At {deep} the trained divergence of {label_t} is not above the untrained network's ({label_c}) "
                   "beyond their intervals: these numbers do not show that training made it class-specific.")


def first_stage_contrast(label_a: str, a, label_b: str, b) -> Finding:
    """Two trained models whose first stages differ by CONTRAST or more (intervals apart): why that can be."""
    fa, fb = first_and_deepest(a)[0], first_and_deepest(b)[0]
    a1, b1 = a.block(fa), b.block(fb)
    if a.untrained or b.untrained or not (a1.learned and b1.learned) or not (a1.divergence_ci and b1.divergence_ci):
        return Finding("first_stage_contrast", None, {}, "")
    (lo_label, lo), (hi_label, hi) = sorted(((label_a, a1), (label_b, b1)), key=lambda x: x[1].divergence)
    r = hi.divergence / max(lo.divergence, 1e-12)
    holds = bool(r >= CONTRAST and hi.divergence_ci[0] > lo.divergence_ci[1])
    if not holds:
        return Finding("first_stage_contrast", False, dict(ratio=r), "")
    return Finding("first_stage_contrast", True, dict(ratio=r),
                   f"{hi_label}'s first stage is already further apart ({num.times(r)} {lo_label}'s): when classes "
                   "differ in low-level statistics (silhouette, brightness, as in grayscale Fashion-MNIST), even the "
                   "first SE gates tell them apart; in natural photos low-level features are shared across classes, "
                   "and only the deep blocks become class-specific, as the paper found on ImageNet.")


def compare_findings(label_a: str, a, label_b: str, b, block: str | None = None) -> list[Finding]:
    """What two models' numbers say side by side: sizes, each model's summary, one block, and training's part."""
    fa, da = first_and_deepest(a)
    fb, db = first_and_deepest(b)
    a1, an, b1, bn = a.block(fa), a.block(da), b.block(fb), b.block(db)
    u = num.units
    out = [Finding("sizes", None, dict(a_first=a1.divergence, b_first=b1.divergence, a_deep=an.divergence,
                                       b_deep=bn.divergence),
                   f"Class divergence at the end of the first stage: {em(u(a1.divergence))}"
                   f"{num.interval(a1.divergence_ci)} ({label_a}, {fa}) vs {em(u(b1.divergence))}"
                   f"{num.interval(b1.divergence_ci)} ({label_b}, {fb}); in the deepest block: "
                   f"{em(u(an.divergence))}{num.interval(an.divergence_ci)} ({da}) vs {em(u(bn.divergence))}"
                   f"{num.interval(bn.divergence_ci)} ({db})."),
           model_summary(label_a, a), model_summary(label_b, b)]
    if block and block in {x.name for x in a.blocks} and block in {x.name for x in b.blocks}:
        xa, xb = a.block(block), b.block(block)
        out.append(Finding("block_sizes", None, dict(block=block, a=xa.divergence, b=xb.divergence),
                           f"At {block}: {em(u(xa.divergence))}{num.interval(xa.divergence_ci)} vs "
                           f"{em(u(xb.divergence))}{num.interval(xb.divergence_ci)}."))
    if a.untrained != b.untrained:
        (lt, t), (lc, c) = ((label_b, b), (label_a, a)) if a.untrained else ((label_a, a), (label_b, b))
        out.append(from_training(lt, t, lc, c))
    else:
        out.append(first_stage_contrast(label_a, a, label_b, b))
    return out


def compare_reading(label_a: str, a, label_b: str, b, block: str | None = None, markdown: bool = False) -> str:
    return render(compare_findings(label_a, a, label_b, b, block), markdown)


# ---- the per-block table (CLI --markdown, the README) ------------------------------------------------------------
def block_table(stats) -> str:
    """Per block: divergence with its interval, the chance level, p, the two verdicts, the other metrics and the
    untrained control's divergence, as a Markdown table."""
    fmt = lambda v, d=3: "–" if v is None else f"{v:.{d}f}"  # noqa: E731
    yes = {True: "**yes**", False: "no", None: "–"}
    rows = ["| block | divergence [95 % CI] | chance (99th pct of shuffles) | p | above chance | learned | η² "
            "| probe acc. [95 % CI] | mean s | spread over channels | s > 0.95 | s < 0.05 "
            "| control divergence [95 % CI] | control probe |", "|" + "---|" * 14]
    for b in stats.blocks:
        c = _control_block(stats, b.name)
        rows.append(f"| {b.name} | {num.units(b.divergence)}{num.interval(b.divergence_ci)} "
                    f"| {num.units(b.divergence_null[1]) if b.divergence_null else '–'} "
                    f"| {num.p_value(b.divergence_p, stats.permutations).removeprefix('p = ')} "
                    f"| {yes[b.above_chance]} | {yes[b.learned]} | {fmt(b.eta_squared)} "
                    f"| {fmt(b.probe_accuracy)}{num.interval(b.probe_ci, lambda v: f'{v:.2f}')} "
                    f"| {fmt(b.mean)} | {fmt(b.channel_spread)} | {fmt(b.saturated_high)} | {fmt(b.saturated_low)} "
                    f"| {num.units(c.divergence) + num.interval(c.divergence_ci) if c else '–'} "
                    f"| {fmt(c.probe_accuracy) if c else '–'} |")
    floor = num.p_value(0.0, stats.permutations)
    note = (f"\n\nLearned = {LEARNED_RULE}; {floor} is the floor of {stats.permutations} shuffles."
            if stats.permutations else "")
    if stats.untrained:
        note += " Random weights: no block can be learned."
    return "\n".join(rows) + note


__all__ = ["LEGEND", "block_table", "block_verdict", "compare_findings", "compare_reading", "depth_ratio",
           "first_and_deepest", "first_stage_size", "learned_blocks", "rises_with_depth", "specificity_findings",
           "specificity_reading", "untrained", "verdict_words"]
