"""The app's gate views under AppTest: the epoch slider and the heat map of how the gates learned (Classes), the
channel panel (from the URL, as a Fig. 6 click or an Image-view link sets it), the lesson's step 8, Compare's way to
the epochs; and the click itself (a selected point -> block and channel)."""
from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.panels import channel as channelpanel
from dashboard.state import cache
from se_models import config
from se_models.config import SAMPLES_DIR
from se_models.data.images import load_image
from se_models.explain.analysis import analyze_image
from se_models.findings import numbers as num
from se_models.models.registry import load_model
from se_models.plots.figures import class_curves
from se_models.stats.epochs import Epoch, EpochHistory
from se_models.stats.excitation import ExcitationStats
from se_models.stats.stored import reference_path
from tests import apphelp
from tests.apphelp import assert_clean as clean
from tests.apphelp import titles

FASHION = "se_resnet20_fashion_mnist"


def app(**params) -> AppTest:
    return apphelp.app(timeout=120, **params)




@pytest.fixture
def epochs(tmp_path, monkeypatch):
    """The Fashion-MNIST model's history as far as the shipped files tell it: epoch 0 is the untrained control
    (the seed-0 initialisation), the last epoch the shipped weights (the reference statistics)."""
    ref = ExcitationStats.load(reference_path(FASHION))
    history = EpochHistory(ref.model, ref.data, ref.control,
                           [Epoch(0, "epoch_00.safetensors", None, ref.control_only()),
                            Epoch(15, "epoch_15.safetensors", 0.9393, replace(ref, weights="epoch 15", control=None))],
                           last_is_model=True)
    path = tmp_path / f"{FASHION}.epochs.json"
    history.save(path)
    monkeypatch.setattr(cache, "find_epochs", lambda name: path if name == FASHION else None)
    return EpochHistory.load(path)


def test_classes_view_has_an_epoch_slider_and_the_heat_map(epochs):
    at = app(view="classes", model=FASHION)
    clean(at)
    slider = at.slider(key="epoch")
    assert (slider.min, slider.max, slider.value) == (0, 15, 15)  # the shipped weights first
    assert any(t.startswith("How the gates learned") for t in titles(at))
    label = cache.model_label(FASHION)  # "Fashion-MNIST · trained", with the architecture when two models share it
    assert label.startswith("Fashion-MNIST") and label.endswith("· trained"), label
    assert any(f"{label}, epoch 15" in t for t in titles(at))
    assert any("became class-specific (learned) at epoch" in i.value for i in at.info)
    assert any("the model's own weights (its reference statistics)" in c.value for c in at.caption)
    slider.set_value(0).run()
    clean(at)
    assert any("trained, epoch 0" in t for t in titles(at))
    # epoch 0's statistics are random weights': the reading says so, and nothing in them is learned
    assert any("untrained network's statistics" in i.value for i in at.info)
    assert any("Epoch 0: the initialisation, the untrained control itself" in c.value for c in at.caption)
    assert at.query_params["epoch"] == "0"


def test_the_control_and_a_model_without_epochs_get_no_slider(epochs):
    at = app(view="classes", model=FASHION + ":control")
    clean(at)
    assert not at.get("slider") or all(s.key != "epoch" for s in at.slider)
    at = app(view="classes", model="se_resnet20_cifar10")
    clean(at)
    assert all(s.key != "epoch" for s in at.slider)
    assert not any(t.startswith("How the gates learned") for t in titles(at))


def test_channel_panel_lists_the_images_of_a_gate_with_their_own_gates():
    at = app(view="classes", model=FASHION, source="bundled", classes=["Bag", "Sneaker", "Trouser"],
             ch_block="SE_4_3", ch="5")
    clean(at)
    assert any(m.value.startswith("### Channel 5 of SE_4_3") for m in at.markdown)
    assert any("opens most, on average, for **Bag**" in i.value for i in at.info)
    shown = titles(at)
    assert any(t.startswith("The gate per class") for t in shown)
    assert "The 8 highest gates" in shown and "The 8 lowest gates" in shown
    # the first highest tile's gate is the one analyze_image gives that image
    ranking = cache.channel_ranking(FASHION, "bundled", "", ("Bag", "Sneaker", "Trouser"), "SE_4_3", 666, 5, 8)
    top = ranking.top[0]
    gate = float(analyze_image(load_model(FASHION), load_image(SAMPLES_DIR / "fashion-mnist" / top.image))
                 .excitation["SE_4_3"][5])
    assert top.gate == gate
    gallery = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                   if "The 8 highest gates" in json.dumps(json.loads(c.proto.spec)["layout"].get("title")))
    assert gallery["layout"]["annotations"][0]["text"].startswith(num.gate_eq(gate))
    at.number_input(key="ch_number").set_value(7).run()  # the boxes choose too, and the URL follows
    clean(at)
    assert any(m.value.startswith("### Channel 7 of SE_4_3") for m in at.markdown) and at.query_params["ch"] == "7"
    at.selectbox(key="ch_block_box").select("SE_2_1").run()  # 16 channels: 7 is still one
    assert any(m.value.startswith("### Channel 7 of SE_2_1") for m in at.markdown)
    at.query_params["ch_block"], at.query_params["ch"] = "SE_4_3", "5"  # a new click or link wins over the boxes
    at.run()
    assert at.selectbox(key="ch_block_box").value == "SE_4_3" and at.number_input(key="ch_number").value == 5
    at.selectbox(key="ch_group").select("Sneaker").run()
    clean(at)
    assert "The 8 highest gates among Sneaker images" in titles(at)
    at.button(key="ch_close").click().run()
    clean(at)
    assert not any(m.value.startswith("### Channel") for m in at.markdown)
    assert "ch" not in at.query_params


