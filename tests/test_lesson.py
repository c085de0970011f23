"""The lesson: every sentence that reads numbers, each made to come out both ways; the step in the URL (AppTest)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.views.lesson import STEPS
from se_models.findings import lesson
from se_models.plots import lesson as lf
from tests.apphelp import APP
from tests.fakes import crafted_stats


def _stats(trained: dict[str, float], control: dict[str, float] | None = None, **kw):
    return crafted_stats(trained, control, **kw)


DEPTH = ["SE_2_1", "SE_2_3", "SE_3_3", "SE_4_3"]  # SE_2_3 ends the first stage; SE_2_1 is not "the first block"


# ---- step 1 ------------------------------------------------------------------------------------------------------
def test_se_step_names_the_channels_kept_most_and_least():
    z = np.array([1.0, 2.0, 3.0, 4.0])
    rows, text = lesson.se_step(z, [0.9, 0.05, 0.5, 0.6], "SE_4_3", (8, 8))
    assert [r.channel for r in rows] == [0, 1]
    assert rows[1].scaled == pytest.approx(0.1)  # mean of s·U = s·z
    assert "picks channels" in text and "channel 0" in text and "only 5% of channel 1" in text
    assert "4 feature maps (8×8 values)" in text


def test_se_step_says_when_the_gates_treat_every_channel_alike():
    _, text = lesson.se_step([1.0, 2.0, 3.0], [0.50, 0.52, 0.55], "SE_2_1", (4, 4))
    assert "about alike" in text and "picks channels" not in text


def test_se_step_says_when_there_is_nothing_to_scale():
    _, text = lesson.se_step([0.0, 0.0, 0.0], [0.2, 0.5, 0.8], "SE_5_3", (7, 7))
    assert "U is zero everywhere" in text and "picks channels" not in text


def test_shares_near_the_ends_are_not_rounded_to_all_or_nothing():
    _, text = lesson.se_step([1.0, 1.0], [0.9996, 0.0004], "SE_2_1", (2, 2))
    assert "over 99.9%" in text and "under 0.1%" in text and "100%" not in text


# ---- step 2 ------------------------------------------------------------------------------------------------------
def _pair(shallow_gap: float, deep_gap: float):
    base = np.full(8, 0.5)
    return {"SE_2_3": (base, base + shallow_gap), "SE_4_3": (base, base - deep_gap)}


def test_pair_step_reads_the_two_class_ratio_beside_the_same_class_one():
    two = _pair(0.02, 0.3)  # 15x further apart at depth
    same_alike = lesson.same_pair(("boot 1", "boot 2"), _pair(0.01, 0.14))  # 14x: depth spreads any two images
    dist, text = lesson.pair_step(("a", "b"), two, "SE_2_3", "SE_4_3", same_alike)
    assert dist == {"SE_2_3": pytest.approx(0.02), "SE_4_3": pytest.approx(0.3)}
    assert "15.0× at depth" in text and "14.0× at depth" in text and "boot 1" in text
    assert "The two ratios are alike" in text and "shows no class-specificity" in text
    same_more = lesson.same_pair(("boot 1", "boot 2"), _pair(0.005, 0.07))  # 14x against the two classes' 15x ...
    _, text = lesson.pair_step(("a", "b"), _pair(0.05, 0.2), "SE_2_3", "SE_4_3", same_more)  # ... and 4x here
    assert "The same-class pair changes more with depth" in text and "alike" not in text
    same_flat = lesson.same_pair(("boot 1", "boot 2"), _pair(0.02, 0.04))  # 2x
    _, text = lesson.pair_step(("a", "b"), two, "SE_2_3", "SE_4_3", same_flat)
    assert "The two-class ratio is 7.5× the same-class one" in text and "separates these two classes more" in text
    _, alone = lesson.pair_step(("a", "b"), two, "SE_2_3", "SE_4_3")  # no same-class pair at hand: no claim
    assert "says nothing about class yet" in alone and "separates" not in alone
    assert lesson.class_beyond_depth(15.0, None, "SE_2_3", "SE_4_3").holds is None


def test_the_same_class_baseline_can_come_from_the_class_spread():
    # two independent draws of a normal with sigma: E|a - b| = 2 sigma / sqrt(pi)
    est = lesson.same_class_estimate({"SE_2_3": [0.01, 0.03], "SE_4_3": [0.1, 0.1]})
    assert est["SE_2_3"] == pytest.approx(2 * 0.02 / np.pi ** 0.5)
    assert est["SE_4_3"] == pytest.approx(0.2 / np.pi ** 0.5)
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.5, 0.1, (2, 200_000))
    assert lesson.gate_distance(a, b) == pytest.approx(est["SE_4_3"], rel=0.01)  # the formula, measured
    what, dist = lesson.same_estimate("cat", {"SE_2_3": [0.01, 0.03], "SE_4_3": [0.1, 0.1]}, 1000)
    _, text = lesson.pair_step(("a", "b"), _pair(0.02, 0.3), "SE_2_3", "SE_4_3", (what, dist))
    assert "estimated from the spread of its 1000 test images" in text and "5.0× at depth" in text


# ---- step 3: the same findings as the Classes view ----------------------------------------------------------------
def test_fig6_step_says_what_the_classes_view_says():
    from se_models.findings.readings import specificity_reading

    paper = _stats(dict(zip(DEPTH, [0.03, 0.02, 0.05, 0.2])), dict(zip(DEPTH, [0.002] * 4)))
    text = lesson.fig6_step(paper)
    assert "**10.0× [" in text and "as far apart as SE_2_3's" in text  # the first block is SE_2_3, not SE_2_1
    assert "near-identical beside the deepest block" in text and "rises with depth, as the paper found" in text
    classes = specificity_reading(paper, markdown=True)
    for f in lesson.fig6_findings(paper):  # every sentence of the step is a sentence of the Classes reading
        assert f.markdown in classes
    apart = _stats(dict(zip(DEPTH, [0.03, 0.05, 0.05, 0.2])), dict(zip(DEPTH, [0.002] * 4)))  # 4x: already apart
    text = lesson.fig6_step(apart)
    assert "already apart, unlike the paper's near-identical first stage" in text
    assert "rises with depth, as the paper found" in text
    flat = _stats(dict(zip(DEPTH, [0.2, 0.2, 0.2, 0.2])), dict(zip(DEPTH, [0.002] * 4)))
    assert "about equally far apart" in lesson.fig6_step(flat) and "as the paper found" not in lesson.fig6_step(flat)
    shrinks = _stats(dict(zip(DEPTH, [0.2, 0.2, 0.1, 0.05])), dict(zip(DEPTH, [0.002] * 4)))
    assert "SE_2_3 is further apart than SE_4_3" in lesson.fig6_step(shrinks)
    unlearned = _stats(dict(zip(DEPTH, [0.002, 0.002, 0.002, 0.2])), dict(zip(DEPTH, [0.002, 0.002, 0.002, 0.2])))
    assert "is not class-specific here" in lesson.fig6_step(unlearned)


def test_fig6_step_on_the_untrained_network_claims_nothing_learned():
    rand = _stats(dict(zip(DEPTH, [0.003, 0.004, 0.002, 0.001])), weights="random")
    text = lesson.fig6_step(rand)
    assert "nothing in them is learned" in text and "as the paper found" not in text
    assert "is class-specific:" not in text and "0.25× [" in text
    assert lesson.untrained_note("trained") == "" and lesson.untrained_note("random").startswith("Untrained")


# ---- step 4 ------------------------------------------------------------------------------------------------------
def test_depth_step_every_block_learned_and_the_same_ratio_as_step_3():
    stats = _stats(dict(zip(DEPTH, [0.03, 0.02, 0.1, 0.3])), dict(zip(DEPTH, [0.002] * 4)))
    text = lesson.depth_step(stats)
    assert "from 0.020 at SE_2_3 (end of the first stage) to 0.300 at SE_4_3" in text
    assert "4 of 4 blocks are class-specific" in text and "**15.0× [" in text
    assert "rises with depth" in text
    ratio = next(f for f in lesson.depth_findings(stats) if f.claim == "depth_ratio")
    assert ratio.markdown in lesson.fig6_step(stats)  # one ratio, said the same way in steps 3 and 4


def test_depth_step_when_nothing_is_learned():
    none = lesson.depth_step(_stats(dict(zip(DEPTH, [0.002] * 4)), dict(zip(DEPTH, [0.002] * 4))))
    assert "No block is class-specific (learned) here" in none and "as the paper found" not in none
    rand = lesson.depth_step(_stats(dict(zip(DEPTH, [0.003, 0.004, 0.002, 0.001])), weights="random"))
    assert "nothing in them is learned" in rand and "between 0.0010 and 0.0040" in rand
    assert "class-specific (learned)" not in rand and "blocks are class-specific" not in rand
    nocontrol = lesson.depth_step(_stats(dict(zip(DEPTH, [0.03, 0.02, 0.1, 0.3]))))
    assert "none can be called learned" in nocontrol and "as the paper found" not in nocontrol


def test_depth_step_without_a_chance_level_gives_no_verdict():
    stats = _stats(dict(zip(DEPTH, [0.03, 0.02, 0.1, 0.3])), dict(zip(DEPTH, [0.002] * 4)))
    bare = replace(stats, blocks=[replace(b, divergence_null=None) for b in stats.blocks])
    assert "no block gets a verdict" in lesson.depth_step(bare)


# ---- step 6 ------------------------------------------------------------------------------------------------------
def _spot(side: int, size: int) -> np.ndarray:
    cam = np.zeros((side, side))
    cam[:size, :size] = 1.0
    return cam


def test_cam_step_narrowing_spreading_and_blank_maps():
    _, narrows = lesson.cam_step({"SE_2_3": _spot(10, 8), "SE_4_3": _spot(10, 3)}, "cat")
    assert "64% of the image at SE_2_3 and 9% at SE_4_3: it narrows" in narrows
    _, spreads = lesson.cam_step({"SE_2_3": _spot(10, 3), "SE_4_3": _spot(10, 8)}, "cat")
    assert "spreads out" in spreads
    areas, blank = lesson.cam_step({"SE_2_3": np.zeros((4, 4)), "SE_4_3": _spot(4, 2)}, "cat")
    assert areas["SE_2_3"] is None and "no positive evidence" in blank and "25% of the image" in blank


def test_cam_step_compares_the_stages_on_one_grid():
    """A shallow map with fine scattered evidence and a deep one on a coarse grid: counted pixel by pixel the
    evidence 'spreads out with depth', counted on the deep stage's 8×8 cells it narrows, and that is what is said."""
    shallow = np.zeros((32, 32))
    shallow[0:16:4, 0:32:4] = 1.0  # one hot pixel in 32 of the 64 cells
    deep = np.zeros((32, 32))
    deep[:8, :16] = 1.0  # 8 whole cells
    cams, grids = {"SE_2_3": shallow, "SE_4_3": deep}, {"SE_2_3": (32, 32), "SE_4_3": (8, 8)}
    _, pixelwise = lesson.cam_step(cams, "cat")
    assert "spreads out" in pixelwise
    areas, text = lesson.cam_step(cams, "cat", grids)
    assert areas == {"SE_2_3": pytest.approx(0.5), "SE_4_3": pytest.approx(0.125)}
    assert "on one grid for every stage (8×8 cells" in text and "narrows" in text
    _, odd = lesson.cam_step(cams, "cat", {"SE_2_3": (32, 32), "SE_4_3": (7, 7)})  # cannot pool: name the grids
    assert "part of this difference is the grid" in odd and "7×7 at SE_4_3" in odd


