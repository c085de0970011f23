"""Kinds of channel attention side by side: does each model's gate become class-specific with depth, as SE's does
in the paper? Per model the end of the first stage against the deepest block, with intervals, and whether the
deepest block is learned; then each kind against SE."""
from __future__ import annotations

from dataclasses import dataclass

from se_models.hooks.naming import block_kind, last_of_each_stage


@dataclass(frozen=True)
class DepthTrend:
    """One model's class-specificity from the end of its first stage to its deepest block."""
    label: str                    # the model as shown
    kind: str                     # SE, ECA, CBAM, ...
    first: str                    # the end of the first stage (SE_2_3, ECA_2_3, ...)
    deep: str                     # the deepest block
    first_divergence: float
    deep_divergence: float
    first_ci: list[float] | None  # 95 % bootstrap intervals of the divergences
    deep_ci: list[float] | None
    ratio: float                  # deep / first divergence, with its interval from the same resampled images
    ratio_ci: list[float] | None
    deep_learned: bool | None     # above chance and above the untrained control; None without a control
    rises: bool | None            # deep learned and the ratio's interval above 1; None where that cannot be told

    @property
    def falls(self) -> bool:
        return bool(self.ratio_ci) and self.ratio_ci[1] < 1


def learned(block, has_control: bool, weights: str) -> bool | None:
    """Learned = above chance and above the untrained control (the statistics' verdict with a control measured);
    None for random weights or without a control: the question has no answer there."""
    if weights == "random" or not has_control or block.divergence_p is None:
        return None
    return bool(block.class_specific)


def depth_trend(label: str, stats) -> DepthTrend:
    """The trend of one model's statistics (ExcitationStats with its untrained control)."""
    names = [b.name for b in stats.blocks]
    first, deep = last_of_each_stage(names)[0], names[-1]
    b1, bn = stats.block(first), stats.block(deep)
    ratio, ci = stats.ratio(deep, first)
    is_learned = learned(bn, bool(stats.control), stats.weights)
    rises = None if is_learned is None or not ci else bool(is_learned and ci[0] > 1)
    return DepthTrend(label, block_kind(deep) or "SE", first, deep, b1.divergence, bn.divergence, b1.divergence_ci,
                      bn.divergence_ci, ratio, ci, is_learned, rises)


def _ci(ci, d: int = 3) -> str:
    return f" [{ci[0]:.{d}f}–{ci[1]:.{d}f}]" if ci else ""


def _ratio(t: DepthTrend) -> str:
    d = 0 if t.ratio >= 20 else 1
    return f"{t.ratio:.{d}f}×" + (f" [{t.ratio_ci[0]:.{d}f}–{t.ratio_ci[1]:.{d}f}]" if t.ratio_ci else "")


def trend_sentence(t: DepthTrend) -> str:
    verdict = {True: "learned (above chance and above its untrained control)", False: "not learned",
               None: "without a verdict (no untrained control measured)"}[t.deep_learned]
    way = ("so its gates become class-specific with depth" if t.rises else
           "more class-dependent at the first stage than at the deepest block" if t.falls else
           "so these numbers do not show a rise with depth" if t.rises is False else "")
    return (f"{t.kind} ({t.label}): class divergence {t.first_divergence:.3f}{_ci(t.first_ci)} at {t.first}, "
            f"{t.deep_divergence:.3f}{_ci(t.deep_ci)} at {t.deep}, {_ratio(t)}; {t.deep} is {verdict}"
            + (f", {way}." if way else "."))


def kinds_reading(trends: list[DepthTrend]) -> str:
    """Every model's trend, then each other kind against SE: rises with depth as SE's does, or not. Divergences
    are in each kind's own gate units (kinds gate differently), so kinds are compared by their ratios and verdicts,
    not by raw divergence."""
    text = " ".join(trend_sentence(t) for t in trends)
    se = next((t for t in trends if t.kind == "SE"), None)
    others = [t for t in trends if t.kind != "SE"]
    if se is None or not others:
        return text
    for t in others:
        if t.rises is None or se.rises is None:
            text += f" {t.kind} against SE: no verdict (a model without an untrained control or intervals)."
        elif t.rises and se.rises:
            text += f" {t.kind}'s gates become class-specific with depth as SE's do."
        elif t.rises:
            text += f" {t.kind}'s gates become class-specific with depth, SE's do not here."
        elif se.rises:
            text += f" {t.kind}'s gates do not become class-specific with depth here, unlike SE's."
        else:
            text += f" Neither SE's nor {t.kind}'s gates show a rise with depth here."
    return text + (" Divergence is in each kind's own gate units, so compare the ratios and the verdicts across "
                   "kinds, not the raw values.")
