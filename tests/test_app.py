"""The Streamlit app under AppTest (widgets driven by key), plus its pure helpers in the dashboard modules."""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

import se_models
from dashboard import exports, wording
from dashboard.panels import stats as statspanel
from dashboard.state import imageitems, modelkeys
from se_models.data.datasets import photos, sample_images
from se_models.errors import CheckpointError, NoSEBlocksError, WeightsUnavailable
from se_models.findings import readings
from se_models.hooks.naming import has_stages
from se_models.models.card import ModelCard
from se_models.models.registry import load_card
from se_models.models.zoo import ZOO, zoo_card
from se_models.stats.stored import reference_path
from tests.apphelp import ZOO_MODEL, app, assert_clean, figures, titles, trace_names, zoo_app
from tests.fakes import pattern, png_bytes
from tests.probes import PassCounter, hook_count

DEFAULT = se_models.DEFAULT_MODEL


@pytest.fixture(scope="module")
def reference():
    path = reference_path(DEFAULT)
    assert path.exists(), f"no reference statistics for {DEFAULT}: they ship in assets/models"
    return se_models.ExcitationStats.load(path)


# ---- the app ----------------------------------------------------------------------------------------------------
def test_starts_on_default_model_and_analyses_an_image():
    at = app()
    assert_clean(at)
    assert at.selectbox(key="model").value == DEFAULT
    assert len(at.get("image")) >= 4  # input, model view, Grad-CAM, one per stage
    assert {"Top-5 prediction"} <= set(titles(at))
    assert any("excitation in every SE block" in t for t in titles(at))
    assert any("highest gates (▲ least scaled down)" in t for t in titles(at))
    assert not any("amplified" in t for t in titles(at))
    assert any("What happened here" in m.value for m in at.markdown)
    # the profile caption states this image's measured distances to the class line, not a general claim
    assert any("Mean |s − class mean| for this image" in c.value for c in at.caption)


def test_grad_cam_layer_and_opacity_changes_run_no_model_pass():
    from dashboard.state import cache

    at = app()
    counter = PassCounter(cache.model(DEFAULT).model)
    try:
        at.selectbox(key="cam_layer").select("SE_2_3").run()
        at.slider(key="alpha").set_value(0.8).run()
        assert_clean(at)
        assert (counter.forward, counter.backward) == (0, 0)
        assert any("Evidence for" in str(i.proto) and "SE_2_3" in str(i.proto) for i in at.get("image"))
    finally:
        counter.remove()


def test_the_libraries_are_frozen_once_so_the_collection_after_each_rerun_skips_them(monkeypatch):
    import gc

    import timm
    import torch

    from dashboard.state import warm

    at = app()
    # the later views' libraries, imported in the background after the first run, are frozen at the start of the
    # next run, and what torch imports lazily on that run's first use of them at the start of the one after
    warm.start().join(timeout=300)
    at.run()
    at.run()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    walked = {id(o) for o in gc.get_objects()}  # what a full collection walks: the frozen objects are not in it
    assert id(torch.nn.functional.relu) not in walked and id(timm.create_model) not in walked
    freezes, freeze = [], gc.freeze
    monkeypatch.setattr(gc, "freeze", lambda: (freezes.append(1), freeze())[1])
    at.slider(key="alpha").set_value(0.8).run()
    assert_clean(at)
    assert freezes == []  # frozen once the imports settle: nothing a session makes is ever frozen


def test_strip_predictions_come_from_one_batched_pass():
    from dashboard.state import cache

    at = app()
    counter = PassCounter(cache.model(DEFAULT).model)
    try:
        uploads = [(f"{k}.png", png_bytes(pattern(k, size=40)), "image/png") for k in ("circle", "square", "stripes")]
        at.file_uploader(key="uploads").set_value(uploads).run()
        assert_clean(at)
        # one batched forward for the three thumbnails, one forward + backward for the image analysed in detail
        # (which also keeps the feature maps of the block shown): nothing else
        assert (counter.forward, counter.backward) == (2, 1)
        assert sum("circle.png" in c.value and "→" in c.value for c in at.caption) == 1  # the strip's caption
    finally:
        counter.remove()


