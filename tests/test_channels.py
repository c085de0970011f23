"""From a gate to its images: the k highest and lowest gates of a channel over a data set, overall and per class,
exact to the model's own pass on each image; the class histogram; the reading, each way; the channel command."""
import json
import shutil

import numpy as np
import pytest
import torch

from se_models.cli import main
from se_models.config import SAMPLES_DIR
from se_models.data.datasets import ArrayDataset, as_source
from se_models.data.images import load_image
from se_models.errors import DatasetError, UnknownBlockError, UnknownClassError
from se_models.explain.analysis import analyze_image
from se_models.explain.cam import grad_cam_views
from se_models.findings.channel import channel_findings, class_dependence, who_is_on_top
from se_models.hooks.recorder import SERecorder
from se_models.models.registry import load_model
from se_models.plots.channels import Tile, channel_gallery, gate_histogram
from se_models.stats import channels
from se_models.stats.channels import rank_channel, stream_ranking
from tests.fakes import LABELS, fake_ranking

FASHION = "se_resnet20_fashion_mnist"


def every_gate(loaded, folder, block: str, channel: int) -> dict[str, float]:
    """Each image's gate from its own analyze_image pass: the values every listing must reproduce exactly."""
    source = as_source(str(folder), loaded)
    return {source.name(i): float(analyze_image(loaded, source.image(i)).excitation[block][channel])
            for i in range(len(source))}


def test_the_listed_images_are_the_extremes_with_the_models_own_gates(tiny, image_folder):
    block, channel = "SE_3_2", 3
    gates = every_gate(tiny, image_folder, block, channel)
    r = rank_channel(tiny, str(image_folder), block, channel, k=4)
    ordered = sorted(gates, key=lambda n: (-gates[n], n))
    assert [x.gate for x in r.top] == sorted(gates.values(), reverse=True)[:4]  # exact, not within a tolerance
    assert [x.image for x in r.top] == ordered[:4] and [x.image for x in r.bottom] == ordered[::-1][:4]
    for cls in LABELS:
        mine = {n: g for n, g in gates.items() if n.startswith(cls + "/")}
        assert [x.gate for x in r.per_class[cls]["top"]] == sorted(mine.values(), reverse=True)[:4]
        assert [x.gate for x in r.per_class[cls]["bottom"]] == sorted(mine.values())[:4]
        assert {x.cls for x in r.per_class[cls]["top"]} == {cls}
        assert sum(r.histogram[cls]) == r.counts[cls] == 6
        assert r.class_means[cls] == pytest.approx(np.mean(list(mine.values())), abs=1e-6)
    top = r.top[0]
    assert top.su == pytest.approx(top.u * top.gate, rel=1e-5, abs=1e-6)  # s·U of the channel is s times U
    assert top.z == pytest.approx(float(top.u.mean()), rel=1e-5, abs=1e-6)


def test_the_top_gate_equals_analyze_image_on_the_bundled_model():
    loaded = load_model(FASHION)
    r = rank_channel(loaded, "bundled", "SE_4_3", 5, k=2, classes=["Bag", "Sneaker", "Trouser"])
    for x in (r.top[0], r.bottom[0], r.per_class["Trouser"]["top"][0]):
        a = analyze_image(loaded, load_image(SAMPLES_DIR / "fashion-mnist" / x.image))
        assert x.gate == float(a.excitation["SE_4_3"][5])
    assert r.counts == {"Bag": 100, "Sneaker": 100, "Trouser": 100}


def test_a_split_in_memory_is_ranked_and_named_by_index(tiny):
    rng = torch.Generator().manual_seed(0)
    data = ArrayDataset(torch.randint(0, 255, (12, 3, 16, 16), dtype=torch.uint8, generator=rng),
                        torch.tensor([0, 1, 2] * 4), list(LABELS), "toy test split")
    r = rank_channel(tiny, data, "SE_2_1", 0, k=3)
    assert r.data == "toy test split" and {x.image for x in r.top} <= {f"#{i}" for i in range(12)}
    assert sum(r.counts.values()) == 12


def test_one_pass_ranks_every_channel_and_memory_holds_floats_not_images(tiny, image_folder):
    ranking = stream_ranking(tiny, str(image_folder), "SE_3_2")
    assert ranking.channels == list(range(16)) and ranking.gates.shape == (18, 16)
    assert ranking.gates.dtype == np.float32
    one = ranking.channel(tiny, 7, k=2)
    alone = rank_channel(tiny, str(image_folder), "SE_3_2", 7, k=2)
    assert one.to_dict() == alone.to_dict()


def test_bad_requests_are_typed_errors(tiny, image_folder, monkeypatch):
    with pytest.raises(UnknownBlockError, match="unknown SE block 'SE_9_9'"):
        rank_channel(tiny, str(image_folder), "SE_9_9", 0)
    with pytest.raises(UnknownBlockError, match="SE_2_1 has channels 0..7; there is no channel 8"):
        rank_channel(tiny, str(image_folder), "SE_2_1", 8)
    with pytest.raises(UnknownClassError):
        rank_channel(tiny, str(image_folder), "SE_2_1", 0, classes=["dog"])
    monkeypatch.setattr(channels, "MAX_GATES", 100)  # all 16 channels of 18 images: 288 values
    with pytest.raises(DatasetError, match="rank a few channels at a time"):
        stream_ranking(tiny, str(image_folder), "SE_3_2")


