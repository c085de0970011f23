"""The statistics in words: sentences derived from the verdicts and intervals (the app and the CLI print them)."""
from __future__ import annotations

from se_models.hooks.naming import last_of_each_stage
from se_models.stats.significance import ALPHA

CONTROL_RATIO = ("N× the control: a trained block's class divergence divided by the divergence of the same block "
                 "of the untrained control (same architecture, random weights, same images)")


def _plain(text: str) -> str:
    return text


def first_and_deepest(stats) -> tuple[str, str]:
    """The end of the first stage (the paper's SE_2_3) and the deepest SE block."""
    names = [b.name for b in stats.blocks]
    return last_of_each_stage(names)[0], names[-1]


def _ci(v, d: int = 3, pct: bool = False) -> str:
    if not v:
        return ""
    return f" [{v[0]:.0%}–{v[1]:.0%}]" if pct else f" [{v[0]:.{d}f}–{v[1]:.{d}f}]"


def _p(b) -> str:
    return f"p = {b.divergence_p:.3f}"


def block_verdict(b) -> str:
    """One block's verdict in words."""
    if b.class_specific:
        return f"class-specific ({_p(b)})"
    if b.divergence_p is not None and b.divergence_p < ALPHA:
        return f"above chance ({_p(b)}) but not above the untrained control's interval"
    return f"not distinguishable from chance at this sample size ({_p(b)})"


def ratio_text(stats, num: str, den: str, den_control: bool = False) -> str:
    """'7.8× [7.2–8.4]': the ratio of two divergences with its bootstrap interval."""
    r, ci = stats.ratio(num, den, den_control)
    d = 0 if r >= 20 else 1
    return f"{r:.{d}f}×" + (f" [{ci[0]:.{d}f}–{ci[1]:.{d}f}]" if ci else "")


def specificity_reading(stats, em=_plain) -> str:
    """First stage vs deepest block: divergence with interval and chance level, verdicts, the ratio deepest / first
    stage and N× the control (each only when the verdicts support it), the probe, and the conclusion (the sample-size
    notes, ExcitationStats.sample_notes(), are shown beside it). em(text) marks the headline numbers (Markdown bold
    in the app)."""
    first, deep = first_and_deepest(stats)
    b1, bn = stats.block(first), stats.block(deep)
    text = (f"Class divergence is {em(f'{b1.divergence:.3f}')}{_ci(b1.divergence_ci)} at {first} (end of the first "
            f"stage) and {em(f'{bn.divergence:.3f}')}{_ci(bn.divergence_ci)} at {deep}")
    if bn.divergence_p is None:  # e.g. a subset of classes: no single images, no baseline
        return text + ("; these statistics carry no chance baseline (a subset of the classes), so they give no "
                       "verdict on class-specificity.")
    text += (f"; shuffling the class labels gives up to {b1.divergence_null[1]:.3f} and "
             f"{bn.divergence_null[1]:.3f} by chance (99th percentile of {stats.permutations} shuffles). ")
    text += f"{deep} is {block_verdict(bn)}; {first} is {block_verdict(b1)}. "
    if bn.class_specific and b1.class_specific:
        text += f"{deep}'s divergence is {em(ratio_text(stats, deep, first))} {first}'s"
    if bn.class_specific and stats.control:
        joiner = " and" if b1.class_specific else f"{deep}'s divergence is"
        text += f"{joiner} {em(ratio_text(stats, deep, deep, den_control=True))} the untrained control's (same block)"
    if bn.class_specific and (b1.class_specific or stats.control):
        text += ". "
    if b1.probe_accuracy is not None and bn.probe_accuracy is not None:
        text += (f"A linear probe reads the class from the excitations with {em(f'{b1.probe_accuracy:.0%}')}"
                 f"{_ci(b1.probe_ci, pct=True)} accuracy at {first} and {em(f'{bn.probe_accuracy:.0%}')}"
                 f"{_ci(bn.probe_ci, pct=True)} at {deep} (chance {bn.chance:.0%}; with shuffled labels "
                 f"{bn.probe_null:.0%}). ")
    n_spec = sum(bool(b.class_specific) for b in stats.blocks)
    text += f"{n_spec} of {len(stats.blocks)} blocks are class-specific. "
    text += _conclusion(stats, first, deep, b1, bn, n_spec)
    if stats.weights == "random":
        text += (" These are random weights: what differs between classes here comes from the images passing "
                 "through random filters, not from learning.")
    return text


def _conclusion(stats, first, deep, b1, bn, n_spec) -> str:
    if n_spec == 0:
        return ("No block's excitations are distinguishable from chance at this sample size: these data give no "
                "evidence of class-specific excitations.")
    if not bn.class_specific:
        return ("The deepest block is not class-specific here, so these data do not show the paper's rise of "
                "class-specificity with depth.")
    if not b1.class_specific:
        return (f"The excitations become class-specific with depth, as the paper found: {deep} is, {first} is not "
                "distinguishable from chance here.")
    _, ci = stats.ratio(deep, first)
    if ci and ci[0] > 1:
        return ("The excitations become more class-specific with depth, as the paper found (the ratio's interval "
                "lies above 1).")
    if ci and ci[1] < 1:
        return "Here the first stage is more class-dependent than the deepest block, unlike the paper's ImageNet model."
    return (f"{first} and {deep} are about equally class-specific here (the ratio's interval includes 1), so these "
            "data do not show a rise with depth.")