# ---- figures -----------------------------------------------------------------------------------------------------
def test_se_block_figure_marks_the_picked_channels():
    rng = np.random.default_rng(0)
    s, z, u = rng.random(12), rng.random(12), rng.random((12, 4, 4))
    fig = lf.se_block(z, s, u, u * s[:, None, None], lesson.picked_channels(s), "SE_4_3", 400)
    markers = [t for t in fig.data if t.type == "scatter"]
    assert [list(t.x) for t in markers] == [lesson.picked_channels(s)] * 2
    assert sum(t.type == "heatmap" for t in fig.data) == 4 and fig.layout.height == 400


# ---- the app: the step round-trips through the URL -----------------------------------------------------------------
@pytest.mark.parametrize("step", [1, 4, 6, 7, 8])
def test_lesson_step_round_trips_through_the_url(step):
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["view"] = "lesson"
    at.query_params["step"] = str(step)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["step"] == step
    assert at.query_params["step"] == str(step)
    assert any(m.value.startswith(f"### {step} · ") for m in at.markdown)
    last = len(STEPS)
    if step < last:
        at.button(key="lesson_next").click().run()
        assert at.query_params["step"] == str(step + 1)
    at.button(key="lesson_back").click().run()
    assert at.query_params["step"] == str(step if step < last else last - 1)


def test_shared_links_to_the_first_six_steps_keep_their_step():
    """Step 7 (the transplant) was added after Grad-CAM, so a link to step 6 still shows Grad-CAM."""
    assert [STEPS[n][0] for n in range(1, 8)] == ["SE block", "Two images", "Fig. 6", "Depth", "Ablation",
                                                 "Grad-CAM", "Transplant"]


def test_a_bad_step_in_the_url_falls_back_to_the_first():
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["view"] = "lesson"
    at.query_params["step"] = "99"
    at.run()
    assert not at.exception
    assert at.query_params["step"] == "1"
