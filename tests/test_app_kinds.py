"""Kinds of channel attention in the app and in words: the Compare view's kinds section (SE, ECA and CBAM trained on
the same data is a data change: a card, weights and reference statistics in assets/models), the reading of each
kind against SE both ways, the depth chart's shared axis; the Image and Classes views on random-weight timm models
of other kinds; the transplant panel and the lesson's transplant step."""
from __future__ import annotations

import json
import shutil

import pytest
import streamlit as st
import torch
from safetensors.torch import save_file
from streamlit.testing.v1 import AppTest

from se_models import config, excitation_stats, load_model
from se_models.findings.attention import kinds_reading, model_trend
from se_models.models import registry
from se_models.models.architectures import build
from se_models.models.card import ModelCard
from se_models.plots.figures import specificity_vs_depth
from tests.apphelp import APP, app
from tests.fakes import crafted_stats

SE = "se_resnet20_fashion_mnist"


def stats(kind: str, first: float, deep: float, learned: bool = True):
    """Crafted statistics of one kind: divergence at the end of the first stage and at the deepest block, the
    control far below (learned) or level with them (not learned)."""
    ctrl = 0.002 if learned else None
    return crafted_stats({f"{kind}_2_3": first, f"{kind}_4_3": deep},
                         {f"{kind}_2_3": ctrl or first, f"{kind}_4_3": ctrl or deep})


RISES, FLAT = dict(first=0.02, deep=0.2), dict(first=0.2, deep=0.2)


def test_each_kind_is_read_against_se_both_ways():
    assert "ECA's gates become class-specific with depth as SE's do" in kinds_reading(
        {"a": stats("SE", **RISES), "b": stats("ECA", **RISES)})
    text = kinds_reading({"a": stats("SE", **RISES), "b": stats("ECA", first=0.2, deep=0.05),
                          "c": stats("CBAM", **RISES, learned=False)})
    assert "ECA's gates do not become class-specific with depth here, unlike SE's" in text
    assert "ECA (b): 0.200" in text and "SE_2_3 lies further apart" not in text and "ECA_2_3 lies further apart" in text
    assert "CBAM's gates do not become class-specific with depth here, unlike SE's" in text
    assert "the deepest block is not learned" in text
    assert "Neither SE's nor ECA's" in kinds_reading({"a": stats("SE", **FLAT), "b": stats("ECA", **FLAT)})
    assert "SE's do not here" in kinds_reading({"a": stats("SE", **FLAT), "b": stats("ECA", **RISES)})
    assert "compare" in text and "not by raw divergence" in text
    random = crafted_stats({"ECA_2_3": 0.02, "ECA_4_3": 0.2}, weights="random")
    assert "ECA against SE: no verdict" in kinds_reading({"a": stats("SE", **RISES), "b": random})
    assert "**0.020**" in kinds_reading({"a": stats("SE", **RISES)}, markdown=True)


@pytest.fixture
def kind_zoo(tmp_path, monkeypatch):
    """A models folder holding the bundled Fashion-MNIST SE-ResNet-20 and an ECA and a CBAM version of it (random
    weights standing in for the trained ones), each with a card and reference statistics over the bundled samples
    (5 per class, with the untrained control): what the lead adds once the trained models exist."""
    folder = tmp_path / "models"
    folder.mkdir()
    for f in config.MODELS_DIR.glob(f"{SE}.*"):
        shutil.copy(f, folder / f.name)
    monkeypatch.setattr(config, "MODELS_DIR", folder)
    monkeypatch.setattr(registry, "MODELS_DIR", folder)
    card = json.loads((folder / f"{SE}.json").read_text())
    for arch in ("eca_resnet20", "cbam_resnet20"):
        name = f"{arch}_fashion_mnist"
        (folder / f"{name}.json").write_text(json.dumps({**card, "name": name, "architecture": arch}))
        torch.manual_seed(3)
        model = build(arch, 10, 1)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(folder / f"{name}.safetensors"))
        stats = excitation_stats(load_model(name), "bundled", per_class=5, permutations=50, bootstrap=50,
                                 control=load_model(name, weights="random"))
        stats.save(folder / f"{name}.reference.json")
    st.cache_data.clear()
    st.cache_resource.clear()
    yield folder
    st.cache_data.clear()
    st.cache_resource.clear()


