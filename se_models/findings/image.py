"""What the Image view says about one image: every sentence computed from this image's numbers."""
from __future__ import annotations

import math

import numpy as np

from se_models.findings import numbers as num
from se_models.findings.core import Finding, em
from se_models.hooks.naming import last_of_each_stage

CLEAR_RATIO = 1.5  # one distance this many times another is "closer"; within it, "about as close"
UNLIKELY = 0.05    # a class below this probability is one the model does not see in the image

# Words for a gate value s (the share of a channel's values that pass), used wherever the Image view names one.
# (lower bound, words); a sigmoid gate lies in (0, 1), so no band says "amplified".
GATE_BANDS = [(0.9, "passes almost unchanged"), (0.7, "is mildly scaled down"), (0.4, "is markedly scaled down"),
              (0.1, "is strongly suppressed"), (0.0, "is nearly switched off")]


def gate_words(s: float) -> str:
    """The band of one gate value, e.g. 0.95 -> 'passes almost unchanged', 0.57 -> 'is markedly scaled down'."""
    return next(words for lower, words in GATE_BANDS if s >= lower)


def gate_band(s: float) -> str:
    """A short table label for a gate: the band's words without the verb."""
    return gate_words(s).removeprefix("is ").removeprefix("passes ")


def extreme_channels(s, k: int) -> tuple[list[int], list[int]]:
    """The k channels with the highest gates (least scaled down) and the k with the lowest, none in both; ties in
    channel order. The one choice of "the channels the gate keeps most and least" for every view and figure."""
    order = np.argsort(np.asarray(s, dtype=float), kind="stable")
    high = [int(c) for c in order[::-1][:k]]
    return high, [int(c) for c in order[:k] if int(c) not in high]


_gate = num.gate_eq
_share = num.share


def scale_sentence(s: list[float]) -> str:
    """Step 3 of the panel: the highest and the lowest gate in words that follow the numbers, then what the next
    layer sees (the relative scaling), since a gate below 1 never amplifies in absolute terms."""
    s = np.asarray(s, dtype=float)
    hi, lo = int(s.argmax()), int(s.argmin())
    text = (f"Channel {hi} has the highest gate ({_gate(s[hi])}): it {gate_words(s[hi])}, keeping "
            f"{_share(s[hi])} of each value. Channel {lo} has the lowest ({_gate(s[lo])}): it "
            f"{gate_words(s[lo])}, to {_share(s[lo])} — compare its two rows above. ")
    text += ("No gate reaches 1, so no channel is amplified: " if s.max() < 1 else "")
    ratio = s[hi] / max(s[lo], 1e-12)
    if ratio < 1.1:
        text += (f"the gates are nearly equal (highest / lowest = {ratio:.3f}), so this block barely changes how the "
                 "channels weigh against each other for this image.")
    else:
        times = "over 100×" if ratio > 100 else f"{ratio:.1f}×"
        text += (f"what the next layer sees is the relative scaling — against channel {lo}, channel {hi} now weighs "
                 f"{times} what it did in U.")
    return text


def _ordinal(rank: int) -> str:
    """1 -> 'nearest', 2 -> '2nd nearest', 23 -> '23rd nearest', 112 -> '112th nearest'."""
    if rank == 1:
        return "nearest"
    suffix = "th" if rank % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(rank % 10, "th")
    return f"{rank}{suffix} nearest"


def typical_distance(class_stds) -> float:
    """About how far (mean |s - class mean| over channels) a single image of a class lies from its class line:
    sqrt(2/pi) times the mean within-class std (the mean absolute deviation of a normal), from the statistics'
    class_stds (C,)."""
    return float(math.sqrt(2 / math.pi) * np.mean(np.asarray(class_stds, dtype=float)))


