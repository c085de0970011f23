"""What the ablation tables say: which stage's input-dependent gating the prediction needs, against the noise."""
from __future__ import annotations

from se_models.hooks.naming import stage_index
from se_models.stats.tables import drop_pp, noise_pp


def _stage_of(block: str) -> str | None:
    si = stage_index(block)
    return f"stage {si[0]}" if si else None


def ablation_sentence(tables: dict, stats=None) -> str:
    """Which stage's input-dependent gating matters most (mean mode), whether the most class-specific block is the
    one the prediction needs, and what s = 1 adds; every claim from the numbers, differences against ±2 SE."""
    parts = []
    mean = tables.get("mean")
    if mean:
        stages = [r for r in mean.rows if r.label.startswith("stage ")]
        ranked = sorted(stages, key=lambda r: drop_pp(mean, r), reverse=True)
        top = ranked[0] if ranked else None
        clear = True  # the top stage stands out from the next by more than the noise
        if top is None or drop_pp(mean, top) <= noise_pp(mean, top):
            parts.append(f"Replacing any one stage's gates by their mean gate costs no more than the noise "
                         f"(±{noise_pp(mean, top or mean.rows[-1]):.1f} points on {mean.images} images): no stage's "
                         "input-dependent gating is needed on its own here.")
        else:
            text = (f"Input-dependent gating matters most in **{top.label}**: replacing its gates by their mean gate "
                    f"costs **{drop_pp(mean, top):.1f} points** of top-1 (±{noise_pp(mean, top):.1f})")
            if len(ranked) > 1:
                second = ranked[1]
                gap = drop_pp(mean, top) - drop_pp(mean, second)
                clear = gap > noise_pp(mean, top)
                text += (f", clearly more than {second.label} ({drop_pp(mean, second):.1f})" if
                         gap > noise_pp(mean, top) else f", about as much as {second.label} "
                         f"({drop_pp(mean, second):.1f}, within the noise)")
            parts.append(text + ".")
        if stats is not None and stats.blocks and top is not None:
            spec = max(stats.blocks, key=lambda b: b.divergence)
            deepest = stats.blocks[-1].name
            where = "the deepest block" if spec.name == deepest else f"not the deepest block ({deepest})"
            own = next((r for r in mean.rows if r.label == spec.name), None)
            need = max((r for r in mean.rows if r.label in {b.name for b in stats.blocks}),
                       key=lambda r: drop_pp(mean, r), default=None)
            if own is not None and need is not None:  # per-block rows: compare blocks directly
                same = need.label == spec.name or drop_pp(mean, need) - drop_pp(mean, own) <= noise_pp(mean, need)
                parts.append(f"The most class-specific block, {spec.name} ({where}, divergence "
                             f"{spec.divergence:.3f}), costs {drop_pp(mean, own):.1f} points on its own; the block the "
                             f"prediction needs most is {need.label} ({drop_pp(mean, need):.1f}), so the most "
                             f"class-specific gates {'are' if same else 'are not'} the ones the prediction needs most.")
            else:
                stage = _stage_of(spec.name)
                row = next((r for r in stages if r.label == stage), None)
                if row is not None:
                    same = row is top or drop_pp(mean, top) - drop_pp(mean, row) <= noise_pp(mean, top)
                    verdict = ("are also the ones the prediction needs most" if same and clear else
                               "are among those the prediction needs most, but the stages cannot be told apart "
                               "here" if same else "are not the ones the prediction needs most")
                    parts.append(f"The most class-specific block, {spec.name} ({where}, divergence "
                                 f"{spec.divergence:.3f}), sits in {stage}, whose mean-gate ablation costs "
                                 f"{drop_pp(mean, row):.1f} points: the most class-specific gates {verdict}.")
    ident = tables.get("identity")
    if ident and mean:
        a_i, a_m = ident.row("all blocks"), mean.row("all blocks")
        level = f" (trained gates average {sum(b.mean for b in stats.blocks) / len(stats.blocks):.2f})" \
            if stats is not None and stats.blocks else ""
        if drop_pp(ident, a_i) > 2 * max(drop_pp(mean, a_m), 0) + noise_pp(ident, a_i):
            parts.append(f"Forcing s = 1 in every block costs **{drop_pp(ident, a_i):.1f} points**, far more than "
                         f"the mean gate ({drop_pp(mean, a_m):.1f}): most of that loss is the changed scale{level}, "
                         "which the following layers never saw in training, not the lost attention.")
        else:
            parts.append(f"Forcing s = 1 in every block costs {drop_pp(ident, a_i):.1f} points, about what the mean "
                         f"gate costs ({drop_pp(mean, a_m):.1f}): the scale of the gates matters little here.")
    shuf = tables.get("shuffle")
    if shuf and mean:
        a_s, a_m = shuf.row("all blocks"), mean.row("all blocks")
        worse = drop_pp(shuf, a_s) - drop_pp(mean, a_m) > noise_pp(shuf, a_s)
        parts.append(f"Another image's gates cost {drop_pp(shuf, a_s):.1f} points over all blocks"
                     + (", more than the mean gate: a wrong image's attention is worse than none." if worse else
                        ", not clearly more than the mean gate."))
    return " ".join(parts)