def test_a_trained_eca_and_cbam_model_are_a_data_change_for_compare(kind_zoo):
    assert ModelCard.load(kind_zoo / "eca_resnet20_fashion_mnist.json").architecture == "eca_resnet20"
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update(view="compare", model=SE)
    at.run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    assert any(m.value.startswith("### Kinds of channel attention on Fashion-MNIST") for m in at.markdown)
    reading = next(i.value for i in at.info if "ECA (" in i.value)
    for kind, deep in (("SE", "SE_4_3"), ("ECA", "ECA_4_3"), ("CBAM", "CBAM_4_3")):
        assert f"{kind} (" in reading and f"at {deep}" in reading
    chart = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                 if any("ECA" in (t.get("name") or "") for t in json.loads(c.proto.spec)["data"]))
    xs = {tuple(t["x"]) for t in chart["data"] if t.get("x")}
    assert ("2_1", "2_2", "2_3", "3_1", "3_2", "3_3", "4_1", "4_2", "4_3") in xs  # one axis for every kind
    # model B an ECA model: the same block, side by side, is matched by position
    at.selectbox(key="cmp_b").set_value("eca_resnet20_fashion_mnist").run()
    assert not at.exception, [e.value for e in at.exception]
    panels = [a["text"] for c in at.get("plotly_chart") for a in json.loads(c.proto.spec)["layout"].get("annotations",
                                                                                                     [])]
    assert any(t.startswith("ECA_4_3") for t in panels) and any(t.startswith("SE_4_3") for t in panels), panels


def test_model_trend_reads_real_statistics(kind_zoo):
    from se_models.findings.readings import rises_with_depth
    from se_models.stats.excitation import ExcitationStats

    ref = ExcitationStats.load(kind_zoo / "eca_resnet20_fashion_mnist.reference.json")
    t = model_trend("ECA", ref)
    assert t.numbers["kind"] == "ECA" and (t.numbers["first"], t.numbers["deep"]) == ("ECA_2_3", "ECA_4_3")
    assert t.holds == rises_with_depth(ref).holds and t.numbers["ci"] is not None
    fig = specificity_vs_depth(ref)  # one kind: the blocks keep their names on the axis
    assert tuple(fig.data[0].x)[-1] == "ECA_4_3"


