"""Kinds of channel attention side by side: does each model's gate become class-specific with depth, as SE's does
in the paper? Per model the end of the first stage against the deepest block (readings' rule for the rise, written
once there), then each kind against SE."""
from __future__ import annotations

from se_models.findings import numbers as num
from se_models.findings.core import Finding, em, render
from se_models.findings.readings import first_and_deepest, rises_with_depth
from se_models.hooks.naming import block_kind

SCALE_NOTE = ("Divergence is in each kind's own gate units (kinds gate differently), so kinds are compared by their "
              "ratios and verdicts, not by raw divergence.")


def kind_of(stats) -> str:
    """The kind of attention of a model's statistics, from its block names (SE for names outside the scheme)."""
    return block_kind(stats.blocks[-1].name) or "SE"


def model_trend(label: str, stats) -> Finding:
    """One model in one sentence: its kind, the divergence at the end of the first stage and at the deepest block
    with intervals, their ratio, and whether class-specificity rises with depth (readings.rises_with_depth)."""
    first, deep = first_and_deepest(stats)
    b1, bn = stats.block(first), stats.block(deep)
    r, ci = stats.ratio(deep, first)
    rise = rises_with_depth(stats)
    kind = kind_of(stats)
    why = ("the deepest block is not learned" if bn.learned is False else
           f"{first} lies further apart than {deep}" if ci and ci[1] < 1 else "the ratio's interval includes 1")
    verdict = {True: "class-specificity rises with depth (the deepest block learned, the ratio's interval above 1)",
               False: f"no rise with depth shown ({why})",
               None: "no verdict (random weights, or no untrained control measured)"}[rise.holds]
    text = (f"{kind} ({label}): {em(num.units(b1.divergence))}{num.interval(b1.divergence_ci)} at {first}, "
            f"{em(num.units(bn.divergence))}{num.interval(bn.divergence_ci)} at {deep}, {num.ratio(r, ci)}; "
            f"{verdict}.")
    return Finding("kind_rises_with_depth", rise.holds, dict(kind=kind, label=label, **rise.numbers), text)


def against_se(se: Finding, other: Finding) -> Finding:
    """'This kind's gates become class-specific with depth as SE's do': holds when both rise; False when one rises
    and the other does not (said which); None when either has no verdict or neither rises (nothing to match)."""
    kind = other.numbers["kind"]
    nums = dict(kind=kind, se=se.holds, other=other.holds)
    if se.holds is None or other.holds is None:
        return Finding("rises_like_se", None, nums, f"{kind} against SE: no verdict (a model without an untrained "
                                                    "control or intervals).")
    if se.holds and other.holds:
        return Finding("rises_like_se", True, nums, f"{kind}'s gates become class-specific with depth as SE's do.")
    if other.holds:
        return Finding("rises_like_se", False, nums, f"{kind}'s gates become class-specific with depth; SE's do not "
                                                     "here.")
    if se.holds:
        return Finding("rises_like_se", False, nums, f"{kind}'s gates do not become class-specific with depth here, "
                                                     "unlike SE's.")
    return Finding("rises_like_se", None, nums, f"Neither SE's nor {kind}'s gates show a rise with depth here.")


def kinds_findings(models: dict) -> list[Finding]:
    """Every model's trend ({label: ExcitationStats}), then each other kind against SE (when an SE model is there)."""
    trends = [model_trend(label, stats) for label, stats in models.items()]
    se = next((t for t in trends if t.numbers["kind"] == "SE"), None)
    others = [t for t in trends if t.numbers["kind"] != "SE"]
    out = trends + ([against_se(se, t) for t in others] if se is not None else [])
    return out + ([Finding("scale_note", None, {}, SCALE_NOTE)] if len({t.numbers["kind"] for t in trends}) > 1
                  else [])


def kinds_reading(models: dict, markdown: bool = False) -> str:
    return render(kinds_findings(models), markdown)
