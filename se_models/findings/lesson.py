"""The guided lesson's sentences: pure functions from one model's own numbers (gates, statistics, tables, maps) to
words, each able to come out either way. Steps 3-5 say exactly what the Classes view says (findings.readings,
findings.ablation): the same first block, verdicts and ratio."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from se_models.findings import ablation as abl
from se_models.findings import numbers as num
from se_models.findings import readings
from se_models.findings.core import Finding, render
from se_models.findings.epochs import epochs_findings
from se_models.findings.image import extreme_channels
from se_models.hooks.naming import stage_index

FLAT_GATES = 0.1     # gates spread over less than this (max - min) treat every channel alike: no selection to tell
CLEAR_RATIO = 1.5    # a distance or ratio this many times another is "more"; within it, "about the same"
HOT = 0.5            # a Grad-CAM cell at or above half the map's maximum counts as evidence

first_and_deepest = readings.first_and_deepest  # the lesson's two blocks are the readings' two blocks


def untrained_note(weights: str | None) -> str:
    """The sentence every step starts with when the weights are random; empty for trained ones."""
    return ("Untrained (random) weights: what the gates do here comes from the architecture and the image, not "
            "from learning. " if weights == "random" else "")


def _times(a: float, b: float) -> float:
    return a / b if b > 0 else float("inf")


def _compare(a: float, b: float) -> str:
    """'more' when a is clearly above b, 'less' when clearly below, else 'same'."""
    r = _times(a, b)
    return "more" if r >= CLEAR_RATIO else "less" if r <= 1 / CLEAR_RATIO else "same"


# ---- step 1: squeeze, excitation, scale on one image -------------------------------------------------------------
@dataclass
class ChannelScale:
    channel: int
    z: float        # squeeze: the mean of U_c
    s: float        # excitation: the gate
    scaled: float   # the mean of s_c * U_c (= s_c * z_c)


def picked_channels(s, k: int = 1) -> list[int]:
    """The k channels with the highest gate, then the k with the lowest (findings.image.extreme_channels)."""
    high, low = extreme_channels(s, k)
    return high + low


def se_step(z, s, block: str, hw: tuple[int, int], k: int = 1) -> tuple[list[ChannelScale], str]:
    """The SE block on one image in two sentences, with the channels the scale step keeps most and least of."""
    z, s = np.asarray(z, dtype=float), np.asarray(s, dtype=float)  # (C,) each
    c = len(s)
    rows = [ChannelScale(ch, float(z[ch]), float(s[ch]), float(s[ch] * z[ch])) for ch in picked_channels(s, k)]
    hi, lo = rows[0], rows[-1]
    text = (f"**Squeeze**: {block} averages each of its {c} feature maps ({hw[0]}×{hw[1]} values) into one number, "
            f"z from {z.min():.2f} to {z.max():.2f}. **Excitation** turns z into {c} gates s from {num.gate(s.min())} "
            f"to {num.gate(s.max())}; ")
    spread = float(s.max() - s.min())
    if not np.abs(z).max() > 0:  # e.g. timm's random init: the last BatchNorm of each residual branch starts at 0
        text += ("but U is zero everywhere (z = 0 in every channel), so **scale** has nothing to scale: this "
                 "initialisation starts every residual branch at zero.")
    elif spread < FLAT_GATES:
        text += (f"they lie within {spread:.2f} of each other, so **scale** treats every channel about alike on this "
                 f"image (channel {hi.channel} keeps {num.share(hi.s)} of its map, channel {lo.channel} "
                 f"{num.share(lo.s)}).")
    else:
        text += (f"**scale** keeps {num.share(hi.s)} of channel {hi.channel} (mean {hi.z:.2f} → {hi.scaled:.2f}) but "
                 f"only {num.share(lo.s)} of channel {lo.channel} ({lo.z:.2f} → {lo.scaled:.2f}): the block picks "
                 "channels.")
    return rows, text


# ---- step 2: two images of two classes, two of one class, a shallow and a deep block -------------------------------
def gate_distance(a, b) -> float:
    """Mean |s_a - s_b| over channels: how differently one block gates two images, in gate units."""
    return float(np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)).mean())


def same_class_estimate(class_stds: dict[str, list[float]]) -> dict[str, float]:
    """Expected mean |s_a - s_b| of two images of one class, per block, from that class's within-class std per
    channel (C,) over the statistics' test images: 2 sigma / sqrt(pi) for two independent draws of a normal."""
    return {b: float(2 / math.sqrt(math.pi) * np.mean(np.asarray(sd, dtype=float))) for b, sd in class_stds.items()}


def same_pair(names: tuple[str, str], gates: dict[str, tuple]) -> tuple[str, dict[str, float]]:
    """A same-class baseline from two real images of one class: (what it is, block -> distance)."""
    return (f"Two images of one class, *{names[0]}* and *{names[1]}*, differ",
            {b: gate_distance(*g) for b, g in gates.items()})