@pytest.mark.parametrize("view, expected", [("classes", "Excitation per channel and class"),
                                            ("compare", "Class-specificity vs depth")])
def test_views_render_their_charts(view, expected):
    at = app(view=view)
    assert_clean(at)
    assert any(expected in t for t in titles(at)), titles(at)


def test_about_view_renders_formulas():
    at = app(view="about")
    assert_clean(at)
    assert len(at.latex) >= 3
    assert any("ResNet-50" in m.value for m in at.markdown)
    zoo = at.table[-1].value  # the ImageNet zoo, with each top-1 and where it comes from
    assert list(zoo["model"]) == list(ZOO)  # every zoo model, each saying where its top-1 and weights come from
    assert all(zoo["top-1 from"]) and "?" not in list(zoo["weights from"])
    assert any("--weights PATH" in c.value for c in at.code)


def test_query_params_restore_view_model_and_classes(reference):
    classes = reference.classes[:2]
    at = app(view="classes", model=DEFAULT + modelkeys.CONTROL, classes=classes)
    assert_clean(at)
    assert at.selectbox(key="model").value == DEFAULT + modelkeys.CONTROL
    curves = next(f for f in figures(at) if "per channel and class" in f["layout"]["title"]["text"])
    assert "untrained" in curves["layout"]["title"]["text"]
    assert trace_names(curves) == {*classes, "all"}


def test_changing_classes_and_model_updates_the_figure(reference):
    at = app(view="classes")
    before = next(f for f in figures(at) if "per channel and class" in f["layout"]["title"]["text"])
    assert trace_names(before) == {*reference.classes, "all"}
    at.multiselect(key="classes").set_value(reference.classes[-3:]).run()
    after = next(f for f in figures(at) if "per channel and class" in f["layout"]["title"]["text"])
    assert trace_names(after) == {*reference.classes[-3:], "all"}
    at.selectbox(key="model").select(DEFAULT + modelkeys.CONTROL).run()
    assert_clean(at)
    assert any("untrained" in t for t in titles(at))


def test_changing_block_updates_feature_maps():
    from dashboard.state import cache

    at = app()
    first = list(se_models.load_model(DEFAULT).se_blocks)[0]
    counter = PassCounter(cache.model(DEFAULT).model)
    try:
        at.selectbox(key="block").select(first).run()
        assert (counter.forward, counter.backward) == (1, 0)  # the new block's maps: one pass, no gradients
    finally:
        counter.remove()
    assert_clean(at)
    assert any(t.startswith(f"{first}:") for t in titles(at)), titles(at)
    assert any(f"block {first}" in m.value for m in at.markdown)


def test_the_block_in_the_url_comes_with_the_analysis_pass():
    from dashboard.state import cache

    first = list(se_models.load_model(DEFAULT).se_blocks)[0]
    at = app(block=first)
    counter = PassCounter(cache.model(DEFAULT).model)
    try:  # a new image: its one forward + backward pass also keeps the maps of the block the URL asked for
        at.file_uploader(key="uploads").set_value([("ring.png", png_bytes(pattern("circle", seed=11, size=36)),
                                                    "image/png")]).run()
        assert (counter.forward, counter.backward) == (1, 1)
    finally:
        counter.remove()
    assert_clean(at)
    assert any(t.startswith(f"{first}:") for t in titles(at)), titles(at)


def test_live_statistics_from_bundled_samples():
    with_samples = next(m for m in se_models.list_models() if sample_images(load_card(m).dataset))
    classes = load_card(with_samples).labels[:2]
    at = app(view="classes", model=with_samples, source="bundled", classes=classes)
    at.number_input(key="per_class").set_value(4).run()
    assert_clean(at)
    curves = next(f for f in figures(at) if "per channel and class" in f["layout"]["title"]["text"])
    assert trace_names(curves) == {*classes, "all"}
    assert any("4" in c.value and "images per class" in c.value for c in at.caption)