# ---- the reading, each way -------------------------------------------------------------------------------------
def test_the_gate_depends_on_the_class_above_chance_and_not_once_labels_are_shuffled(tmp_path):
    loaded = load_model(FASHION)
    picked = tmp_path / "picked"
    for cls in ("Bag", "Sneaker"):
        shutil.copytree(SAMPLES_DIR / "fashion-mnist" / cls, picked / cls)
    r = rank_channel(loaded, str(picked), "SE_4_3", 5, k=3)
    found = class_dependence(r)
    assert found.holds is True and "depends on the class above chance" in found.text
    assert r.divergence > r.divergence_null[1] and r.divergence_p < 0.01
    # the same 200 images in two folders that mean nothing: the class means cannot differ beyond chance
    files = sorted((picked / "Bag").glob("*.png")) + sorted((picked / "Sneaker").glob("*.png"))
    order = np.random.default_rng(1).permutation(len(files))
    shuffled = tmp_path / "shuffled"
    for j, i in enumerate(order):
        dest = shuffled / ("a" if j % 2 else "b")
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(files[i], dest / f"{j}.png")
    s = rank_channel(loaded, str(shuffled), "SE_4_3", 5, k=3)
    assert class_dependence(s).holds is False and "not distinguishable from chance" in class_dependence(s).text
    assert s.divergence_p >= 0.01


def test_who_is_on_top_against_a_draw_regardless_of_class():
    many = who_is_on_top(fake_ranking(["a"] * 7 + ["b"], {"a": 100, "b": 900}))
    assert many.holds is True and "7 of the 8 highest gates are a images; a is 10% of the data" in many.text
    assert "would give 0.8" in many.text
    few = who_is_on_top(fake_ranking(["b"] * 5 + ["a"] * 3, {"a": 100, "b": 900}))
    assert few.holds is False and "5 of the 8 highest gates are b images; b is 90% of the data" in few.text
    weak = [f for f in channel_findings(fake_ranking(["a"], {"a": 5, "b": 900})) if f.claim == "weak"][0]
    assert weak.holds and "Only 5 images in the smallest class" in weak.text


# ---- figures -------------------------------------------------------------------------------------------------------
def test_histogram_and_gallery_draw_what_the_ranking_holds(tiny, image_folder):
    r = rank_channel(tiny, str(image_folder), "SE_3_2", 3, k=2)
    fig = gate_histogram(r)
    heat = fig.data[0]
    assert list(heat.y) == sorted(LABELS, key=r.class_means.get)  # the highest mean on top
    assert np.asarray(heat.customdata).sum() == 18 and list(fig.data[1].x) == [r.class_means[c] for c in heat.y]
    views, cams, targets = grad_cam_views(tiny, [load_image(image_folder / x.image) for x in r.top], "SE_3_2")
    assert cams.shape == (2, 16, 16) and len(views) == len(targets) == 2
    tiles = [Tile(np.asarray(v), np.asarray(v), x.u, x.su, x.gate, x.cls, LABELS[t], x.image)
             for v, x, t in zip(views, r.top, targets)]
    gallery = channel_gallery(tiles, "highest")
    assert [t.type for t in gallery.data].count("image") == 4 and [t.type for t in gallery.data].count("heatmap") == 4
    assert gallery.layout.annotations[0].text.startswith(f"s = {r.top[0].gate:.2f}")


# ---- the command line ----------------------------------------------------------------------------------------------
def test_channel_command_writes_top_and_bottom_exact_to_the_models_pass(tmp_path, capsys):
    out = tmp_path / "ch.json"
    assert main(["channel", "--model", FASHION, "--data", "bundled", "--block", "SE_4_3", "--channel", "5",
                 "--top", "3", "--classes", "Bag", "Sneaker", "--json", str(out), "--workers", "0"]) == 0
    d = json.loads(out.read_text())
    assert len(d["top"]) == len(d["bottom"]) == 3 and set(d["per_class"]) == {"Bag", "Sneaker"}
    assert set(d["top"][0]) == {"index", "image", "class", "gate", "z"}
    loaded = load_model(FASHION)
    x = loaded.preprocess(load_image(SAMPLES_DIR / "fashion-mnist" / d["top"][0]["image"]))[None]
    with SERecorder(loaded, blocks=["SE_4_3"]) as rec, torch.no_grad():
        loaded.model(x)
    assert d["top"][0]["gate"] == float(rec.excitation["SE_4_3"][0, 5])
    assert [e["gate"] for e in d["top"]] == sorted((e["gate"] for e in d["top"]), reverse=True)
    err = capsys.readouterr().err
    assert "highest:" in err and "opens most, on average, for" in err
    assert main(["channel", "--model", FASHION, "--block", "SE_4_3", "--channel", "99", "--json", str(out)]) == 2
    assert "there is no channel 99" in capsys.readouterr().err