def same_estimate(cls: str, class_stds: dict[str, list[float]], images: int) -> tuple[str, dict[str, float]]:
    """A same-class baseline from the statistics when no two images of one class are at hand: the expected
    distance of two test images of class `cls` (same_class_estimate), said as an estimate."""
    return (f"Two test images of one class ({cls}) differ on average, estimated from the spread of its {images} "
            "test images,", same_class_estimate(class_stds))


def pair_step(names: tuple[str, str], gates: dict[str, tuple], shallow: str, deep: str,
              same: tuple[str, dict[str, float]] | None = None) -> tuple[dict, str]:
    """Distances between two images of different classes at a shallow and a deep block, beside the same for two
    images of one class: deep gates spread any two images further apart, so only the two ratios side by side
    say something about class.

    names: the two images' labels; gates: block -> (s of image A (C,), s of image B (C,)); same: (what the same-class
    baseline is, block -> its distance) from a same-class pair, or from same_class_estimate, or None."""
    d = {blk: gate_distance(*gates[blk]) for blk in (shallow, deep)}
    ds, dd = d[shallow], d[deep]
    r_diff = _times(dd, ds)
    text = (f"The gates of *{names[0]}* and *{names[1]}* (two classes) differ by {num.units(ds)} per channel at "
            f"{shallow} and by {num.units(dd)} at {deep}: {num.times(r_diff)} at depth. ")
    return d, text + render([class_beyond_depth(r_diff, same, shallow, deep)])


def class_beyond_depth(r_diff: float, same: tuple[str, dict[str, float]] | None, shallow: str,
                       deep: str) -> Finding:
    """Does the two-class pair grow with depth more than two images of one class do? holds: its ratio is
    CLEAR_RATIO times the same-class ratio or more; False: the two ratios are alike, or the same-class one is
    clearly larger; None: no same-class baseline at hand, so the ratio says nothing about class."""
    if not same:
        return Finding("class_beyond_depth", None, dict(two_class=r_diff),
                       "No two images of one class are at hand, so this ratio says nothing about class yet: deep "
                       "gates may spread any two images further apart. Choose two images of one class to compare.")
    what, dist = same
    r_same = _times(dist[deep], dist[shallow])
    nums = dict(two_class=r_diff, same_class=r_same)
    text = f"{what} by {num.units(dist[shallow])} and {num.units(dist[deep])}: {num.times(r_same)} at depth. "
    q = _times(r_diff, r_same)
    if q >= CLEAR_RATIO:
        return Finding("class_beyond_depth", True, nums, text + f"The two-class ratio is {num.times(q)} the "
                                                               "same-class one: beyond how it spreads every image, the "
                                                               "deep block separates these two classes more. One pair "
                                                               "proves nothing: step 4 tests it over a whole test set.")
    if q <= 1 / CLEAR_RATIO:
        return Finding("class_beyond_depth", False, nums, text + "The same-class pair changes more with depth than the "
                                                                "two-class pair: measured against two images of one "
                                                                "class, these two classes lie no further apart in the "
                                                                "deep block, so this pair shows no rise of "
                                                                "class-specificity. Step 4 tests class over a whole "
                                                                "test set.")
    return Finding("class_beyond_depth", False, nums, text + f"The two ratios are alike (within {CLEAR_RATIO}×): "
                                                            "depth changes the distance between any two images' gates "
                                                            "about as much, whatever their class, so this pair shows "
                                                            "no class-specificity. Step 4 tests class over a whole "
                                                            "test set.")


# ---- step 3: the paper's Fig. 6 ---------------------------------------------------------------------------------
def fig6_findings(stats) -> list[Finding]:
    """The class curves at the end of the first stage and at the deepest block: the same findings as the Classes
    view's reading (ratio, first-stage size, rise with depth), or what random weights are."""
    if stats.untrained:  # the panels carry each block's divergence; the sentences say what random weights are
        return [readings.untrained(stats), readings.depth_ratio(stats)]
    out = [readings.depth_ratio(stats)]
    first, deep = first_and_deepest(stats)
    if first != deep:
        out.append(readings.first_stage_size(stats))
    return out + [readings.rises_with_depth(stats)]


def fig6_step(stats) -> str:
    return "Each line is one class's average gate per channel. " + render(fig6_findings(stats), markdown=True)


# ---- step 4: class-specificity against depth --------------------------------------------------------------------
def depth_findings(stats) -> list[Finding]:
    """Trained vs the untrained control vs chance, block by block: the readings' verdicts and ratio."""
    blocks = stats.blocks
    first, deep = first_and_deepest(stats)
    b1, bn = stats.block(first), stats.block(deep)
    nulls = [b.divergence_null[1] for b in blocks if b.divergence_null]
    chance = (f"; the 99th percentile of label shuffles (chance) is at most {num.units(max(nulls))} in any block"
              if nulls else "")
    if stats.untrained:
        low, high = min(b.divergence for b in blocks), max(b.divergence for b in blocks)
        span = Finding("span", None, dict(low=low, high=high),
                       f"Its divergence stays between {num.units(low)} and {num.units(high)} at every depth{chance}.")
        return [readings.untrained(stats), span]
    text = (f"The divergence goes from {num.units(b1.divergence)} at {first} (end of the first stage) to "
            f"{num.units(bn.divergence)} at {deep}")
    if stats.control:
        text += f"; the untrained control stays at or below {num.units(max(c.divergence for c in stats.control))}"
    span = Finding("span", None, dict(first=b1.divergence, deep=bn.divergence), text + chance + ".")
    if not nulls:
        return [span, Finding("verdicts", None, {}, "These statistics carry no chance level or intervals, so no "
                                                    "block gets a verdict.")]
    return [span, readings.learned_blocks(stats), readings.depth_ratio(stats), readings.rises_with_depth(stats)]