def test_corrupt_upload_shows_one_error_and_the_good_image_still_renders():
    at = app()
    good = png_bytes(pattern("circle", size=40))
    at.file_uploader(key="uploads").set_value([("broken.png", b"\x89PNG\r\n\x1a\n not really", "image/png"),
                                               ("good.png", good, "image/png")]).run()
    assert not at.exception
    assert len(at.error) == 1 and "broken.png" in at.error[0].value
    assert any("good.png" in (c.value or "") for c in at.caption) or any(
        "good.png" in str(i.proto) for i in at.get("image"))
    assert "Top-5 prediction" in titles(at)


def test_photo_choice_is_kept_in_the_url():
    photo = photos()[0]["file"]
    at = app(photos=[photo])
    assert_clean(at)
    assert at.multiselect(key="photos").value == [photo]
    title = photos()[0]["title"]
    assert any(title in str(i.proto) for i in at.get("image"))
    assert at.query_params.get("photos") in (photo, [photo])


def test_no_hooks_left_on_the_shared_model():
    app()  # analyses the default image: forward, backward and Grad-CAM hooks on the cached model
    from dashboard.state import cache

    assert hook_count(cache.model(DEFAULT).model) == 0


def test_an_error_inside_a_view_becomes_one_short_message():
    def script():
        from dashboard import ui

        def broken():
            raise RuntimeError("boom")
        ui.guarded(broken)()

    at = AppTest.from_function(script, default_timeout=30).run()
    assert not at.exception
    assert len(at.error) == 1 and "boom" in at.error[0].value and "Traceback" not in at.error[0].value


# ---- the ImageNet zoo (timm): random weights here, so offline; pretrained ones fail fast offline ----------------
PAPER_BLOCKS = ["SE_2_3", "SE_3_4", "SE_4_6", "SE_5_1", "SE_5_2", "SE_5_3"]


@pytest.mark.slow  # a full SE-ResNet-50
def test_imagenet_model_with_random_weights_analyses_a_photo():
    from se_models.models.zoo import imagenet_labels

    at = zoo_app(model=ZOO_MODEL, weights="random")
    assert_clean(at)
    assert at.selectbox(key="model").value == ZOO_MODEL and at.radio(key="weights").value == "random"
    assert at.query_params.get("weights") in ("random", ["random"])
    bars = next(f for f in figures(at) if f["layout"]["title"]["text"] == "Top-5 prediction")
    shown = bars["data"][0]["y"]
    assert len(shown) == 5 and set(shown) <= set(imagenet_labels())
    assert len(at.selectbox(key="target").options) == 1001  # "predicted class" + the 1000 ImageNet classes
    assert len(at.get("image")) >= 7  # input, model view, Grad-CAM, the end of each of the 4 stages
    assert any("stage 5 · SE_5_3" in str(i.proto) for i in at.get("image"))
    assert any("excitation in every SE block" in t for t in titles(at))
    assert any("highest gates" in t for t in titles(at))
    assert not any("fair test image" in c.value for c in at.caption)  # random weights: no test of training
    assert any("random weights" in c.value for c in at.caption)
    assert any("What happened here" in m.value for m in at.markdown)


def test_imagenet_pretrained_weights_offline_give_one_clear_error(tmp_path, monkeypatch):
    import socket

    import huggingface_hub.constants
    import torch

    # an empty weights cache and no network, also on a machine that has both
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))

    def no_network(*args, **kwargs):
        raise OSError("network is unreachable")
    monkeypatch.setattr(socket, "create_connection", no_network)
    at = zoo_app(model=ZOO_MODEL)
    assert not at.exception
    assert len(at.error) == 1, [e.value for e in at.error]
    message = at.error[0].value
    assert "pretrained weights are not cached" in message and "random (untrained control)" in message
    assert "Traceback" not in message
    assert at.radio(key="weights").value == "pretrained"  # the sidebar is still there, to choose other weights
    assert not figures(at)


def test_timm_model_without_se_blocks_is_refused():
    at = zoo_app(model="timm:resnet18")  # pretrained by default: refused before any download is tried
    assert not at.exception
    assert len(at.error) == 1 and "no squeeze-and-excitation blocks" in at.error[0].value
    assert at.text_input(key="timm_name").value == "resnet18"
    assert at.selectbox(key="model").value == "timm:resnet18"


