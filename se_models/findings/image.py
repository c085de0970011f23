"""What the Image view says about one image: every sentence computed from this image's numbers."""
from __future__ import annotations

import numpy as np

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


def _gate(s: float) -> str:
    """'s = 0.57': two decimals, three near the ends, bounds beyond (0.9996 is not 1, 0.0004 is not 0)."""
    if 0.01 <= s <= 0.99:
        return f"s = {s:.2f}"
    return f"s = {s:.3f}" if 0.001 <= s <= 0.999 else ("s < 0.001" if s < 0.5 else "s > 0.999")


def _share(s: float) -> str:
    if 0.01 <= s <= 0.99:
        return f"{s:.0%}"
    if 0.001 <= s <= 0.999:
        return f"{s:.1%}"
    return "< 0.1%" if s < 0.5 else "> 99.9%"


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


def profile_sentence(distances: dict[str, dict[str, float]], cls: str) -> str | None:
    """What is true of this image against the class line, from the mean |s - class mean| per block.

    distances: block (shallow to deep) -> class -> distance (se_models.analysis.class_distances). None when the
    class has no mean in at least two blocks (nothing to compare)."""
    blocks = [b for b, d in distances.items() if cls in d]
    if len(blocks) < 2:
        return None
    first, last = blocks[0], blocks[-1]
    d0, d1 = distances[first][cls], distances[last][cls]
    if abs(d1 - d0) < 0.005:
        where = "about as close to the class line in its deepest block as in its shallowest"
    elif d1 < d0:
        where = "closer to the class line in its deepest block than in its shallowest"
    else:
        where = "closer to the class line in its shallowest block than in its deepest"
    text = (f"Mean |s − class mean| for this image: {d0:.3f} at {first}, {d1:.3f} at {last} — its gates lie "
            f"{where}.")
    ranks = {b: 1 + sum(v < distances[b][cls] for v in distances[b].values()) for b in (first, last)}
    k = len(distances[last])
    if k > 1:
        text += (f" Among the {k} class means, the {cls} one is the {_ordinal(ranks[first])} at {first} and the "
                 f"{_ordinal(ranks[last])} at {last}" + (": the deep gates point to this class." if ranks[last] == 1
                                                          else "."))
    return text


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