def depth_step(stats) -> str:
    return render(depth_findings(stats), markdown=True)


# ---- step 5: what the gates buy ---------------------------------------------------------------------------------
def ablation_step(tables: dict, stats=None) -> str:
    """Which stage's input-dependent gates matter (the same rule as the Classes view), and s = 1 everywhere."""
    return render([abl.stage_need(tables), abl.forced_open(tables, stats)], markdown=True)


# ---- step 8: how the gates learned -------------------------------------------------------------------------------
def epochs_step(history) -> str:
    """The heat map of training read aloud: what a cell is, then when each stage became learned (findings.epochs)."""
    intro = (f"Each column is one epoch of training ({history.numbers[0]} = before the first step), each row one SE "
             "block; the colour is how far apart the class curves of Fig. 6 lie, ● marks a learned block. ")
    return intro + render(epochs_findings(history), markdown=True)


# ---- step 6: Grad-CAM across the stages -------------------------------------------------------------------------
def _pooled(cam: np.ndarray, grid: tuple[int, int] | None) -> np.ndarray:
    """A map (H, W) averaged into grid (h, w) cells, when H and W divide evenly; else the map as it is."""
    if grid is None:
        return cam
    (h, w), (H, W) = grid, cam.shape
    if H % h or W % w:
        return cam
    return cam.reshape(h, H // h, w, W // w).mean((1, 3))


def cam_area(cam, grid: tuple[int, int] | None = None) -> float | None:
    """Share of the map at or above half its maximum, counted over `grid` cells when given (so maps of different
    stages compare at one resolution); None for a blank map (no positive evidence)."""
    cam = _pooled(np.asarray(cam, dtype=float), grid)
    peak = cam.max() if cam.size else 0.0
    return None if peak <= 0 else float((cam >= HOT * peak).mean())


def _divides(grid, shape) -> bool:
    return not (shape[0] % grid[0] or shape[1] % grid[1])


def cam_step(cams: dict, target: str, grids: dict[str, tuple[int, int]] | None = None) -> tuple[dict, str]:
    """How much of the image each stage's Grad-CAM marks as evidence for `target`, shallow to deep, measured on one
    grid (the coarsest stage's cells) so that the grid does not decide: a deep 8×8 map's cells are 4×4 pixels,
    and measured pixel by pixel it would look spread out whatever the evidence.

    cams: layer -> map (H, W); grids: layer -> (h, w) of its activations."""
    grids = grids or {}
    coarse = min(grids.values(), key=lambda g: g[0] * g[1]) if grids else None
    shapes = [np.asarray(c).shape for c in cams.values()]
    common = coarse if coarse and all(_divides(coarse, s) for s in shapes) else None
    areas = {layer: cam_area(c, common) for layer, c in cams.items()}
    blank = [layer for layer, a in areas.items() if a is None]
    marked = {layer: a for layer, a in areas.items() if a is not None}
    text = ""
    if blank:
        text += f"At {', '.join(blank)} Grad-CAM finds no positive evidence for “{target}” (a blank map). "
    if len(marked) < 2:
        if marked:
            layer, a = next(iter(marked.items()))
            text += f"At {layer} the evidence covers {num.share(a)} of the image."
        return areas, text.strip()
    (l0, a0), (l1, a1) = list(marked.items())[0], list(marked.items())[-1]
    if common:
        text += f"Counted on one grid for every stage ({common[0]}×{common[1]} cells, the deepest stage's): "
    text += f"the evidence for “{target}” covers {num.share(a0)} of the image at {l0} and {num.share(a1)} at {l1}"
    way = _compare(a1, a0)
    text += (": it narrows onto fewer places with depth." if way == "less" else
             ": it spreads out with depth." if way == "more" else ": about as much at both depths.")
    if not common and grids and l0 in grids and l1 in grids:
        g0, g1 = grids[l0], grids[l1]
        text += (f" Each map comes from its stage's own grid ({g0[0]}×{g0[1]} at {l0}, {g1[0]}×{g1[1]} at {l1}), "
                 "so part of this difference is the grid, not the evidence.")
    return areas, text[0].upper() + text[1:]


def stage_label(block: str) -> str:
    si = stage_index(block)
    return f"stage {si[0]} · {block}" if si else block
