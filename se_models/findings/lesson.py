"""The guided lesson's sentences: pure functions from one model's own numbers (gates, statistics, tables, maps) to
words, each able to come out either way."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from se_models.hooks.naming import last_of_each_stage, stage_index

FLAT_GATES = 0.1     # gates spread over less than this (max - min) treat every channel alike: no selection to tell
CLEAR_RATIO = 1.5    # a distance or divergence this many times another is "more"; within it, "about the same"
HOT = 0.5            # a Grad-CAM pixel at or above half the map's maximum counts as evidence


def untrained_note(weights: str | None) -> str:
    """The sentence every step starts with when the weights are random; empty for trained ones."""
    return ("Untrained (random) weights: what the gates do here comes from the architecture and the image, not "
            "from learning. " if weights == "random" else "")


def _pct(x: float) -> str:
    """A share in words that never rounds a gate of 0.9996 to 100 % or 0.0004 to 0 %."""
    if 0.01 <= x <= 0.99:
        return f"{x:.0%}"
    return f"{x:.1%}" if 0.001 <= x <= 0.999 else ("under 0.1%" if x < 0.5 else "over 99.9%")


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
    """The k channels with the highest gate, then the k with the lowest: the ones the scale step changes most apart."""
    order = np.argsort(np.asarray(s, dtype=float), kind="stable")
    high = [int(c) for c in order[::-1][:k]]
    return high + [int(c) for c in order[:k] if int(c) not in high]


def se_step(z, s, block: str, hw: tuple[int, int], k: int = 1) -> tuple[list[ChannelScale], str]:
    """The SE block on one image in two sentences, with the channels the scale step keeps most and least of."""
    z, s = np.asarray(z, dtype=float), np.asarray(s, dtype=float)  # (C,) each
    c = len(s)
    rows = [ChannelScale(ch, float(z[ch]), float(s[ch]), float(s[ch] * z[ch])) for ch in picked_channels(s, k)]
    hi, lo = rows[0], rows[-1]
    text = (f"**Squeeze**: {block} averages each of its {c} feature maps ({hw[0]}×{hw[1]} values) into one number, "
            f"z from {z.min():.2f} to {z.max():.2f}. **Excitation** turns z into {c} gates s from {s.min():.3f} to "
            f"{s.max():.3f}; ")
    spread = float(s.max() - s.min())
    if not np.abs(z).max() > 0:  # e.g. timm's random init: the last BatchNorm of each residual branch starts at 0
        text += ("but U is zero everywhere (z = 0 in every channel), so **scale** has nothing to scale: this "
                 "initialisation starts every residual branch at zero.")
    elif spread < FLAT_GATES:
        text += (f"they lie within {spread:.2f} of each other, so **scale** treats every channel about alike on this "
                 f"image (channel {hi.channel} keeps {_pct(hi.s)} of its map, channel {lo.channel} {_pct(lo.s)}).")
    else:
        text += (f"**scale** keeps {_pct(hi.s)} of channel {hi.channel} (mean {hi.z:.2f} → {hi.scaled:.2f}) but only "
                 f"{_pct(lo.s)} of channel {lo.channel} ({lo.z:.2f} → {lo.scaled:.2f}): the block picks channels.")
    return rows, text


# ---- step 2: two images, shallow and deep -----------------------------------------------------------------------
def gate_distance(a, b) -> float:
    """Mean |s_a - s_b| over channels: how differently one block gates two images, in gate units."""
    return float(np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)).mean())


def pair_step(names: tuple[str, str], gates: dict[str, tuple], shallow: str, deep: str) -> tuple[dict, str]:
    """Distances between two images' gate vectors at a shallow and a deep block, and what their ratio says.

    names: the two images' labels; gates: block -> (s of image A (C,), s of image B (C,))."""
    d = {blk: gate_distance(*gates[blk]) for blk in (shallow, deep)}
    ds, dd = d[shallow], d[deep]
    text = (f"The gates of *{names[0]}* and *{names[1]}* differ by {ds:.3f} per channel at {shallow} and by "
            f"{dd:.3f} at {deep}")
    way = _compare(dd, ds)
    if way == "more":
        text += (f", {_times(dd, ds):.1f}× more: the deep block gates the two images differently, the shallow one "
                 "much alike.")
    elif way == "less":
        text += (f": the shallow block separates them more ({_times(ds, dd):.1f}×) than the deep one — for this pair "
                 "the deep gates do not depend more on the image.")
    else:
        text += f": about as much at both depths (within {CLEAR_RATIO}×), so this pair shows no growth with depth."
    return d, text + " One pair proves nothing: step 4 tests it over a whole test set."


