"""The lesson: every sentence that reads numbers, each made to come out both ways; the step in the URL (AppTest)."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.views.lesson import STEPS
from se_models.findings import lesson
from se_models.plots import lesson as lf
from tests.conftest import APP


@dataclass
class Block:  # the fields of se_models.stats.BlockStats that the lesson reads
    name: str
    divergence: float
    probe_accuracy: float | None = 0.5
    chance: float = 0.1
    divergence_p: float | None = None
    class_specific: bool | None = None
    divergence_ci: list[float] | None = None
    divergence_null: list[float] | None = None


@dataclass
class Stats:
    blocks: list[Block]
    control: list[Block] | None = None
    weights: str = "trained"
    extra: dict = field(default_factory=dict)

    def block(self, name: str) -> Block:
        return next(b for b in self.blocks if b.name == name)


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


@pytest.mark.parametrize("shallow_gap, deep_gap, words", [
    (0.02, 0.3, "15.0× more"), (0.3, 0.02, "the shallow block separates them more"),
    (0.1, 0.12, "about as much at both depths")])
def test_pair_step_compares_shallow_and_deep_distances(shallow_gap, deep_gap, words):
    dist, text = lesson.pair_step(("a", "b"), _pair(shallow_gap, deep_gap), "SE_2_3", "SE_4_3")
    assert dist["SE_2_3"] == pytest.approx(shallow_gap) and dist["SE_4_3"] == pytest.approx(deep_gap)
    assert words in text


# ---- step 3 ------------------------------------------------------------------------------------------------------
def test_fig6_step_growth_with_depth_or_not():
    grows = Stats([Block("SE_2_3", 0.02), Block("SE_4_3", 0.2)])
    flat = Stats([Block("SE_2_3", 0.2), Block("SE_4_3", 0.21)])
    shrinks = Stats([Block("SE_2_3", 0.2), Block("SE_4_3", 0.05)])
    assert "10.0× further apart in the deep block, as in the paper" in lesson.fig6_step(grows, "SE_2_3", "SE_4_3")
    assert "about as far apart at both depths" in lesson.fig6_step(flat, "SE_2_3", "SE_4_3")
    assert "shallow block's curves are further apart" in lesson.fig6_step(shrinks, "SE_2_3", "SE_4_3")


@pytest.mark.parametrize("specific, p, words", [
    (True, 0.0001, "already differs by class here (p < 0.001"),
    (False, 0.4, "is class-agnostic"),
    (None, None, "no verdict")])
def test_first_stage_sentence_follows_the_verdict(specific, p, words):
    stats = Stats([Block("SE_2_3", 0.05, divergence_p=p, class_specific=specific), Block("SE_4_3", 0.2)])
    assert words in lesson.first_stage_sentence(stats, "SE_2_3")


def test_untrained_weights_are_said():
    stats = Stats([Block("SE_2_3", 0.02), Block("SE_4_3", 0.2)], weights="random")
    assert lesson.fig6_step(stats, "SE_2_3", "SE_4_3").startswith("Untrained (random) weights")
    assert lesson.untrained_note("trained") == ""


# ---- step 4 ------------------------------------------------------------------------------------------------------
def _depth(trained: list[float], control: list[float], verdicts: bool = True) -> Stats:
    def blk(i, d, specific):
        extra = dict(divergence_ci=[d * 0.9, d * 1.1], divergence_null=[d / 20, d / 10], divergence_p=0.001,
                     class_specific=specific) if verdicts else {}
        return Block(f"SE_{i + 2}_1", d, **extra)
    return Stats([blk(i, d, d > 2 * c) for i, (d, c) in enumerate(zip(trained, control))],
                 [blk(i, c, False) for i, c in enumerate(control)])


def test_depth_step_every_block_above_the_control():
    text = lesson.depth_step(_depth([0.03, 0.1, 0.3], [0.002, 0.002, 0.002]))
    assert "Every trained block lies above the control, already the first (SE_2_1), 10.0× more" in text
    assert "3 of 3 blocks are class-specific" in text


def test_depth_step_some_blocks_or_none_above_the_control():
    some = lesson.depth_step(_depth([0.002, 0.1, 0.3], [0.002, 0.002, 0.002]))
    assert "2 of 3 trained blocks lie above the control, the first at SE_3_1" in some
    none = lesson.depth_step(_depth([0.002, 0.002], [0.002, 0.002]))
    assert "No trained block rises above the control" in none and "0 of 2 blocks are class-specific" in none


def test_depth_step_without_intervals_gives_no_verdict():
    text = lesson.depth_step(_depth([0.03, 0.3], [0.002, 0.002], verdicts=False))
    assert "no block gets a verdict" in text


def test_above_control_uses_intervals_when_both_have_them():
    # point values 3× apart, but the intervals overlap: not clearly above
    control = Block("a", 0.1, divergence_ci=[0.05, 0.2])
    assert not lesson.above_control(Block("a", 0.3, divergence_ci=[0.05, 0.5]), control)
    assert lesson.above_control(Block("a", 0.3, divergence_ci=[0.25, 0.35]), control)


# ---- step 5 ------------------------------------------------------------------------------------------------------
def _table(mode: str, drops: dict[str, float], changed: float = 0.01, images: int = 10000):
    rows = [SimpleNamespace(label=label, top1=0.9 - d, changed=changed) for label, d in drops.items()]
    t = SimpleNamespace(mode=mode, images=images, baseline={"top1": 0.9}, rows=rows)
    t.row = lambda label: next(r for r in rows if r.label == label)
    return t


def test_ablation_step_names_the_stage_that_matters_or_says_none_does():
    big = {"mean": _table("mean", {"stage 2": 0.001, "stage 4": 0.08, "all blocks": 0.2}),
           "identity": _table("identity", {"stage 4": 0.3, "all blocks": 0.5})}
    text = lesson.ablation_step(big)
    assert "costs most in **stage 4**: 8.0 points" in text and "from 90.0% to 40.0%" in text
    noise = {"mean": _table("mean", {"stage 2": 0.0005, "stage 4": 0.001, "all blocks": 0.002}, images=500)}
    assert "no more than the noise" in lesson.ablation_step(noise)


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


# ---- figures -----------------------------------------------------------------------------------------------------
def test_se_block_figure_marks_the_picked_channels():
    rng = np.random.default_rng(0)
    s, z, u = rng.random(12), rng.random(12), rng.random((12, 4, 4))
    fig = lf.se_block(z, s, u, u * s[:, None, None], lesson.picked_channels(s), "SE_4_3", 400)
    markers = [t for t in fig.data if t.type == "scatter"]
    assert [list(t.x) for t in markers] == [lesson.picked_channels(s)] * 2
    assert sum(t.type == "heatmap" for t in fig.data) == 4 and fig.layout.height == 400


# ---- the app: the step round-trips through the URL -----------------------------------------------------------------
@pytest.mark.parametrize("step", [1, 4, 6, 7])
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