def test_channel_panel_on_a_typed_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SE_EXPLORER_ROOTS", str(tmp_path))  # typed folders must lie inside the allowed roots
    for cls in ("Bag", "Sneaker"):
        (tmp_path / cls).mkdir()
        for f in sorted((SAMPLES_DIR / "fashion-mnist" / cls).glob("*.png"))[:12]:
            shutil.copy(f, tmp_path / cls / f.name)
    at = app(view="classes", model=FASHION, source="folder", ch_block="SE_4_3", ch="5")
    at.text_input(key="folder").set_value(str(tmp_path)).run()
    clean(at)
    assert any("opens most, on average, for **Bag**" in i.value for i in at.info)
    assert any("Only 12 images in the smallest class" in i.value for i in at.info)  # said, with so few
    assert "The 8 highest gates" in titles(at)


@pytest.mark.slow
def test_channel_panel_over_the_reference_statistics_images_reads_the_test_split():
    at = app(view="classes", model=FASHION, ch_block="SE_4_3", ch="5")
    clean(at)
    hist = next(t for t in titles(at) if t.startswith("The gate per class"))
    # the test split the reference statistics were computed on, within the server's images per request
    assert f"{config.MAX_IMAGES_PER_REQUEST} images" in hist
    assert any("of fashion-mnist test split" in c.value for c in at.caption)
    assert any(f"these are {config.MAX_IMAGES_PER_REQUEST} of the data's 10000" in c.value for c in at.caption)


def test_a_channel_number_past_the_blocks_last_falls_to_its_last_channel():
    at = app(view="classes", model=FASHION, source="bundled", classes=["Bag", "Sneaker"], ch_block="SE_2_1",
             ch="99")
    assert not at.exception
    # the channel box clamps to the block's channels: SE_2_1 has 16, so channel 15 is shown
    assert any(m.value.startswith("### Channel 15 of SE_2_1") for m in at.markdown)
    assert at.number_input(key="ch_number").value == 15 and at.query_params["ch"] == "15"


def test_image_view_links_every_shown_channel_to_its_images():
    at = app()
    clean(at)
    links = [pl.proto for pl in at.get("page_link")]
    channels = [p for p in links if "ch_block=" in p.query_string]
    assert len(channels) == 8  # the 4 highest and 4 lowest gates the feature maps show
    block = at.selectbox(key="block").value
    assert all(f"ch_block={block}" in p.query_string and p.page == "classes" for p in channels)
    assert [p.label[0] for p in channels] == ["▲"] * 4 + ["▼"] * 4


def test_lesson_step_8_replays_training_or_says_why_not(epochs):
    at = app(view="lesson", step="8", model=FASHION)
    clean(at)
    assert any(t.startswith("How the gates learned") for t in titles(at))
    assert any("Each column is one epoch of training" in m.value for m in at.markdown)
    at = app(view="lesson", step="8", model="se_resnet20_cifar10")
    clean(at)
    assert any("was trained without statistics of every epoch" in m.value for m in at.markdown)


def test_compare_offers_the_epochs_of_a_model_that_has_them(epochs):
    at = app(view="compare", model=FASHION)
    clean(at)
    keys = [b.key for b in at.button]
    assert f"cmp_epochs_{FASHION}" in keys and "cmp_epochs_se_resnet20_cifar10" not in keys


def test_a_click_on_a_fig6_line_names_its_block_and_channel():
    stats = ExcitationStats.load(reference_path(FASHION))
    fig = class_curves(stats, blocks=["SE_2_3", "SE_4_3"], selectable=True)
    curve = next(i for i, t in enumerate(fig.data) if t.meta == "SE_4_3" and t.name == "Bag")
    event = {"selection": {"points": [{"curve_number": curve, "point_index": 3, "customdata": 41}]}}
    assert channelpanel.point(event, fig) == ("SE_4_3", 41)
    assert channelpanel.point({"selection": {"points": []}}, fig) is None
    assert all(t.mode == "lines+markers" for t in fig.data)  # a click selects only points of traces with markers
    assert all(t.marker.maxdisplayed == 1 for t in fig.data)  # ... but only one of each line's markers is drawn
    assert all(t.mode == "lines" for t in class_curves(stats, blocks=["SE_4_3"]).data)