# ---- step 3: the paper's Fig. 6 ---------------------------------------------------------------------------------
def fig6_blocks(names: list[str]) -> tuple[str, str]:
    """The end of the first stage (the paper's SE_2_3) and the deepest SE block."""
    return last_of_each_stage(names)[0], names[-1]


def _verdict(b) -> bool | None:
    return getattr(b, "class_specific", None)


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def first_stage_sentence(stats, first: str) -> str:
    """Whether the first stage's gates already differ by class, from its verdict (None: the statistics carry none)."""
    b = stats.block(first)
    verdict = _verdict(b)
    probe = (f"a linear probe reads the class from its gates with {_pct(b.probe_accuracy)} accuracy, chance "
             f"{_pct(b.chance)}" if b.probe_accuracy is not None else "")
    if verdict is None:
        return (f"These statistics carry no chance baseline, so no verdict on whether {first} already differs by "
                f"class{' (' + probe + ')' if probe else ''}.")
    if verdict:
        return (f"Unlike the paper's early layers, {first} already differs by class here ({_p(b.divergence_p)}, "
                f"above the untrained control{'; ' + probe if probe else ''}).")
    return (f"As in the paper, {first} is class-agnostic: its class curves are not distinguishable from chance "
            f"({_p(b.divergence_p)}).")


def fig6_step(stats, shallow: str, deep: str) -> str:
    """The class curves at a shallow and a deep block: how far apart, the ratio, and the first stage's verdict."""
    bs, bd = stats.block(shallow), stats.block(deep)
    text = untrained_note(stats.weights)
    text += (f"Each line is one class's average gate per channel: the curves lie {bs.divergence:.3f} apart at "
             f"{shallow}, {bd.divergence:.3f} at {deep}")
    way = _compare(bd.divergence, bs.divergence)
    if way == "more":
        text += f" — {_times(bd.divergence, bs.divergence):.1f}× further apart in the deep block, as in the paper. "
    elif way == "less":
        text += ": the shallow block's curves are further apart, unlike the paper. "
    else:
        text += f": about as far apart at both depths (within {CLEAR_RATIO}×), unlike the paper. "
    return text + first_stage_sentence(stats, shallow)


# ---- step 4: class-specificity against depth --------------------------------------------------------------------
def _ci(b) -> list[float] | None:
    return getattr(b, "divergence_ci", None)


def above_control(b, c) -> bool:
    """The trained block's divergence clearly above the control's: intervals apart where both have one, else the
    point values more than CLEAR_RATIO apart."""
    bi, ci = _ci(b), _ci(c)
    if bi and ci:
        return bi[0] > ci[1]
    return _compare(b.divergence, c.divergence) == "more"