def tiny_timm_app(model: str, view: str, **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update(view=view, model=model, weights="random", **params)
    at.run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    return at


def test_image_view_on_cbam_draws_the_spatial_gate_beside_the_feature_maps():
    at = tiny_timm_app("cbam_resnet18", "image")
    assert at.selectbox(key="block").value == "CBAM_5_2"
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    spatial = next(s for s in specs if "spatial gate" in s["layout"]["title"]["text"])
    assert spatial["data"][0]["z"]["shape"] == "7, 7"  # the grid of stage 5 at 224 px
    assert any("Right: CBAM's spatial gate" in c.value for c in at.caption)
    assert any("CBAM's channel gate" in c.value for c in at.caption)
    assert any("**2 · Excitation**, CBAM's channel gate" in m.value for m in at.markdown)


@pytest.mark.parametrize("model, first", [("timm:ecaresnet26t", "ECA_2_1"), ("gc_resnet18", "GC_2_1")])
def test_image_view_on_other_kinds(model, first):
    at = tiny_timm_app(model, "image")
    assert at.selectbox(key="block").options[0] == first
    assert not any("spatial gate" in json.loads(c.proto.spec)["layout"]["title"]["text"]
                   for c in at.get("plotly_chart"))


def test_the_weights_box_of_a_built_model_offers_no_pretrained_weights():
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update(view="image", model="cbam_resnet18")
    at.run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    weights = at.radio(key="weights")
    assert "pretrained" not in weights.options and weights.value == "random"


def test_classes_panel_shows_the_stored_transplant_and_the_lesson_step(tmp_path, monkeypatch):
    """A stored transplant (crafted: deep gates move 60 % of 30 images to the donor class, the untrained control's
    move nothing) appears in the Classes view with its reading; the lesson's step 7 puts a donor class's gates into
    the image. (What the transplant computes is tested in test_transplant.py.)"""
    from se_models.stats.ablation import stage_rows
    from se_models.stats.tables import INTERVAL, AblationRow, AblationTable, load_tables, save_tables, wilson

    def table(weights: str, deep: float) -> AblationTable:
        n, rows = 30, []
        for label, blocks in stage_rows(list(load_model(SE).se_blocks)):
            moved = deep if label in ("stage 4", "all blocks") else 0.01
            rows.append(AblationRow(label, blocks, 0.9 - moved, None, moved, moved=moved, kept=1 - moved,
                                    moved_control=0.01, kept_control=0.97, moved_ci=wilson(moved, n),
                                    kept_ci=wilson(1 - moved, n), moved_control_ci=wilson(0.01, n),
                                    kept_control_ci=wilson(0.97, n)))
        return AblationTable(SE, "bundled samples", "transplant", n, {"top1": 0.9, "top5": None}, rows,
                             weights=weights, donors=9, interval=INTERVAL)

    folder = tmp_path / "models"
    folder.mkdir()
    for f in config.MODELS_DIR.glob(f"{SE}.*"):
        shutil.copy(f, folder / f.name)
    monkeypatch.setattr(config, "MODELS_DIR", folder)
    monkeypatch.setattr(registry, "MODELS_DIR", folder)
    tables = load_tables(folder / f"{SE}.ablation.json")
    tables["transplant"], tables["transplant_control"] = table("trained", 0.6), table("random", 0.01)
    save_tables(tables, folder / f"{SE}.ablation.json")
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(APP, default_timeout=180)
        at.query_params.update(view="classes", model=SE)
        at.run()
        assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
        reading = next(i.value for i in at.info if "Gate transplant over 30 images" in i.value)
        assert "In the untrained network (random weights)" in reading  # the control's own sentence follows
        assert any("### Do the gates' classes decide? The gate transplant" in m.value for m in at.markdown)
        chart = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                     if "moved to the donor class" in json.loads(c.proto.spec)["layout"]["title"]["text"])
        assert [t["name"] for t in chart["data"]] == ["another class's gates: moved to it",
                                                      "own class's gates (control)", "untrained network: moved"]
        # the accuracy chart keeps its three modes only
        acc = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                   if "switched off" in json.loads(c.proto.spec)["layout"]["title"]["text"])
        assert len(acc["data"]) == 3

        lesson = AppTest.from_file(APP, default_timeout=180)
        lesson.query_params.update(view="lesson", step="7", model=SE)
        lesson.run()
        assert not lesson.exception and not lesson.error
        text = next(m.value for m in lesson.markdown if "This model has no cat and dog" in m.value)
        assert "With the average gates of" in text and "Over 30 test images and every pair of classes" in text
        assert lesson.query_params["step"] == "7"
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()


def test_cli_kinds_reads_the_reference_statistics(kind_zoo, capsys):
    from se_models import cli

    models = [SE, "eca_resnet20_fashion_mnist", "cbam_resnet20_fashion_mnist"]
    assert cli.main(["kinds", *models, "--markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| model | kind | first stage | deepest |")
    assert "| eca_resnet20_fashion_mnist | ECA | ECA_2_3 " in out and "| cbam_resnet20_fashion_mnist | CBAM |" in out
    from se_models.stats.excitation import ExcitationStats
    from se_models.stats.stored import find_reference

    refs = {m: ExcitationStats.load(find_reference(m)) for m in models}
    assert kinds_reading(refs, markdown=True) in out and "ECA (eca_resnet20_fashion_mnist): **" in out
    assert cli.main(["kinds", SE, "timm:ecaresnet26t"]) == 2
    assert "timm:ecaresnet26t has no reference statistics" in capsys.readouterr().err


def test_compare_pairs_a_model_with_another_of_its_own_kind_by_default():
    """With SE, ECA and CBAM models shipped, model B starts as the other SE model (CIFAR-10 vs Fashion-MNIST SE),
    not the first name in the list; a kind without a partner gets another trained model."""
    at = app(timeout=120, view="compare")
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="cmp_b").value == "se_resnet20_fashion_mnist"
    b = app(timeout=120, view="compare", model="eca_resnet20_fashion_mnist").selectbox(key="cmp_b").value
    assert b != "eca_resnet20_fashion_mnist" and not b.endswith(":control")
