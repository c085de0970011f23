"""What the Methods view and the sanity command say about saliency maps: the randomisation check (Adebayo et al.
2018) and deletion / insertion against random maps, each read from its numbers, one image called one image."""
from __future__ import annotations

from se_models.findings.core import Finding

SAME_WITHIN = 0.1  # Spearman difference below which the maps cannot order two methods (maps are 28-32 px)


def sanity_finding(spearman: dict[str, float], names: dict[str, str], images: int = 1) -> Finding:
    """Which method's map changes most and least when the weights are randomised (Spearman ρ of trained vs random
    maps: one image's, or medians over `images`), and whether Grad-CAM vs guided backprop come out as Adebayo et al.
    (2018) reported. holds: Grad-CAM changes more (their result); False: the other way; None: within SAME_WITHIN.
    One image is never called a replication: it is read as one image."""
    ranked = sorted(spearman.items(), key=lambda kv: kv[1])
    (most, lo), (least, hi) = ranked[0], ranked[-1]
    which = "On this one image" if images == 1 else f"Over {images} images (median ρ)"
    text = (f"{which}, with random weights {names[most]}'s map changes most (Spearman {lo:.2f} with the trained map) "
            f"and {names[least]}'s least ({hi:.2f}).")
    holds = None
    if {"gradcam", "guided-backprop"} <= spearman.keys():
        gc, gb = spearman["gradcam"], spearman["guided-backprop"]
        if gb - gc >= SAME_WITHIN:
            holds = True
            text += " Grad-CAM depends on the learned weights more than guided backprop does, "
            text += ("as Adebayo et al. (2018) found: a near-identical map for a random network shows the image, not "
                     "what it learned." if images > 1 else
                     "the direction Adebayo et al. (2018) reported over many images; one image is no test of it "
                     "(`python -m se_models sanity` gives medians over a folder).")
        elif gc - gb >= SAME_WITHIN:
            holds = False
            text += (" Here guided backprop changes more than Grad-CAM, unlike Adebayo et al. (2018)"
                     + (": on these images, guided backprop depends on the learned weights more." if images > 1 else
                        " — on this one image; the medians over many images are the fairer test."))
        else:
            text += (f" Grad-CAM and guided backprop change about equally (ρ within {SAME_WITHIN})"
                     + (" on these images." if images > 1 else
                        " on this image; the medians over many images are the fairer test."))
    return Finding("gradcam_depends_on_weights", holds, dict(spearman=dict(spearman), images=images), text)


def faithfulness_finding(name: str, deletion: float, insertion: float, random_deletion: tuple[float, float],
                         random_insertion: tuple[float, float], n_random: int) -> Finding:
    """One method's deletion and insertion AUCs against the range of `n_random` random maps (the chance baseline).
    Deletion: lower is better; insertion: higher is better. holds: better than every random map both ways; False:
    worse than every random map in either, or better in neither; None: better in one way only (partial)."""
    (dlo, dhi), (ilo, ihi) = random_deletion, random_insertion
    better = {"deletion": deletion < dlo, "insertion": insertion > ihi}
    worse = {"deletion": deletion > dhi, "insertion": insertion < ilo}
    nums = (f"deletion AUC {deletion:.2f} vs random {dlo:.2f}–{dhi:.2f}, insertion {insertion:.2f} vs "
            f"{ilo:.2f}–{ihi:.2f}")
    data = dict(deletion=deletion, insertion=insertion, random_deletion=random_deletion,
                random_insertion=random_insertion, n_random=n_random)
    bad = [w for w, v in worse.items() if v]
    if bad:
        good = [w for w, v in better.items() if v]
        return Finding("map_faithful", False, data,
                       f"{name} is worse than all {n_random} random maps in {' and '.join(bad)} ({nums})"
                       + (f", though better in {good[0]}" if good else "")
                       + ": on this image the map points away from what the prediction rests on.")
    if all(better.values()):
        return Finding("map_faithful", True, data, f"{name} beats all {n_random} random maps both ways ({nums}): the "
                                                   "map points at what the prediction rests on.")
    if any(better.values()):
        way = "deletion" if better["deletion"] else "insertion"
        return Finding("map_faithful", None, data, f"{name} beats all {n_random} random maps only in {way}, and "
                                                   f"lies within their range in the other ({nums}): partial evidence "
                                                   "that the map shows what the prediction rests on.")
    return Finding("map_faithful", False, data, f"{name} lies within the range of {n_random} random maps both ways "
                                                f"({nums}): on this image the map does no better than chance.")
