"""How the gates learned: statistics of every epoch, from train --epoch-stats and from kept epoch weights (one
function both ways), equal to the reference protocol on the same weights, stored compactly; their reading."""
import json
from dataclasses import replace
from types import SimpleNamespace

import pytest
import torch
from safetensors.torch import load_file

from se_models.cli import main
from se_models.config import MODELS_DIR
from se_models.data.datasets import image_folder_arrays
from se_models.findings.epochs import became_learned, epochs_findings, half_way, order, since, starts_at_control
from se_models.models.card import ModelCard
from se_models.models.registry import from_card, load_model
from se_models.plots.epochs import divergence_heatmap
from se_models.stats.epochs import EpochHistory, compact, compact_blocks, replicate_blocks
from se_models.stats.excitation import ExcitationStats, reference_stats
from se_models.stats.stored import epochs_path, reference_path
from se_models.training.epochs import epoch_files, history_over, same_weights
from se_models.training.train import TrainConfig, train
from tests.fakes import LABELS, fake_history, pattern

pytestmark = pytest.mark.xdist_group("test_epochs")  # one worker builds the module-scoped fixture once

FASHION = "se_resnet20_fashion_mnist"


def dumped(blocks) -> str:
    """Blocks (BlockStats or dicts) as the epochs file stores them, as one JSON text: equal text = equal bytes."""
    dicts = [b if isinstance(b, dict) else b.__dict__ for b in blocks]
    return json.dumps(compact_blocks(dicts), separators=(",", ":"))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A tiny in-memory dataset (3 classes of generated 32 px images) and two 2-epoch runs of the same recipe: with
    --epoch-stats and its kept weights, and without."""
    root = tmp_path_factory.mktemp("split")
    for split, n in (("train", 12), ("test", 5)):
        for c in LABELS:
            (root / split / c).mkdir(parents=True)
            for i in range(n):
                pattern(c, size=32, seed=i + (100 if split == "test" else 0)).save(root / split / c / f"{i}.png")
    out = tmp_path_factory.mktemp("models")
    base = dict(dataset=f"imagefolder:{root}", epochs=2, batch_size=8, bf16=False, out=str(out), command="test")
    logs = []
    card = train(TrainConfig(name="toy", epoch_stats=True, epoch_weights=str(out / "toy.epochs"), **base),
                 log=logs.append)
    train(TrainConfig(name="plain", **base), log=lambda m: None)
    return SimpleNamespace(root=root, out=out, card=card, logs=logs,
                           history=EpochHistory.load(epochs_path("toy", out)),
                           test=image_folder_arrays(root / "test", 32))


def test_train_records_the_initialisation_and_every_epoch_without_changing_the_run(run):
    assert run.history.numbers == [0, 1, 2]
    assert [e.weights for e in run.history.epochs] == [f"epoch_0{i}.safetensors" for i in range(3)]
    # the run's own evaluations; none before the first step
    assert [e.test_accuracy for e in run.history.epochs] == [None] + [h["test_accuracy"] for h in run.card.history]
    assert sum("epoch 2 statistics:" in m for m in run.logs) == 1
    # the statistics' passes draw from no generator the run uses: the same recipe without them ends identical
    a, b = load_file(str(run.out / "toy.safetensors")), load_file(str(run.out / "plain.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_the_last_epoch_is_the_reference_protocol_on_the_final_weights(run):
    card = ModelCard.load(run.out / "toy.json")
    final = from_card(card, run.out / "toy.safetensors")
    ref = reference_stats(final, run.test, from_card(card, "random"))
    last = run.history.at(2)
    assert dumped(last.blocks) == dumped(ref.blocks)  # every number and verdict, byte for byte
    assert dumped(run.history.control) == dumped(ref.control)
    assert last.counts == ref.counts == {c: 5 for c in LABELS}
    # and it is not the statistics of some other epoch
    assert dumped(run.history.at(1).blocks) != dumped(ref.blocks)


def test_epoch_zero_is_the_untrained_control(run):
    card = ModelCard.load(run.out / "toy.json")
    control = from_card(card, "random").model.state_dict()
    initial = load_file(str(run.out / "toy.epochs" / "epoch_00.safetensors"))
    assert all(torch.equal(control[k].cpu(), initial[k]) for k in initial)
    assert starts_at_control(run.history)
    zero = run.history.at(0)
    assert zero.untrained and not any(b.learned for b in zero.blocks)  # random weights are never learned
    # a history whose first epoch is some other network does not start at the control
    moved = replace(run.history, epochs=[run.history.epochs[1], *run.history.epochs[1:]])
    assert not starts_at_control(moved)


def test_a_folder_of_kept_weights_gives_the_same_file_as_training(run, tmp_path):
    assert list(epoch_files(run.out / "toy.epochs")) == [0, 1, 2]
    card = ModelCard.load(run.out / "toy.json")
    accuracies = {h["epoch"]: h["test_accuracy"] for h in card.history}
    history = history_over(card, run.out / "toy.epochs", run.test, accuracies, log=lambda m: None)
    assert not history.last_is_model and run.history.last_is_model  # train knows its last epoch is the model
    replace(history, last_is_model=True).save(tmp_path / "again.json")
    assert (tmp_path / "again.json").read_bytes() == epochs_path("toy", run.out).read_bytes()


def test_the_file_is_compact_and_reads_back_whole(run, tmp_path):
    names = run.history.blocks()
    assert replicate_blocks(names) == {"SE_2_3", "SE_3_3", "SE_4_3"}  # the stage ends: the ratios the readings quote
    stored = json.loads(epochs_path("toy", run.out).read_text())
    assert "control" not in stored["epochs"][0]["stats"]  # one control for every epoch
    for b in stored["epochs"][-1]["stats"]["blocks"]:
        assert (b["divergence_boot"] is not None) == (b["name"] in replicate_blocks(names))
    again = EpochHistory.load(epochs_path("toy", run.out))
    last = again.at(2)
    assert last.ratio("SE_4_3", "SE_2_3")[1] is not None  # the depth ratio's interval survives compaction
    assert [b.learned for b in last.blocks] == [b.learned for b in run.history.at(2).blocks]
    with pytest.raises(KeyError, match=r"epoch 7; the history holds epochs \[0, 1, 2\]"):
        again.at(7)


def test_heatmap_marks_each_cell_with_its_verdict(run):
    fig = divergence_heatmap(run.history, selected=1)
    heat = next(t for t in fig.data if t.type == "heatmap")
    assert list(heat.x) == [0, 1, 2] and list(heat.y) == run.history.blocks()
    marks = next(t for t in fig.data if t.type == "scatter" and t.mode == "text")
    mark = {(e, b): m for e, b, m in zip(marks.x, marks.y, marks.text)}
    for i, e in enumerate(run.history.numbers):
        for j, b in enumerate(run.history.at(e).blocks):
            assert mark.get((e, b.name), "") == ("●" if b.learned else "○" if b.above_chance else "")
            assert heat.z[j][i] == b.divergence
    assert "●" in mark.values() and not any(e == 0 and m == "●" for (e, _), m in mark.items())
    assert len(fig.layout.shapes) == 1 and fig.layout.shapes[0].x0 == 0.5  # the selected epoch outlined


# ---- the reading, each way -----------------------------------------------------------------------------------------
def test_since_is_the_epoch_from_which_a_block_stays_learned():
    assert since([False, True, True], [0, 1, 2]) == 1
    assert since([False, True, False, True, True], [0, 1, 2, 3, 4]) == 3
    assert since([False, True, True, False], [0, 1, 2, 3]) is None  # lost at the end
    assert since([False, False], [0, 1]) is None


@pytest.mark.parametrize("flags, holds, words", [
    ({"SE_2_3": [0, 1, 1, 1], "SE_3_3": [0, 0, 1, 1], "SE_4_3": [0, 0, 0, 1]}, True, "Shallow stages learned first"),
    ({"SE_2_3": [0, 0, 0, 1], "SE_3_3": [0, 0, 1, 1], "SE_4_3": [0, 1, 1, 1]}, False, "deep stages learned first"),
    ({"SE_2_3": [0, 0, 1, 1], "SE_3_3": [0, 1, 1, 1], "SE_4_3": [0, 0, 0, 1]}, False, "not learn in depth order"),
    ({"SE_2_3": [0, 1, 1], "SE_3_3": [0, 1, 1], "SE_4_3": [0, 1, 1]}, None, "too coarse a step"),
    ({"SE_2_3": [0, 0, 0], "SE_3_3": [0, 0, 0], "SE_4_3": [0, 1, 1]}, None, "Too few stages"),
])
def test_the_depth_order_comes_out_every_way(flags, holds, words):
    history = fake_history({k: [bool(v) for v in f] for k, f in flags.items()})
    found = order(history)
    assert found.holds is holds and words in found.text


def test_each_stage_is_read_learned_on_and_off_or_never():
    history = fake_history({"SE_2_3": [False, True, True, True], "SE_3_3": [False, True, True, False],
                            "SE_4_3": [False, False, False, False]})
    stages = [f for f in epochs_findings(history) if f.claim == "stage_learned"]
    assert [f.holds for f in stages] == [True, False, False]
    assert stages[0].text == ("SE_2_3 (end of stage 2) became class-specific (learned) at epoch 1 and stayed so to "
                              "epoch 3.")
    assert stages[1].text == ("SE_3_3 (end of stage 3) was learned at some epochs (first at 1) but not at the last, "
                              "epoch 3.")
    assert stages[2].text == "SE_4_3 (end of stage 4) never became class-specific (learned) in these 3 epochs."
    assert became_learned(history) == {"SE_2_3": 1, "SE_3_3": None, "SE_4_3": None}
    again = fake_history({"SE_2_3": [False, True, False, True], "SE_3_3": [False, True, False, True]})
    found = [f for f in epochs_findings(again) if f.claim == "stage_learned"]
    assert [f.text for f in found] == ["SE_2_3 and SE_3_3 (the ends of stages 2 and 3) were first learned at epoch 1, "
                                       "lost it, and are learned steadily from epoch 3."]  # one sentence, two stages


@pytest.mark.parametrize("divergence, holds, words", [
    ({"SE_2_3": [0, 0.6, 0.8, 1], "SE_3_3": [0, 0.2, 0.6, 1], "SE_4_3": [0, 0.1, 0.2, 1]}, True,
     "SE_2_3 reached half of its final class divergence at epoch 1, SE_3_3 at 2, SE_4_3 at 3: the shallow stages"),
    ({"SE_2_3": [0, 0.1, 0.2, 1], "SE_3_3": [0, 0.2, 0.6, 1], "SE_4_3": [0, 0.6, 0.8, 1]}, False,
     "the deep stages got there first"),
    ({"SE_2_3": [0, 0.6, 0.8, 1], "SE_3_3": [0, 0.6, 0.8, 1], "SE_4_3": [0, 0.6, 0.8, 1]}, None, "all at once"),
    ({"SE_2_3": [0, 0.1, 0.8, 1], "SE_3_3": [0, 0.6, 0.8, 1], "SE_4_3": [0, 0.1, 0.2, 1]}, False, "not in depth"),
])
def test_half_way_orders_the_stages_by_size_each_way(divergence, holds, words):
    history = fake_history({b: [False, True, True, True] for b in divergence}, divergence)
    found = half_way(history)
    assert found.holds is holds and words in found.text


# ---- the command line ----------------------------------------------------------------------------------------------
def test_epochs_lists_and_stats_prints_one_epoch(run, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SE_MODELS_CACHE", str(tmp_path))  # a model that is not bundled keeps them in the cache
    target = epochs_path("toy")
    target.parent.mkdir(parents=True)
    target.write_bytes(epochs_path("toy", run.out).read_bytes())
    assert main(["epochs", "--model", "toy", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [e["epoch"] for e in listed["epochs"]] == [0, 1, 2]
    assert listed["epochs"][0]["learned"] == [] and listed["became_learned"] == became_learned(run.history)
    assert main(["stats", "--model", "toy", "--data", "reference", "--epoch", "1", "--json",
                 str(tmp_path / "e1.json")]) == 0
    one = ExcitationStats.load(tmp_path / "e1.json")
    assert dumped(one.blocks) == dumped(run.history.at(1).blocks) and one.control is not None
    assert main(["stats", "--model", "toy", "--data", "reference", "--epoch", "2", "--weights", "random", "--json",
                 str(tmp_path / "c.json")]) == 0
    assert dumped(ExcitationStats.load(tmp_path / "c.json").blocks) == dumped(run.history.control)
    assert main(["stats", "--model", "toy", "--data", "reference", "--epoch", "9", "--json",
                 str(tmp_path / "e9.json")]) == 2
    assert "statistics of epochs 0..2, not 9" in capsys.readouterr().err
    assert main(["epochs", "--model", "nothing_here"]) == 2
    assert "has no per-epoch statistics" in capsys.readouterr().err


@pytest.mark.slow
def test_compute_over_kept_weights_of_the_bundled_model(tmp_path, capsys):
    """epochs --compute: epoch 0 = the control's weights, epoch N = the shipped weights, N the card's epochs (so the
    card's accuracy belongs to it), over a small folder; the last epoch equals the reference protocol on the shipped
    weights. Numbered otherwise, the card's accuracies are not taken."""
    from safetensors.torch import save_file

    loaded = load_model(FASHION)
    kept = tmp_path / "kept"
    kept.mkdir()
    control = load_model(FASHION, "random")
    save_file({k: v.contiguous() for k, v in control.model.state_dict().items()}, str(kept / "epoch_00.safetensors"))
    last = loaded.card.epochs
    (kept / f"epoch_{last:02d}.safetensors").write_bytes((MODELS_DIR / f"{FASHION}.safetensors").read_bytes())
    assert same_weights(kept / f"epoch_{last:02d}.safetensors", MODELS_DIR / f"{FASHION}.safetensors")
    assert not same_weights(kept / "epoch_00.safetensors", kept / f"epoch_{last:02d}.safetensors")
    data = tmp_path / "data"
    for c, label in enumerate(loaded.labels):
        (data / label.replace("/", "-")).mkdir(parents=True)
        for i in range(3):
            pattern(LABELS[c % 3], size=28, seed=c * 10 + i).save(data / label.replace("/", "-") / f"{i}.png")
    out = tmp_path / "out.epochs.json"
    assert main(["epochs", "--model", FASHION, "--compute", str(kept), "--data", str(data), "--out", str(out),
                 "--workers", "0"]) == 0
    assert "(not the run of the shipped weights" not in capsys.readouterr().err
    history = EpochHistory.load(out)
    assert history.numbers == [0, last] and history.epochs[1].test_accuracy == loaded.card.test_accuracy
    assert history.epochs[0].test_accuracy is None
    ref = reference_stats(loaded, str(data), control)
    assert dumped(history.at(last).blocks) == dumped(ref.blocks)
    assert starts_at_control(history)
    (kept / f"epoch_{last:02d}.safetensors").rename(kept / f"epoch_{last + 1:02d}.safetensors")
    assert main(["epochs", "--model", FASHION, "--compute", str(kept), "--data", str(data), "--out", str(out),
                 "--workers", "0"]) == 0
    assert "(not the run of the shipped weights: its card's test accuracies are left out)" in capsys.readouterr().err
    assert EpochHistory.load(out).epochs[1].test_accuracy is None


def test_the_fashion_mnist_model_ships_its_epochs_and_the_last_is_its_reference():
    """The shipped epochs file: the initialisation and at least 10 epochs, the last equal to the shipped reference
    statistics byte for byte (both computed by reference_stats on the same weights and images)."""
    path = epochs_path(FASHION)
    assert path.is_file(), (f"{path} is missing: python -m se_models epochs --model {FASHION} --compute "
                            "DIR-of-the-run's-epoch-weights")
    history = EpochHistory.load(path)
    assert history.numbers[0] == 0 and history.last >= 10 and history.numbers == list(range(history.last + 1))
    reference = json.loads(reference_path(FASHION).read_text())
    stored = json.loads(path.read_text())
    assert json.dumps(stored["epochs"][-1]["stats"]["blocks"]) == json.dumps(compact_blocks(reference["blocks"]))
    assert json.dumps(stored["control"]) == json.dumps(compact_blocks(reference["control"]))
    assert compact(ExcitationStats.from_dict(reference))["counts"] == stored["epochs"][-1]["stats"]["counts"]
    assert starts_at_control(history)


def test_the_train_command_asks_for_epoch_statistics(monkeypatch):
    from se_models.training import train as training

    seen = []
    monkeypatch.setattr(training, "train", lambda cfg, **_kw: seen.append(cfg))
    assert main(["train", "--dataset", "fashion-mnist", "--epoch-stats"]) == 0
    assert main(["train", "--dataset", "fashion-mnist"]) == 0
    assert [c.epoch_stats for c in seen] == [True, False]


def test_the_lesson_step_reads_the_same_findings(run):
    from se_models.findings.epochs import epochs_reading
    from se_models.findings.lesson import epochs_step

    text = epochs_step(run.history)
    assert text.startswith("Each column is one epoch of training (0 = before the first step)")
    assert text.endswith(epochs_reading(run.history, markdown=True))