def depth_step(stats) -> str:
    """Trained against the untrained control and the chance level, block by block, shallow to deep."""
    blocks = stats.blocks
    text = untrained_note(stats.weights)
    first, deep = blocks[0], blocks[-1]
    text += f"Divergence goes from {first.divergence:.3f} at {first.name} to {deep.divergence:.3f} at {deep.name}"
    if stats.control:
        above = [b.name for b, c in zip(blocks, stats.control) if above_control(b, c)]
        top = max(c.divergence for c in stats.control)
        text += f"; the untrained control stays at or below {top:.3f}. "
        if not above:
            text += "No trained block rises above the control: training did not make the gates class-specific. "
        elif len(above) == len(blocks):
            text += (f"Every trained block lies above the control, already the first ({first.name}), "
                     f"{_times(deep.divergence, first.divergence):.1f}× more at the deepest. ")
        else:
            text += f"{len(above)} of {len(blocks)} trained blocks lie above the control, the first at {above[0]}. "
    else:
        text += ". "
    nulls = [b.divergence_null[1] for b in blocks if getattr(b, "divergence_null", None)]
    if nulls:
        spec = sum(bool(_verdict(b)) for b in blocks)
        text += (f"Label shuffles (chance) reach at most {max(nulls):.3f}; {spec} of {len(blocks)} blocks are "
                 "class-specific (p < 0.01 and above the control).")
    else:
        text += "These statistics carry no chance level or intervals, so no block gets a verdict."
    return text


# ---- step 5: what the gates buy ---------------------------------------------------------------------------------
def ablation_step(tables: dict) -> str:
    """Top-1 lost per stage with the gates replaced by their mean (mode mean), against ±2 SE; and s = 1 everywhere."""
    from se_models.stats.tables import drop_pp, noise_pp

    parts = []
    mean = tables.get("mean")
    if mean:
        stages = [r for r in mean.rows if r.label.startswith("stage ")]
        if stages:
            top = max(stages, key=lambda r: drop_pp(mean, r))
            if drop_pp(mean, top) > noise_pp(mean, top):
                parts.append(f"Giving every image the same mean gates costs most in **{top.label}**: "
                             f"{drop_pp(mean, top):.1f} points of top-1 (±{noise_pp(mean, top):.1f}), so its "
                             "input-dependent gates matter for the prediction.")
            else:
                parts.append(f"Giving every image the same mean gates in any one stage costs no more than the noise "
                             f"(at most {drop_pp(mean, top):.1f} ± {noise_pp(mean, top):.1f} points): no stage's "
                             "input-dependent gating is needed on its own.")
    ident = tables.get("identity")
    if ident:
        row = ident.row("all blocks")
        parts.append(f"Removing every SE block (s = 1) takes top-1 from {ident.baseline['top1']:.1%} to "
                     f"{row.top1:.1%} on {ident.images} images, though part of that is the changed scale, which the "
                     "next layers never saw in training.")
    return " ".join(parts)


# ---- step 6: Grad-CAM across the stages -------------------------------------------------------------------------
def cam_area(cam) -> float | None:
    """Share of the image at or above half the map's maximum; None for a blank map (no positive evidence)."""
    cam = np.asarray(cam, dtype=float)
    peak = cam.max() if cam.size else 0.0
    return None if peak <= 0 else float((cam >= HOT * peak).mean())


def cam_step(cams: dict, target: str) -> tuple[dict, str]:
    """How much of the image each stage's Grad-CAM marks as evidence for `target`, shallow to deep."""
    areas = {layer: cam_area(c) for layer, c in cams.items()}
    blank = [layer for layer, a in areas.items() if a is None]
    marked = {layer: a for layer, a in areas.items() if a is not None}
    text = ""
    if blank:
        text += f"At {', '.join(blank)} Grad-CAM finds no positive evidence for “{target}” (a blank map). "
    if len(marked) < 2:
        if marked:
            layer, a = next(iter(marked.items()))
            text += f"At {layer} the evidence covers {_pct(a)} of the image."
        return areas, text.strip()
    (l0, a0), (l1, a1) = list(marked.items())[0], list(marked.items())[-1]
    text += f"The evidence for “{target}” covers {_pct(a0)} of the image at {l0} and {_pct(a1)} at {l1}"
    way = _compare(a1, a0)
    text += (": it narrows onto fewer places with depth." if way == "less" else
             ": it spreads out with depth." if way == "more" else ": about as much at both depths.")
    return areas, text


def stage_label(block: str) -> str:
    si = stage_index(block)
    return f"stage {si[0]} · {block}" if si else block
