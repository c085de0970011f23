"""One channel's gate over a data set in words: which classes open and close it, whether its class means differ
beyond label shuffles (said as "above chance", never as learned), and whom its highest and lowest gates belong to."""
from __future__ import annotations

from collections import Counter

from se_models.findings import numbers as num
from se_models.findings.core import Finding, em, render
from se_models.stats.significance import ALPHA, WEAK_PER_CLASS


def extremes(r) -> Finding:
    """The classes whose images open the gate most and least, on average."""
    means = r.class_means
    hi, lo = max(means, key=means.get), min(means, key=means.get)
    nums = dict(open_class=hi, open_mean=means[hi], closed_class=lo, closed_mean=means[lo])
    return Finding("extremes", None, nums,
                   f"{r.block} channel {r.channel} opens most, on average, for {em(hi)} "
                   f"({num.gate_eq(means[hi])}) and least for {em(lo)} ({num.gate_eq(means[lo])}).")


def class_dependence(r) -> Finding:
    """Whether the channel's class means lie further apart than label shuffles put them (permutation p < ALPHA)."""
    p = num.p_value(r.divergence_p, r.permutations)
    holds = bool(r.divergence_p < ALPHA)
    nums = dict(divergence=r.divergence, null_p99=r.divergence_null[1], p=r.divergence_p)
    head = (f"Its class means lie {em(num.units(r.divergence))} apart (the spread of Fig. 6's curves at this "
            f"channel); shuffled labels reach {num.units(r.divergence_null[1])} (99th percentile, {p})")
    if holds:
        return Finding("class_dependent", True, nums, f"{head}: the gate depends on the class above chance.")
    return Finding("class_dependent", False, nums, f"{head}: not distinguishable from chance, so over these images "
                                                   "the gate does not tell the classes apart.")


def who_is_on_top(r) -> Finding:
    """The commonest class among the k highest gates, against its share of the data (what a draw regardless of
    class would give)."""
    if not r.top:
        return Finding("top_class", None, {}, "")
    cls, n = Counter(x.cls for x in r.top).most_common(1)[0]
    share = r.counts[cls] / sum(r.counts.values())
    expected = share * len(r.top)
    nums = dict(cls=cls, count=n, listed=len(r.top), share=share, expected=expected)
    return Finding("top_class", n > expected, nums,
                   f"{em(n)} of the {len(r.top)} highest gates are {cls} images; {cls} is {num.share(share)} of "
                   f"the data, so a draw regardless of class would give {expected:.1f}.")


def sample_note(r) -> Finding:
    """Few images in some class: the class means and the test are weak."""
    smallest = min(r.counts.values())
    if smallest >= WEAK_PER_CLASS:
        return Finding("weak", False, dict(smallest=smallest), "")
    return Finding("weak", True, dict(smallest=smallest),
                   f"Only {smallest} images in the smallest class: class means this rough can hide a real difference.")


def channel_findings(r) -> list[Finding]:
    """Everything the channel view and the CLI say about one ChannelRanking, in reading order."""
    return [extremes(r), class_dependence(r), who_is_on_top(r), sample_note(r)]


def channel_reading(r, markdown: bool = False) -> str:
    return render(channel_findings(r), markdown)