def test_classes_view_paper_preset_on_a_folder_for_an_imagenet_model(tmp_path, monkeypatch):
    monkeypatch.setenv("SE_EXPLORER_ROOTS", str(tmp_path))  # typed folders must lie inside the allowed roots
    for kind, cls in (("circle", "goldfish"), ("stripes", "pug")):
        (tmp_path / cls).mkdir()
        for i in range(3):
            pattern(kind, size=48, seed=i).save(tmp_path / cls / f"{i}.png")
    at = zoo_app(view="classes", model=ZOO_MODEL, weights="random", fig6="on")
    assert_clean(at)
    assert at.selectbox(key="source").value == "folder"  # no reference statistics, no samples
    assert any(f"stats --model {ZOO_MODEL}" in c.value for c in at.code)  # the how-to, while there is no folder
    at.text_input(key="folder").set_value(str(tmp_path)).run()
    assert_clean(at)
    assert at.toggle(key="fig6").value and at.number_input(key="per_class").value == 50
    curves = next(f for f in figures(at) if "per channel and class" in f["layout"]["title"]["text"])
    panels = [a["text"].split("<br>")[0] for a in curves["layout"]["annotations"] if "divergence" in a["text"]]
    assert panels == PAPER_BLOCKS
    assert trace_names(curves) == {"goldfish", "pug", "all"}
    assert all(len(t["x"]) == 50 for t in curves["data"])  # 50 uniformly sampled channels
    assert "untrained" in curves["layout"]["title"]["text"]


# ---- pure helpers -----------------------------------------------------------------------------------------------
def test_model_keys_round_trip():
    keys = modelkeys.model_options(["a", "b"])
    assert keys == ["a", "a:control", "b", "b:control"]
    assert [modelkeys.ModelKey.from_option(k) for k in keys] == [
        modelkeys.ModelKey.own("a"), modelkeys.ModelKey.control("a"), modelkeys.ModelKey.own("b"),
        modelkeys.ModelKey.control("b")]
    assert [modelkeys.ModelKey.from_option(k).option for k in keys] == keys
    assert [modelkeys.ModelKey.from_option(k).is_control for k in keys] == [False, True, False, True]
    assert modelkeys.timm_option(" timm:regnety_002 ") == "timm:regnety_002" == modelkeys.timm_option("regnety_002")
    assert modelkeys.timm_option(ZOO_MODEL) == ZOO_MODEL and modelkeys.timm_option("  ") == ""
    assert wording.picker_label("timm:regnety_002", {}) == "timm · regnety_002"
    assert wording.model_label(modelkeys.ModelKey.control(ZOO_MODEL), zoo_card(ZOO_MODEL)).endswith("untrained")


def test_model_caption_counts_a_warm_restart():
    card = ModelCard(name="m", kind="bundled", architecture="se_resnet20_w24", dataset="cifar10",
                     input_size=[3, 32, 32], params=630_000, epochs=40, test_accuracy=0.9012)
    assert wording.model_caption(card) == ("SE-ResNet-20 (1.5× wide) on CIFAR-10 32×32 px, 0.63 M parameters, "
                                         "40 epochs; 90.1% test accuracy.")
    card.init = {"weights": "first.safetensors", "epochs": 50}
    assert ", 50 + 40 epochs; 90.1% test accuracy." in wording.model_caption(card)
    assert wording.model_caption(card, control=True).endswith("with random weights: the untrained control.")


def test_load_failures_say_what_to_choose_instead():
    offline = wording.load_failure(ZOO_MODEL, None, WeightsUnavailable("x: pretrained weights are not cached"))
    assert "pretrained weights are not cached" in offline and "random (untrained control)" in offline
    no_se = wording.load_failure("timm:resnet18", "random", NoSEBlocksError("ResNet has no SE blocks"))
    assert "timm:regnety_002" in no_se and "untrained control" not in no_se
    # decided by the error's type, not its words
    other = wording.load_failure("timm:resnet18", "random", CheckpointError("no squeeze-and-excitation blocks"))
    assert "timm:regnety_002" not in other
    assert wording.data_sources(False, False, "imagenet") == ["folder"]
    assert wording.data_sources(True, True, "cifar10") == ["reference", "bundled", "folder", "test"]
    assert "--weights random" in wording.stats_command(modelkeys.ModelKey.control(ZOO_MODEL))
    assert has_stages(PAPER_BLOCKS) and not has_stages(["SE_blocks_0_se", "SE_5_1"])