def profile_finding(distances: dict[str, dict[str, float]], cls: str,
                    typical: dict[str, float] | None = None) -> Finding | None:
    """What is true of this image against its class line. Raw distances of blocks whose gates spread differently
    do not compare, so each block's distance is read against how far a typical image of the class lies there
    (typical: block -> typical_distance) and against the other classes' lines (its rank).

    distances: block (shallow to deep) -> class -> distance (se_models.explain.analysis.class_distances); compared:
    the end of the first stage (SE_2_3) and the deepest block. None when the class has no mean in at least two
    blocks (nothing to compare)."""
    blocks = [b for b, d in distances.items() if cls in d]
    if len(blocks) < 2:
        return None
    first, last = last_of_each_stage(blocks)[0], blocks[-1]  # the end of the first stage, as in every reading
    if first == last:
        first = blocks[0]
    d0, d1 = distances[first][cls], distances[last][cls]
    text = f"Mean |s − class mean| for this image: {num.units(d0)} at {first}, {num.units(d1)} at {last}"
    holds = None
    nums = dict(first=first, last=last, d_first=d0, d_last=d1)
    if typical and typical.get(first) and typical.get(last):
        r0, r1 = d0 / typical[first], d1 / typical[last]
        nums.update(rel_first=r0, rel_last=r1)
        text += (f", {num.times(r0)} and {num.times(r1)} a typical {cls} image's distance there "
                 f"({num.units(typical[first])}, {num.units(typical[last])})")
        if r1 * CLEAR_RATIO <= r0:
            holds, where = True, "closer to its class line in the deepest block than in the shallowest"
        elif r0 * CLEAR_RATIO <= r1:
            holds, where = False, "closer to its class line in the shallowest block than in the deepest"
        else:
            where = "about as typical of the class at both depths"
        text += f": for each block's own spread, its gates lie {where}."
    else:
        text += (" (the two blocks' gates spread differently, so these raw distances do not compare across "
                 "depth).")
    ranks = {b: 1 + sum(v < distances[b][cls] for v in distances[b].values()) for b in (first, last)}
    k = len(distances[last])
    nums.update(rank_first=ranks[first], rank_last=ranks[last])
    if k > 1:
        text += (f" Among the {k} class means, the {cls} one is the {_ordinal(ranks[first])} at {first} and the "
                 f"{_ordinal(ranks[last])} at {last}" + (": the deep gates point to this class." if ranks[last] == 1
                                                          else "."))
    return Finding("closer_at_depth", holds, nums, text)


def profile_sentence(distances: dict[str, dict[str, float]], cls: str,
                     typical: dict[str, float] | None = None) -> str | None:
    f = profile_finding(distances, cls, typical)
    return f.text if f else None


def truth_finding(true_class: str | None, predicted: str) -> Finding | None:
    """'True class: cat — correct': only for an image that has one true class (a test sample, a one-subject photo
    of a class the model knows); None otherwise, so a photo of several things is never called misclassified."""
    if not true_class:
        return None
    right = predicted == true_class
    return Finding("correct", right, dict(true=true_class, predicted=predicted),
                   f"True class: {em(true_class)} — " + ("correct." if right else f"misclassified as {predicted}."))


def cam_label(target: str, probability: float) -> str:
    """What a Grad-CAM map shows, with its class's probability: 'Evidence for “cat” (87% probability)'."""
    return f"Evidence for “{target}” ({num.share(probability)} probability)"


def cam_finding(target: str, probability: float, predicted: str) -> Finding:
    """Whether the class a Grad-CAM map explains is one the model sees in the image; when it is not, the warning
    (every map is scaled to its own maximum, so the map of a 0.3 % class looks as bright as the prediction's)."""
    likely = bool(probability >= UNLIKELY or target == predicted)
    text = "" if likely else (f"The model gives “{target}” {num.share(probability)} probability: each map is scaled "
                              "to its own maximum, so a bright map for so unlikely a class is not strong evidence (the "
                              f"prediction is “{predicted}”).")
    return Finding("cam_class_likely", likely, dict(target=target, probability=probability), text)


def input_caption(imagenet: bool, control: bool, photo: bool, side: int, hint: str | None) -> str | None:
    """The line under an ImageNet model's input: whether this photo is a fair test of what the model learned."""
    if not imagenet:
        return None
    if control:
        return (f"A {'real photo' if photo else 'picture'} at {side}×{side} px, but this model has random weights: "
                "nothing was learned from ImageNet, so no image is a test of training here. The squeeze → excitation "
                "→ scale mechanics below are still real.")
    expected = f" It shows roughly: *{hint}*." if hint else ""
    if photo:
        return (f"A real photo at {side}×{side} px: a fair test image for a model trained on ImageNet's photos."
                f"{expected}")
    return "Any photo is a fair test image for a model trained on ImageNet's 1000 classes."