def _why_first_stage(early: str, late: str, ratio: float) -> str:
    return (f"{early}'s first stage is already class-dependent ({ratio:.1f}× {late}'s): when classes differ in "
            "low-level statistics (silhouette, brightness, as in grayscale Fashion-MNIST), even the first SE gates "
            "tell them apart; in natural photos low-level features are shared across classes, and only the deep "
            "blocks become class-specific, as the paper found on ImageNet.")


def _same_images(a, b) -> bool:
    return a.data == b.data and a.counts == b.counts and a.sample_counts == b.sample_counts


def compare_reading(label_a: str, a, label_b: str, b, block: str | None = None, em=_plain) -> str:
    """What two models' class-specificity numbers say side by side, with intervals and verdicts."""
    fa, da = first_and_deepest(a)
    fb, db = first_and_deepest(b)
    a1, an, b1, bn = a.block(fa), a.block(da), b.block(fb), b.block(db)
    text = (f"Class divergence at the end of the first stage: {em(f'{a1.divergence:.3f}')}{_ci(a1.divergence_ci)} "
            f"({label_a}, {fa}) vs {em(f'{b1.divergence:.3f}')}{_ci(b1.divergence_ci)} ({label_b}, {fb}); in the "
            f"deepest block: {em(f'{an.divergence:.3f}')}{_ci(an.divergence_ci)} ({da}) vs "
            f"{em(f'{bn.divergence:.3f}')}{_ci(bn.divergence_ci)} ({db}). ")
    for label, st, f, d, first, deep in ((label_a, a, fa, da, a1, an), (label_b, b, fb, db, b1, bn)):
        if deep.divergence_p is None:
            continue
        n_spec = sum(bool(x.class_specific) for x in st.blocks)
        text += f"{label}: {n_spec} of {len(st.blocks)} blocks class-specific"
        if deep.class_specific and first.class_specific:
            text += f", {d} {em(ratio_text(st, d, f))} {f}"
        elif not deep.class_specific:
            text += f", {d} {block_verdict(deep)}"
        text += ". "
    names_a, names_b = {x.name for x in a.blocks}, {x.name for x in b.blocks}
    if block and block in names_a and block in names_b:
        xa, xb = a.block(block), b.block(block)
        text += (f"At {block}: {em(f'{xa.divergence:.3f}')}{_ci(xa.divergence_ci)} vs "
                 f"{em(f'{xb.divergence:.3f}')}{_ci(xb.divergence_ci)}. ")
    untrained_a, untrained_b = a.weights == "random", b.weights == "random"
    if untrained_a != untrained_b:
        (ctrl_label, ctrl), (trained_label, trained) = ((label_a, a), (label_b, b)) if untrained_a else \
            ((label_b, b), (label_a, a))
        deep = first_and_deepest(trained)[1]
        t, c = trained.block(deep), ctrl.block(deep) if deep in {x.name for x in ctrl.blocks} else None
        if c is not None and t.class_specific and t.divergence_ci and c.divergence_ci \
                and t.divergence_ci[0] > c.divergence_ci[1]:
            ratio = t.divergence / c.divergence if c.divergence > 0 else float("inf")
            joint = _same_images(trained, ctrl) and t.divergence_boot and c.divergence_boot
            from se_models.stats.significance import ratio_interval

            ci = ratio_interval(t.divergence_boot, c.divergence_boot) if joint else None
            text += (f"At {deep} the trained divergence is {em(f'{ratio:.0f}×')}"
                     f"{f' [{ci[0]:.0f}–{ci[1]:.0f}]' if ci else ''} the untrained control's ({ctrl_label}), with "
                     f"intervals apart: the class dependence of {trained_label} comes from training, not from the "
                     "architecture.")
        elif c is not None:
            text += (f"At {deep} the trained divergence of {trained_label} is not above the untrained control's "
                     f"({ctrl_label}) beyond their intervals: these numbers do not show that training made it "
                     "class-specific.")
    elif not untrained_a and a1.class_specific and b1.class_specific \
            and max(a1.divergence, b1.divergence) > 2 * max(min(a1.divergence, b1.divergence), 1e-9):
        lo, hi = sorted((a1, b1), key=lambda x: x.divergence)
        if hi.divergence_ci and lo.divergence_ci and hi.divergence_ci[0] > lo.divergence_ci[1]:
            early, late = (label_a, label_b) if a1.divergence > b1.divergence else (label_b, label_a)
            text += _why_first_stage(early, late, hi.divergence / lo.divergence)
    return text
