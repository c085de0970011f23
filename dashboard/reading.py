"""One-paragraph readings of the statistics: what the numbers on screen say, in words (pure, no Streamlit)."""
from __future__ import annotations

from se_models.blocks import last_of_each_stage

TINY = 1e-9


def first_and_deepest(stats) -> tuple[str, str]:
    """The end of the first stage (the paper's SE_2_3) and the deepest SE block."""
    names = [b.name for b in stats.blocks]
    return last_of_each_stage(names)[0], names[-1]


def relation(deep: float, first: float) -> str:
    r = deep / max(first, TINY)
    if r >= 1.5:
        return f"{r:.1f}× the first stage"
    if r <= 1 / 1.5:
        return f"{1 / max(r, TINY):.1f}× smaller than in the first stage"
    return "about the same as in the first stage"


def specificity_sentence(stats) -> str:
    """Class divergence first stage vs deepest block, vs the control, and the probe, as Markdown."""
    first, deep = first_and_deepest(stats)
    b1, bn = stats.block(first), stats.block(deep)
    text = (f"Class divergence goes from **{b1.divergence:.3f}** at {first} (end of the first stage) "
            f"to **{bn.divergence:.3f}** at {deep}, {relation(bn.divergence, b1.divergence)}")
    if stats.control:
        cmax = max(b.divergence for b in stats.control)
        text += (f"; the untrained control stays at or below **{cmax:.3f}** in every block, so the deepest "
                 f"trained block is **{bn.divergence / max(cmax, TINY):.0f}×** the control")
    text += ". "
    if b1.probe_accuracy is not None and bn.probe_accuracy is not None:
        text += (f"A linear probe reads the class from the excitations with **{b1.probe_accuracy:.0%}** accuracy "
                 f"at {first} and **{bn.probe_accuracy:.0%}** at {deep} (chance {bn.chance:.0%}). ")
    if bn.divergence > 1.5 * b1.divergence:
        text += "The excitations become more class-specific with depth, as the paper found."
    elif b1.divergence > 1.5 * bn.divergence:
        text += ("Here the first stage is more class-dependent than the deepest block, unlike the paper's "
                 "ImageNet model.")
    else:
        text += "The first and the deepest stage are about equally class-specific here."
    return text


def _why_first_stage(early: str, late: str, ratio: float) -> str:
    return (f"{early}'s first stage is already class-dependent ({ratio:.1f}× {late}'s): when classes differ in "
            "low-level statistics (silhouette, brightness, as in grayscale Fashion-MNIST), even the first SE gates "
            "tell them apart; in natural photos low-level features are shared across classes, and only the deep "
            "blocks become class-specific, as the paper found on ImageNet.")


def compare_sentence(label_a: str, a, label_b: str, b, block: str | None = None) -> str:
    """What two models' class-specificity numbers say side by side (Markdown)."""
    fa, da = first_and_deepest(a)
    fb, db = first_and_deepest(b)
    a1, an, b1, bn = (a.block(fa).divergence, a.block(da).divergence, b.block(fb).divergence, b.block(db).divergence)
    text = (f"Class divergence at the end of the first stage: **{a1:.3f}** ({label_a}, {fa}) vs **{b1:.3f}** "
            f"({label_b}, {fb}); in the deepest block: **{an:.3f}** ({da}) vs **{bn:.3f}** ({db}). "
            f"The deepest block's divergence is **{an / max(a1, TINY):.1f}×** the first stage's for {label_a} "
            f"and **{bn / max(b1, TINY):.1f}×** for {label_b}. ")
    names_a, names_b = {x.name for x in a.blocks}, {x.name for x in b.blocks}
    if block and block in names_a and block in names_b:
        text += (f"At {block}: **{a.block(block).divergence:.3f}** vs **{b.block(block).divergence:.3f}**. ")
    untrained_a, untrained_b = a.weights == "random", b.weights == "random"
    if untrained_a != untrained_b:
        ctrl, trained = (label_a, label_b) if untrained_a else (label_b, label_a)
        cmax = max(x.divergence for x in (a if untrained_a else b).blocks)
        text += (f"The untrained control ({ctrl}) never exceeds {cmax:.3f}: the class dependence of {trained} "
                 "comes from training, not from the architecture.")
    elif not untrained_a and max(a1, b1) > 2 * max(min(a1, b1), TINY):
        early, late = (label_a, label_b) if a1 > b1 else (label_b, label_a)
        text += _why_first_stage(early, late, max(a1, b1) / max(min(a1, b1), TINY))
    return text
