"""The truth matrix: every view × every model state says only what its own numbers say, the same numbers read the
same way everywhere (one first block, one verdict, one ratio), and every finding has a case where it comes out the
other way."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from se_models import ExcitationStats
from se_models.data.datasets import sample_images
from se_models.findings import ablation as abl
from se_models.findings import attention as att
from se_models.findings import channel, epochs, lesson, methods, readings
from se_models.findings import image as img
from se_models.findings import numbers as num
from se_models.findings import transplant as tf
from se_models.stats.stored import reference_path
from se_models.stats.tables import AblationRow, AblationTable, wilson
from tests.apphelp import app, assert_clean
from tests.fakes import crafted_stats, fake_history, fake_ranking

CIFAR, FASHION = "se_resnet20_cifar10", "se_resnet20_fashion_mnist"
# words that claim learning: never said of statistics that cannot show it
LEARNED_WORDS = re.compile(r"is class-specific:|\d+ of \d+ blocks are class-specific|\d+ of \d+ blocks class-specific|"
                           r"as the paper found|comes from training|Class-specificity rises with depth")


def _ref(name: str) -> ExcitationStats:
    return ExcitationStats.load(reference_path(name))


# ---- the statistics a view can be given, in every state ---------------------------------------------------------
def _shuffled() -> ExcitationStats:
    """Labels that mean nothing: no block above chance (crafted p-values well above 0.01)."""
    names = ["SE_2_1", "SE_2_3", "SE_3_3", "SE_4_3"]
    return crafted_stats(dict(zip(names, [0.004, 0.005, 0.006, 0.03])), dict(zip(names, [0.002] * 4)), p=0.4)


STATES = {
    "trained CIFAR-10": lambda: _ref(CIFAR),
    "untrained CIFAR-10": lambda: _ref(CIFAR).control_only(),
    "trained Fashion-MNIST": lambda: _ref(FASHION),
    "untrained Fashion-MNIST": lambda: _ref(FASHION).control_only(),
    "shuffled labels": _shuffled,
    "trained, no control measured": lambda: crafted_stats({"SE_2_3": 0.02, "SE_4_3": 0.2}),
}


@pytest.mark.parametrize("state", list(STATES))
def test_every_reading_reads_its_own_numbers(state):
    stats = STATES[state]()
    first, deep = readings.first_and_deepest(stats)
    assert first == "SE_2_3"  # the end of the first stage, everywhere
    texts = {"classes": readings.specificity_reading(stats), "lesson 3": lesson.fig6_step(stats),
             "lesson 4": lesson.depth_step(stats)}
    learned = sum(bool(b.learned) for b in stats.blocks)
    for where, text in texts.items():
        plain = text.replace("**", "")
        if stats.untrained or learned == 0:
            assert not LEARNED_WORDS.search(plain), (where, plain)
        if stats.untrained:
            assert "nothing in them is learned" in plain, where
        # the one ratio: deepest / end of the first stage, with its interval, where a sentence quotes a ratio
        r, ci = stats.ratio(deep, first)
        if f"as far apart as {first}'s" in plain:
            assert f"{deep}'s class curves lie {num.ratio(r, ci)} as far apart as {first}'s" in plain, where
        assert "p = 0.000" not in plain and "p < 0.001" not in plain
    for b in (stats.block(first), stats.block(deep)):  # the sizes the Classes reading quotes are the blocks' own
        assert f"{num.units(b.divergence)}{num.interval(b.divergence_ci)} at {b.name}" in texts["classes"]
    findings = readings.specificity_findings(stats)
    count = next((f for f in findings if f.claim == "learned_blocks"), None)
    if count is not None and count.holds:
        assert f"{learned} of {len(stats.blocks)} blocks are class-specific" in count.text
    rises = next((f for f in findings if f.claim == "rises_with_depth"), None)
    if rises is not None and rises.holds:
        assert stats.block(deep).learned and ci[0] > 1


def test_the_trained_models_read_the_paper_the_same_way_in_every_view():
    for name, near in ((CIFAR, True), (FASHION, False)):
        stats = _ref(name)
        classes, step3, step4 = (readings.specificity_reading(stats, markdown=True), lesson.fig6_step(stats),
                                 lesson.depth_step(stats))
        ratio = readings.depth_ratio(stats).markdown
        assert ratio in classes and ratio in step3 and ratio in step4  # one ratio, in one wording
        size = readings.first_stage_size(stats)
        assert size.holds is near and size.markdown in classes and size.markdown in step3
        assert readings.rises_with_depth(stats).holds and stats.blocks[-1].learned


# ---- every claim can come out either way --------------------------------------------------------------------------
def _table(mode: str, drops: dict[str, float], n: int = 10_000) -> AblationTable:
    rows = [AblationRow(label, [label], 0.9 - d, None, d + 0.01) for label, d in drops.items()]
    return AblationTable("m", "test", mode, n, {"top1": 0.9, "top5": None}, rows)


STAGES = ["stage 2", "stage 3", "stage 4", "all blocks"]
PAPER = crafted_stats({"SE_2_1": 0.03, "SE_2_3": 0.02, "SE_3_3": 0.05, "SE_4_3": 0.2},
                      {"SE_2_1": 0.002, "SE_2_3": 0.002, "SE_3_3": 0.002, "SE_4_3": 0.002})
APART = crafted_stats({"SE_2_3": 0.08, "SE_4_3": 0.2}, {"SE_2_3": 0.002, "SE_4_3": 0.002})
FLAT = crafted_stats({"SE_2_3": 0.2, "SE_4_3": 0.2}, {"SE_2_3": 0.002, "SE_4_3": 0.002})
UNLEARNED = crafted_stats({"SE_2_3": 0.002, "SE_4_3": 0.002}, {"SE_2_3": 0.002, "SE_4_3": 0.002})
RANDOM = crafted_stats({"SE_2_3": 0.004, "SE_4_3": 0.002}, weights="random")
LATE = {"mean": _table("mean", dict(zip(STAGES, [0.005, 0.01, 0.06, 0.12]))),
        "identity": _table("identity", dict(zip(STAGES, [0.5, 0.4, 0.1, 0.6]))),
        "shuffle": _table("shuffle", dict(zip(STAGES, [0.01, 0.02, 0.1, 0.3])))}
FLATABL = {"mean": _table("mean", dict(zip(STAGES, [0.0, 0.0, 0.0, 0.05]))),
           "identity": _table("identity", dict(zip(STAGES, [0.0, 0.0, 0.0, 0.06]))),
           "shuffle": _table("shuffle", dict(zip(STAGES, [0.0, 0.0, 0.0, 0.05])))}
EARLY = {"mean": _table("mean", dict(zip(STAGES, [0.06, 0.01, 0.005, 0.12])))}
def _transplant(deep: float, shallow: float, n: int = 1000) -> AblationTable:
    """A transplant table: moved shares of the first and the deepest stage against a control of 1 %."""
    rows = [AblationRow(label, [label], 0.5, None, 0.5, moved=m, kept=1 - m, moved_control=0.01, kept_control=0.99,
                        moved_ci=wilson(m, n), kept_ci=wilson(1 - m, n), moved_control_ci=wilson(0.01, n),
                        kept_control_ci=wilson(0.99, n))
            for label, m in (("stage 2", shallow), ("stage 4", deep), ("all blocks", max(deep, shallow)))]
    return AblationTable("m", "test", "transplant", n, {"top1": 0.9, "top5": None}, rows, donors=9)


ECA_RISES = crafted_stats({"ECA_2_3": 0.02, "ECA_4_3": 0.2}, {"ECA_2_3": 0.002, "ECA_4_3": 0.002})
ECA_FLAT = crafted_stats({"ECA_2_3": 0.2, "ECA_4_3": 0.2}, {"ECA_2_3": 0.002, "ECA_4_3": 0.002})
_PAIR = {"SE_2_3": (np.full(4, 0.5), np.full(4, 0.52)), "SE_4_3": (np.full(4, 0.5), np.full(4, 0.8))}
_PROF = {"SE_2_3": {"cat": 0.01, "dog": 0.05}, "SE_4_3": {"cat": 0.3, "dog": 0.1}}

# claim -> (a case where it holds, a case where it does not): each a zero-argument call returning the finding
CASES = {
    "deep_gates_decide": (lambda: tf.transplant_finding(_transplant(0.5, 0.01)),
                          lambda: tf.transplant_finding(_transplant(0.01, 0.01))),
    "gates_move_prediction": (
        lambda: tf.lesson_transplant("cat", "dog", {"cat": 0.9, "dog": 0.1}, {"stage 4": {"cat": 0.2, "dog": 0.8}},
                                     False),
        lambda: tf.lesson_transplant("cat", "dog", {"cat": 0.9, "dog": 0.1}, {"stage 4": {"cat": 0.8, "dog": 0.2}},
                                     False)),
    "kind_rises_with_depth": (lambda: att.model_trend("A", ECA_RISES), lambda: att.model_trend("A", ECA_FLAT)),
    "rises_like_se": (lambda: att.against_se(att.model_trend("A", PAPER), att.model_trend("B", ECA_RISES)),
                      lambda: att.against_se(att.model_trend("A", PAPER), att.model_trend("B", ECA_FLAT))),
    "learned": (lambda: readings.block_verdict(PAPER, "SE_4_3"), lambda: readings.block_verdict(UNLEARNED, "SE_4_3")),
    "depth_ratio": (lambda: readings.depth_ratio(PAPER), lambda: readings.depth_ratio(
        crafted_stats({"SE_2_3": 0.2, "SE_4_3": 0.05}))),
    "first_stage_near_identical": (lambda: readings.first_stage_size(PAPER), lambda: readings.first_stage_size(APART)),
    "rises_with_depth": (lambda: readings.rises_with_depth(PAPER), lambda: readings.rises_with_depth(FLAT)),
    "learned_blocks": (lambda: readings.learned_blocks(PAPER), lambda: readings.learned_blocks(UNLEARNED)),
    "deepest_vs_control": (lambda: readings.deepest_vs_control(PAPER),
                           lambda: readings.deepest_vs_control(UNLEARNED)),
    "probe": (lambda: readings.probe(_with_probe(PAPER, [0.8, 0.9])), lambda: readings.probe(PAPER)),
    "nothing_learned": (lambda: readings.untrained(RANDOM), lambda: readings.untrained(PAPER)),
    "model_summary": (lambda: readings.model_summary("A", PAPER), lambda: readings.model_summary("A", UNLEARNED)),
    "from_training": (lambda: readings.from_training("A", PAPER, "B", PAPER.control_only()),
                      lambda: readings.from_training("A", UNLEARNED, "B", UNLEARNED.control_only())),
    "first_stage_contrast": (lambda: readings.first_stage_contrast("A", APART, "B", PAPER),
                             lambda: readings.first_stage_contrast("A", PAPER, "B", PAPER)),
    "stage_need": (lambda: abl.stage_need(LATE), lambda: abl.stage_need(FLATABL)),
    "specific_is_needed": (lambda: abl.specific_vs_needed(LATE, PAPER), lambda: abl.specific_vs_needed(EARLY, PAPER)),
    "forced_open_is_scale": (lambda: abl.forced_open(LATE, PAPER), lambda: abl.forced_open(FLATABL, PAPER)),
    "wrong_worse_than_none": (lambda: abl.wrong_gates(LATE), lambda: abl.wrong_gates(FLATABL)),
    "correct": (lambda: img.truth_finding("cat", "cat"), lambda: img.truth_finding("cat", "dog")),
    "cam_class_likely": (lambda: img.cam_finding("cat", 0.9, "cat"), lambda: img.cam_finding("dog", 0.003, "cat")),
    "closer_at_depth": (lambda: img.profile_finding({b: {"cat": d["dog"]} for b, d in _PROF.items()}, "cat",
                                                    {"SE_2_3": 0.02, "SE_4_3": 0.2}),
                        lambda: img.profile_finding(_PROF, "cat", {"SE_2_3": 0.02, "SE_4_3": 0.2})),
    "gradcam_depends_on_weights": (
        lambda: methods.sanity_finding({"gradcam": 0.1, "guided-backprop": 0.8}, _NAMES),
        lambda: methods.sanity_finding({"gradcam": 0.8, "guided-backprop": 0.1}, _NAMES)),
    "map_faithful": (lambda: methods.faithfulness_finding("Grad-CAM", 0.1, 0.9, (0.2, 0.4), (0.3, 0.5), 8),
                     lambda: methods.faithfulness_finding("Guided backprop", 0.72, 0.4, (0.24, 0.47), (0.3, 0.5), 8)),
    "class_beyond_depth": (
        lambda: lesson.class_beyond_depth(40.0, lesson.same_pair(("a", "b"), _PAIR), "SE_2_3", "SE_4_3"),
        lambda: lesson.class_beyond_depth(15.0, lesson.same_pair(("a", "b"), _PAIR), "SE_2_3", "SE_4_3")),
    # how the gates learned (tests/test_epochs.py has every way of each)
    "stage_learned": (lambda: epochs.stages_learned(fake_history({"SE_2_3": [False, True]}))[0],
                      lambda: epochs.stages_learned(fake_history({"SE_2_3": [False, False]}))[0]),
    "depth_order": (lambda: epochs.order(fake_history({"SE_2_3": [0, 1, 1], "SE_3_3": [0, 0, 1]})),
                    lambda: epochs.order(fake_history({"SE_2_3": [0, 0, 1], "SE_3_3": [0, 1, 1]}))),
    "half_way": (lambda: epochs.half_way(fake_history(_STEADY, {"SE_2_3": [0, .6, 1], "SE_3_3": [0, .2, 1]})),
                 lambda: epochs.half_way(fake_history(_STEADY, {"SE_2_3": [0, .2, 1], "SE_3_3": [0, .6, 1]}))),
    "growth": (lambda: epochs.growth(fake_history(_STEADY, {"SE_2_3": [0, 0, 0], "SE_3_3": [0, .1, .2]})),
               lambda: epochs.growth(fake_history(_STEADY, {"SE_2_3": [0, 0, 0], "SE_3_3": [.2, .1, .1]}))),
    # from a gate to its images (tests/test_channels.py runs them on real data too)
    "class_dependent": (lambda: channel.class_dependence(fake_ranking(["a"], {"a": 100, "b": 100})),
                        lambda: channel.class_dependence(fake_ranking(["a"], {"a": 100, "b": 100}, p=0.4))),
    "top_class": (lambda: channel.who_is_on_top(fake_ranking(["a"] * 7 + ["b"], {"a": 100, "b": 900})),
                  lambda: channel.who_is_on_top(fake_ranking(["b"] * 5 + ["a"] * 3, {"a": 100, "b": 900}))),
    "weak": (lambda: channel.sample_note(fake_ranking(["a"], {"a": 5, "b": 900})),
             lambda: channel.sample_note(fake_ranking(["a"], {"a": 500, "b": 900}))),
}
_STEADY = {"SE_2_3": [False, True, True], "SE_3_3": [False, True, True]}
_NAMES = {"gradcam": "Grad-CAM", "guided-backprop": "Guided backprop"}


def _with_probe(stats, ci):
    from dataclasses import replace

    return replace(stats, blocks=[replace(b, probe_ci=ci, probe_accuracy=sum(ci) / 2) for b in stats.blocks])


@pytest.mark.parametrize("claim", list(CASES))
def test_every_claim_comes_out_both_ways(claim):
    yes, no = (f() for f in CASES[claim])
    assert yes.claim == no.claim == claim
    assert yes.holds is True and no.holds is False, (yes.text, no.text)
    assert yes.text != no.text


def test_every_claim_the_findings_make_has_a_case_both_ways():
    """A new kind of finding must come with its two cases above."""
    root = Path(__file__).resolve().parent.parent / "se_models" / "findings"
    claims = set(re.findall(r'Finding\(\s*"(\w+)"', "".join(p.read_text() for p in root.glob("*.py"))))
    # numbers said, no claim made (holds is None)
    statements = {"sizes", "span", "verdicts", "block_sizes", "scale_note", "extremes"}
    assert claims - statements <= set(CASES), sorted(claims - statements - set(CASES))


def test_guided_backprop_worse_than_random_is_called_so():
    f = methods.faithfulness_finding("Guided backprop", 0.72, 0.55, (0.24, 0.47), (0.3, 0.5), 8)
    assert "worse than all 8 random maps in deletion" in f.text and "partial" not in f.text and f.holds is False
    one = methods.sanity_finding({"gradcam": 0.1, "guided-backprop": 0.8}, _NAMES, images=1).text
    many = methods.sanity_finding({"gradcam": 0.1, "guided-backprop": 0.8}, _NAMES, images=50).text
    assert "On this one image" in one and "as Adebayo et al. (2018) found" not in one and "no test of it" in one
    assert "Over 50 images" in many and "as Adebayo et al. (2018) found" in many


# ---- the app: views × model states -------------------------------------------------------------------------------
def _texts(at) -> str:
    parts = [m.value for m in at.markdown if not m.value.startswith("<")]
    parts += [i.value for i in at.info] + [c.value for c in at.caption] + [w.value for w in at.warning]
    return "\n".join(parts).replace("**", "")


def _charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _depth_markers(at) -> dict[str, list[str]]:
    out = {}
    for f in _charts(at):
        if "vs depth" in ((f["layout"].get("title") or {}).get("text") or ""):
            for t in f["data"]:
                if t.get("mode") == "lines+markers" and t.get("xaxis") in (None, "x"):
                    out[t["name"]] = t["marker"]["symbol"]
    return out


MODELS = {"trained": CIFAR, "untrained": CIFAR + ":control", "other bundled": FASHION,
          "other untrained": FASHION + ":control"}


def _own_stats(key: str) -> ExcitationStats:
    name, control = key.split(":")[0], key.endswith(":control")
    ref = _ref(name)
    return ref.control_only() if control else ref


@pytest.mark.parametrize("state", list(MODELS))
def test_classes_view_reads_the_chosen_models_own_numbers(state):
    key = MODELS[state]
    at = app(view="classes", model=key)
    assert_clean(at)
    stats = _own_stats(key)
    reading = next(i.value for i in at.info if "Class divergence" in i.value or "untrained network" in i.value)
    assert reading == readings.specificity_reading(stats, markdown=True)
    titles = [a["text"] for f in _charts(at) for a in f["layout"].get("annotations", []) if "divergence" in a["text"]]
    deep = stats.blocks[-1]
    assert f"{deep.name}<br>divergence {num.units(deep.divergence)}" in titles  # the curves' own numbers
    markers = _depth_markers(at)
    if stats.untrained:
        assert not LEARNED_WORDS.search(_texts(at))
        assert all(s == "circle-open" for symbols in markers.values() for s in symbols)
    else:
        trained = next(v for k, v in markers.items() if k.endswith("— trained"))
        assert trained == ["circle" if b.learned else "circle-open" for b in stats.blocks]


@pytest.mark.parametrize("state", list(MODELS))
def test_compare_view_claims_nothing_learned_of_an_untrained_model(state):
    key = MODELS[state]
    at = app(view="compare", model=key)
    assert_clean(at)
    from dashboard.state.cache import model_label

    reading = next(i.value for i in at.info if "Class divergence at the end of the first stage" in i.value)
    a, b_key = _own_stats(key), at.selectbox(key="cmp_b").value
    label_a = model_label(key)
    assert at.selectbox(key="cmp_a").value == key
    assert reading == readings.compare_reading(label_a, a, model_label(b_key), _own_stats(b_key),
                                               at.selectbox(key="cmp_block").value, markdown=True)
    if a.untrained:
        assert f"{label_a}: random weights, nothing learned" in reading
        mine = {k: v for k, v in _depth_markers(at).items() if k.startswith(label_a.rsplit(" · ", 1)[0])}
        assert mine and all(s == "circle-open" for symbols in mine.values() for s in symbols)


@pytest.mark.parametrize("state", list(MODELS))
@pytest.mark.parametrize("step", [1, 2, 3, 4, 5, 6])
def test_every_lesson_step_says_only_what_its_model_shows(state, step):
    key = MODELS[state]
    at = app(view="lesson", step=str(step), model=key)
    assert_clean(at)
    text = _texts(at)
    stats = _own_stats(key)
    if stats.untrained:
        assert not LEARNED_WORDS.search(text), text
        assert "Untrained (random) weights" in text or "untrained network" in text
    if step == 2:
        assert "(two classes)" in text or "same class" in text
        assert any(w in text for w in ("of one class", "says nothing about class yet"))
    if step == 3:
        assert lesson.fig6_step(stats).replace("**", "") in text
    if step == 4:
        assert lesson.depth_step(stats).replace("**", "") in text
        if not stats.untrained:
            assert readings.depth_ratio(stats).text in text  # the ratio of step 3 and of the Classes view
    if step == 5 and not stats.untrained:
        from se_models.stats.stored import stored_tables

        assert abl.stage_need(stored_tables(key.split(":")[0])).text in text  # what the Classes view says
        assert "SE removed" not in text
    if step == 6:
        assert "probability" in text and ("one grid" in text or "own grid" in text or "no positive" in text)


@pytest.mark.parametrize("state", ["trained", "untrained", "other bundled"])
def test_image_view_states_only_this_images_truth(state):
    at = app(view="image", model=MODELS[state])
    assert_clean(at)
    text = _texts(at)
    # the main Grad-CAM map names its class's probability
    assert any("probability) at SE_" in str(i.proto) for i in at.get("image"))
    true = [m for m in at.markdown if m.value.startswith("True class")]
    assert len(true) <= 1
    if true:
        predicted = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]["y"][-1]
        assert true[0].value.endswith("correct.") == (f"**{predicted}**" in true[0].value)
    assert "s = 1.00" not in text and "s=1.00" not in text


def test_a_photo_of_several_things_is_never_called_misclassified():
    at = app(view="image", photos=["dog.jpg"])
    assert_clean(at)
    assert not any(m.value.startswith("True class") for m in at.markdown)
    assert "misclassified" not in _texts(at)


def test_an_unlikely_grad_cam_class_is_said_to_be_unlikely():
    at = app(view="image")
    probs = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    # the least likely class of the top 5 shown
    least = probs["y"][0]
    at.selectbox(key="target").select(least).run()
    assert_clean(at)
    text = _texts(at)
    p = float(probs["text"][0].rstrip("%")) / 100
    if p < img.UNLIKELY:
        assert f"The model gives “{least}”" in text and "not strong evidence" in text
    else:
        assert "not strong evidence" not in text


def _folder(tmp_path: Path, classes: int, per_class: int, shuffle: bool) -> Path:
    """Fashion-MNIST samples into DIR/<class>/: the true classes, or their files shuffled across the folders."""
    by_class: dict[str, list[str]] = {}
    for path, cls in sample_images("fashion-mnist"):
        by_class.setdefault(cls, []).append(path)
    chosen = sorted(by_class)[:classes]
    files = [p for c in chosen for p in by_class[c][:per_class]]
    order = np.random.default_rng(3).permutation(len(files)) if shuffle else np.arange(len(files))
    for i, j in enumerate(order):
        dest = tmp_path / chosen[i // per_class]
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(files[j], dest / f"{i:03d}.png")
    return tmp_path


@pytest.mark.slow
def test_classes_view_on_shuffled_labels_and_on_one_class(tmp_path, monkeypatch):
    monkeypatch.setenv("SE_EXPLORER_ROOTS", str(tmp_path))
    shuffled = _folder(tmp_path / "shuffled", 3, 25, shuffle=True)
    at = app(view="classes", model=FASHION, source="folder")
    at.number_input(key="per_class").set_value(25).run()
    at.text_input(key="folder").set_value(str(shuffled)).run()
    assert_clean(at)
    reading = next(i.value for i in at.info if "Class divergence" in i.value).replace("**", "")
    assert not LEARNED_WORDS.search(reading) and "not distinguishable from chance" in reading
    one = tmp_path / "one"
    (one / "Bag").mkdir(parents=True)
    for k, (path, _) in enumerate(p for p in sample_images("fashion-mnist") if p[1] == "Bag"):
        if k < 5:
            shutil.copy(path, one / "Bag" / f"{k}.png")
    at.text_input(key="folder").set_value(str(one)).run()
    assert not at.exception
    assert any("at least 2 classes" in e.value for e in at.error)
    assert not any("Class divergence" in i.value for i in at.info)  # no reading without statistics


@pytest.mark.slow
@pytest.mark.parametrize("view", [{"view": "lesson", "step": "3"}, {"view": "lesson", "step": "4"},
                                  {"view": "classes"}, {"view": "image"}])
def test_a_random_weight_timm_model_claims_nothing(view):
    from tests.apphelp import zoo_app

    at = zoo_app(model="timm:regnety_002", weights="random", **view)
    assert_clean(at)
    text = _texts(at)
    assert not LEARNED_WORDS.search(text), text
    if view.get("view") == "lesson":
        assert "needs the trained network" in text


def test_class_colours_stay_when_the_data_source_changes():
    """Fashion-MNIST's reference statistics list the classes in label order, its bundled samples in folder order:
    each class keeps its colour anyway."""
    def colours(at):
        curves = next(f for f in _charts(at) if "per channel and class" in f["layout"]["title"]["text"])
        return {t["name"]: t["line"]["color"] for t in curves["data"] if t.get("name") not in (None, "all")}

    at = app(view="classes", model=FASHION)
    reference = colours(at)
    at.selectbox(key="source").select("bundled").run()
    at.number_input(key="per_class").set_value(4).run()
    assert_clean(at)
    bundled = colours(at)
    assert set(bundled) == set(reference) and bundled == reference
