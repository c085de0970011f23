"""The gate transplant: another class's mean gates in the chosen blocks, moved / kept against the own-class control,
with intervals; the verdict per model (deep, shallow, both, neither) from a crafted network whose deep (or shallow)
gate decides the class, and from the untrained control; the CLI's table and JSON."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from timm.layers import SEModule
from torch import nn

from se_models.data.datasets import ArrayDataset
from se_models.findings.transplant import (
    lesson_classes,
    lesson_transplant,
    transplant_finding,
    transplant_sentence,
    transplant_step,
)
from se_models.hooks.blocks import find_se_blocks
from se_models.models.card import ModelCard
from se_models.models.registry import LoadedModel, card_transform
from se_models.stats.ablation import ablation_table, donor_offsets
from se_models.stats.tables import AblationTable, load_tables, save_tables, wilson
from tests.fakes import make_loaded
from tests.probes import hook_count

COLOURS = ["red", "green", "blue"]


def class_gate() -> SEModule:
    """An SE module whose gate opens channel c only when channel c of its input averages 2 (the image's class, on
    top of the constant 1): s_c = sigmoid(20 * (mean_c - 1.5))."""
    se = SEModule(3, rd_channels=3)
    with torch.no_grad():
        se.fc1.weight.copy_(torch.eye(3)[:, :, None, None])
        se.fc1.bias.zero_()
        se.fc2.weight.copy_(20 * torch.eye(3)[:, :, None, None])
        se.fc2.bias.fill_(-30.0)
    return se


class Crafted(nn.Module):
    """Two SE blocks (SE_2_1 and SE_3_1) both gate a class-coloured input; the logits are the channel means of ONE
    block's output: the deep one's (decides="deep") or the shallow one's. The other block's gates differ by class just
    as much, but nothing downstream reads them."""

    def __init__(self, decides: str = "deep"):
        super().__init__()
        self.layer1 = nn.Sequential(nn.Module())
        self.layer2 = nn.Sequential(nn.Module())
        self.layer1[0].se = class_gate()
        self.layer2[0].se = class_gate()
        self.decides = decides

    def forward(self, x):  # x (B, 3, H, W): about 1 in the class's channel, 0 elsewhere
        u = x + 1
        shallow, deep = self.layer1[0].se(u), self.layer2[0].se(u)  # (B, 3, H, W) each: channel A kept, others ~0
        return (deep if self.decides == "deep" else shallow).mean((2, 3))  # logits (B, 3): class A = 2, others ~0


def crafted(decides: str) -> LoadedModel:
    model = Crafted(decides).eval()
    card = ModelCard(name=f"crafted-{decides}", kind="bundled", architecture="crafted", dataset="colours",
                     labels=COLOURS, in_chans=3, input_size=[3, 4, 4], mean=[0.0] * 3, std=[1.0] * 3)
    return LoadedModel(card.name, model, card, "trained", find_se_blocks(model), card_transform(card))


def colour_images(per_class: int = 10) -> ArrayDataset:
    """per_class 4x4 images of each class: its colour channel bright (220-255), the others dark (0-30)."""
    rng = np.random.default_rng(0)
    images, labels = [], []
    for c in range(3):
        for _ in range(per_class):
            img = rng.integers(0, 30, (3, 4, 4))
            img[c] = rng.integers(220, 256, (4, 4))
            images.append(img)
            labels.append(c)
    return ArrayDataset(torch.tensor(np.array(images), dtype=torch.uint8), torch.tensor(labels), COLOURS, "colours")


@pytest.mark.parametrize("decides", ["deep", "shallow"])
def test_the_gate_that_decides_moves_predictions_and_the_other_does_not(decides):
    loaded = crafted(decides)
    t = ablation_table(loaded, colour_images(), "transplant")
    assert t.baseline["top1"] == 1.0 and t.images == 30 and t.donors == 2
    deciding, idle = (t.row("stage 3"), t.row("stage 2")) if decides == "deep" else \
        (t.row("stage 2"), t.row("stage 3"))
    # the deciding block: every transplant lands on its donor class; its own class mean keeps every prediction
    assert (deciding.moved, deciding.kept, deciding.top1) == (1.0, 0.0, 0.0)
    assert (deciding.moved_control, deciding.kept_control) == (0.0, 1.0)
    assert deciding.moves and deciding.moved_ci == wilson(1.0, 30) and deciding.moved_control_ci == wilson(0.0, 30)
    # the idle block carries the same class identity in its gates, and moves nothing
    assert (idle.moved, idle.kept, idle.moves) == (0.0, 1.0, False)
    assert t.row("all blocks").moves
    reading = transplant_finding(t)
    assert reading.numbers["verdict"] == decides and reading.holds == (decides == "deep")
    assert (reading.numbers["shallow"], reading.numbers["deep"]) == ("stage 2", "stage 3")
    assert reading.text.startswith("Gate transplant over 30 images, each given the mean gates of 2 other classes")
    assert ("deep transplants move predictions and shallow ones do not" in reading.text) == (decides == "deep")
    assert "over 99.9% [" in reading.text and "**over 99.9%**" in reading.markdown and hook_count(loaded.model) == 0


def test_the_untrained_control_moves_nothing(image_folder):
    loaded = make_loaded()  # random weights
    t = ablation_table(loaded, image_folder, "transplant")
    assert t.weights == "random" and t.images == 18
    for r in t.rows:
        assert not r.moves, r.label
        assert 0 <= r.moved_ci[0] <= r.moved <= r.moved_ci[1] <= 1
    reading = transplant_finding(t)
    assert reading.numbers["verdict"] == "neither" and reading.holds is False
    assert "In the untrained network (random weights), neither deep nor shallow" in reading.text
    assert "as expected: nothing was learned" in reading.text


def test_a_random_network_whose_gates_happen_to_move_is_not_called_expected():
    """The untrained reading must be able to say the other thing: a crafted net labelled as random weights."""
    loaded = crafted("deep")
    loaded.weights = "random"
    reading = transplant_finding(ablation_table(loaded, colour_images(), "transplant"))
    assert reading.numbers["verdict"] == "deep"
    assert "although nothing was learned" in reading.text and "as expected" not in reading.text


def test_tables_round_trip_and_old_rows_load(tmp_path):
    t = ablation_table(crafted("deep"), colour_images(4), "transplant")
    save_tables({"transplant": t, "transplant_control": t}, tmp_path / "a.json")
    back = load_tables(tmp_path / "a.json")
    assert back["transplant"] == t and back["transplant"].row("stage 3").moves
    old = {"model": "m", "data": "d", "mode": "mean", "images": 5, "baseline": {"top1": 1, "top5": None},
           "rows": [{"label": "all blocks", "blocks": [], "top1": 1, "top5": None, "changed": 0}]}
    assert AblationTable.from_dict(old).rows[0].moves is None  # a table written before the transplant existed
    assert transplant_sentence({"transplant": t}).count("Gate transplant") == 1
    assert transplant_sentence(back).count("Gate transplant") == 2


def test_wilson_interval_is_never_of_zero_width_and_narrows_with_images():
    lo, hi = wilson(0.0, 30)
    assert lo == 0 and 0.1 < hi < 0.12
    assert wilson(1.0, 30)[0] > 0.88 and wilson(0.5, 10000)[1] - wilson(0.5, 10000)[0] < 0.02
    assert wilson(0.3, 100)[0] < 0.3 < wilson(0.3, 100)[1]


def test_donor_offsets_cover_every_other_class_or_a_seeded_sample():
    assert donor_offsets(10, None, 0) == list(range(1, 10))
    few = donor_offsets(1000, 5, 0)
    assert len(few) == 5 == len(set(few)) and all(1 <= o < 1000 for o in few) and few == donor_offsets(1000, 5, 0)


def test_cli_transplant_table_and_json(tmp_path, capsys):
    from se_models import cli
    from se_models.config import SAMPLES_DIR

    out = tmp_path / "t.json"
    code = cli.main(["ablate", "--model", "se_resnet20_fashion_mnist", "--data", "bundled", "--per-class", "2",
                     "--mode", "transplant", "--control", "--json", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and "moved, control" in printed and "Gate transplant over 20 images" in printed
    assert "In the untrained network (random weights)" in printed  # --control: the control's reading follows
    d = json.loads(out.read_text())
    assert d["weights"] == "trained" and d["control"]["weights"] == "random"
    assert [r["label"] for r in d["control"]["rows"]] == [r["label"] for r in d["rows"]]
    assert d["mode"] == "transplant" and d["donors"] == 9 and "Wilson" in d["interval"]
    assert [r["label"] for r in d["rows"]] == ["stage 2", "stage 3", "stage 4", "all blocks"]
    for r in d["rows"]:
        for f in ("moved", "kept", "moved_control", "kept_control"):
            assert 0 <= r[f] <= 1 and r[f"{f}_ci"][0] <= r[f] <= r[f"{f}_ci"][1], (r["label"], f)
    # the Markdown table: the same command over two classes of two images (one donor class each: the format, cheaply)
    for cls in ("Bag", "Trouser"):
        (tmp_path / "two" / cls).mkdir(parents=True)
        for f in sorted((SAMPLES_DIR / "fashion-mnist" / cls).iterdir())[:2]:
            (tmp_path / "two" / cls / f.name).write_bytes(f.read_bytes())
    assert cli.main(["ablate", "--model", "se_resnet20_fashion_mnist", "--data", str(tmp_path / "two"),
                     "--mode", "transplant", "--markdown"]) == 0
    markdown = capsys.readouterr().out
    assert "| transplanted into | moved to the donor class |" in markdown and "4 images × 1 donor classes" in markdown


def test_lesson_sentence_says_what_the_network_then_said():
    before, after = {"cat": 0.9, "dog": 0.05}, {"cat": 0.2, "dog": 0.7}
    moved = lesson_transplant("cat", "dog", before, {"stage 4": after, "all blocks": before}, chosen=False)
    assert moved.holds and moved.numbers["moved"] == ["stage 4"]
    assert "says cat (90%)" in moved.text and "in stage 4, it says **dog** (70%)" in moved.markdown
    assert "The gates alone moved the prediction to dog (stage 4)." in moved.text and "no cat and dog" not in moved.text
    stay = lesson_transplant("cat", "dog", before, {"stage 4": {"cat": 0.8, "dog": 0.0004}}, chosen=True)
    assert stay.holds is False and "did not make this image a dog" in stay.text
    assert "This model has no cat and dog" in stay.text
    assert "dog goes from 5% to under 0.1%" in stay.text  # never rounded to 0
    table = ablation_table(crafted("deep"), colour_images(4), "transplant")
    assert "Over 12 test images and every pair of classes, deep transplants move" in transplant_step(
        "cat", "dog", before, {"stage 4": after}, chosen=False, table=table)


def test_lesson_classes_are_cat_and_dog_or_two_named_ones():
    assert lesson_classes(["cat", "dog", "frog"], "frog", {}) == ("cat", "dog", False)
    means = {"boot": [0.9, 0.1], "shirt": [0.8, 0.2], "bag": [0.1, 0.9]}
    assert lesson_classes(list(means), "boot", means) == ("boot", "bag", True)  # the farthest deep gates
    assert lesson_classes(list(means), "bag", means) == ("bag", "boot", True)


def _table(deep: float, control: float, n: int) -> AblationTable:
    from se_models.stats.tables import AblationRow

    rows = [AblationRow(label, [label], 0.9, None, 0.1, moved=m, kept=0.9, moved_control=control, kept_control=0.95,
                        moved_ci=wilson(m, n), kept_ci=wilson(0.9, n), moved_control_ci=wilson(control, n),
                        kept_control_ci=wilson(0.95, n))
            for label, m in (("stage 2", control), ("stage 4", deep), ("all blocks", deep))]
    return AblationTable("m", "test", "transplant", n, {"top1": 0.9, "top5": None}, rows, donors=9)


def test_a_deep_share_above_the_control_that_the_intervals_cannot_separate_is_said_to_need_more_images():
    few = transplant_finding(_table(0.02, 0.01, 1000))  # CIFAR-10's 1 000 images: 2 % against 1 %, overlapping
    assert few.numbers["verdict"] == "neither"
    assert "1000 images cannot tell it from the control; more images would" in few.text
    assert "do not carry a prediction" not in few.text
    many = transplant_finding(_table(0.02, 0.01, 10000))  # the same shares over 10 000 images: apart
    assert many.numbers["verdict"] == "deep" and many.holds
    none = transplant_finding(_table(0.01, 0.01, 1000))
    assert "do not carry a prediction to that class here" in none.text and "more images" not in none.text