def test_model_labels_add_the_architecture_only_when_datasets_collide():
    cards = {m: ModelCard(name=m, kind="bundled", dataset=d, architecture="se_resnet20")
             for m, d in (("m1", "cifar10"), ("m2", "fashion-mnist"))}
    labels = wording.model_labels(cards)
    assert labels["m1"] == "CIFAR-10 · trained" and labels["m2:control"] == "Fashion-MNIST · untrained"
    cards["m2"].dataset = "cifar10"
    assert "SE-ResNet-20" in wording.model_labels(cards)["m1"]
    cards["m1"].architecture = "se_resnet20_w24"
    assert wording.model_labels(cards)["m1"] == "CIFAR-10 SE-ResNet-20 (1.5× wide) · trained"


def test_decode_items_reports_bad_files_and_keeps_the_rest():
    items = imageitems.upload_items([("a.png", png_bytes(pattern("square"))), ("empty.jpg", b""),
                                ("junk.webp", b"not an image")])
    good, errors = imageitems.decode_items(items)
    assert [i.label for i, _ in good] == ["a.png"]
    assert len(errors) == 2 and "empty.jpg" in errors[0] and "junk.webp" in errors[1]
    assert len({i.id for i in items}) == 3


def test_default_image_prefers_a_photo_the_model_knows():
    photos = [{"file": "x.jpg", "cifar10": None}, {"file": "cat.jpg", "cifar10": "cat"}]
    samples = [("/s/Bag/00001.png", "Bag")]
    assert imageitems.default_image(photos, samples, ["cat", "dog"]) == "photo:cat.jpg"
    assert imageitems.default_image(photos, samples, ["Bag"]) == "sample:Bag/00001.png"
    assert imageitems.default_image(photos, [], ["Bag"]) == "photo:x.jpg"
    photos.append({"file": "eagle.jpg", "cifar10": "bird", "imagenet_hint": "bald eagle"})
    assert imageitems.default_image(photos, [], ["goldfish", "bald eagle"]) == "photo:eagle.jpg"

def test_stats_exports_and_readings(reference):
    rows = reference.metrics_rows()
    assert len(rows) == len(reference.blocks) + len(reference.control or [])
    assert reference.metrics_csv().splitlines()[0].startswith("model,weights,block,divergence")
    assert se_models.ExcitationStats.from_dict(json.loads(reference.to_json())) == reference  # one JSON, loadable
    first, deep = readings.first_and_deepest(reference)
    text = readings.specificity_reading(reference, markdown=True)
    assert f"**{reference.block(first).divergence:.3f}**" in text and deep in text
    control = statspanel.stats_for(reference, True)
    assert [b.name for b in control.blocks] == [b.name for b in reference.control]
    assert [b.divergence for b in control.blocks] == [b.divergence for b in reference.control]
    assert control.weights == "random" and control.model == reference.model and control.control is None
    assert all(b.learned is None for b in control.blocks)  # the untrained network is never learned
    assert {r["weights"] for r in control.metrics_rows()} == {"untrained"}  # not tagged "trained" by position
    assert {"above_chance", "learned", "class_specific"} <= set(reference.metrics_rows()[0])
    assert "comes from training" in readings.compare_reading("A", reference, "B", control, deep)


def test_png_export_failure_becomes_an_image(monkeypatch):
    import plotly.graph_objects as go

    fig = go.Figure()
    monkeypatch.setattr(go.Figure, "to_image", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("no chrome")))
    assert exports.figure_png(fig).startswith(b"\x89PNG")
    assert "<html>" in exports.figure_html(fig)[:200].lower()
