"""Statistics of every epoch: the reference protocol over the test split for the weights of epoch 0 (the
initialisation) and of each epoch after it. One function, `record_epoch`, serves both `train --epoch-stats` (after
each epoch) and `python -m se_models epochs --compute DIR` (over a folder of kept epoch weights)."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch

from se_models.errors import CheckpointError
from se_models.models.card import ModelCard
from se_models.models.checkpoint import read_state_dict
from se_models.models.registry import LoadedModel, from_card
from se_models.stats.epochs import Epoch, EpochHistory
from se_models.stats.excitation import reference_stats

EPOCH_FILE = re.compile(r"epoch_(\d+)\.safetensors")  # what train --epoch-weights writes: epoch_00 = the initial


def epoch_files(folder: str | Path) -> dict[int, Path]:
    """epoch number -> weights file of a folder that train --epoch-weights filled, in epoch order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: not a folder of epoch weights (train --epoch-weights DIR writes one)")
    found = {int(m.group(1)): p for p in folder.iterdir() if (m := EPOCH_FILE.fullmatch(p.name))}
    if not found:
        raise CheckpointError(f"{folder}: no epoch_NN.safetensors files in it (train --epoch-weights DIR writes "
                              "them)")
    return dict(sorted(found.items()))


def epoch_label(epoch: int, warm_start: bool = False) -> str:
    """How an epoch's statistics name their weights: epoch 0 is the random initialisation ("random", so the readings
    treat it as untrained), unless the run was warm-started from trained weights (train --init)."""
    if epoch == 0:
        return "initial weights (warm start)" if warm_start else "random"
    return f"epoch {epoch}"


def record_epoch(card: ModelCard, weights: str | Path, epoch: int, data, control: LoadedModel,
                 test_accuracy: float | None = None, device: str | torch.device = "cpu",
                 progress: Callable[[int, int], None] | None = None, workers: int = 0, label: str | None = None
                 ) -> Epoch:
    """One epoch's statistics: the model of `card` with the weights file of that epoch, under the reference protocol
    (reference_stats: every image of `data`, the untrained `control`); label names the weights in the statistics
    (default epoch_label). The caller's random state is untouched, so a
    training run with epoch statistics takes the same steps as one without."""
    with torch.random.fork_rng(devices=[]):  # the DataLoader draws a seed from torch's global generator
        loaded = from_card(card, weights, device, label=label or epoch_label(epoch))
        stats = reference_stats(loaded, data, control, progress, workers)
    return Epoch(epoch, Path(weights).name, test_accuracy, stats)


def add_epoch(history: EpochHistory | None, epoch: Epoch) -> EpochHistory:
    """A history with this epoch added; the first epoch recorded brings the control (every epoch measures the same
    seed-0 network on the same images, so their controls are one and the same)."""
    if history is None:
        return EpochHistory(epoch.stats.model, epoch.stats.data, epoch.stats.control, [strip(epoch)])
    return history.add(strip(epoch))


def strip(epoch: Epoch) -> Epoch:
    """The epoch without its copy of the control (the history keeps one)."""
    return replace(epoch, stats=replace(epoch.stats, control=None))


def same_weights(a: str | Path, b: str | Path) -> bool:
    """Whether two weights files hold the same tensors (the shipped model is its run's last epoch)."""
    x, y = read_state_dict(a), read_state_dict(b)
    return x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x)


def history_over(card: ModelCard, folder: str | Path, data, accuracies: dict[int, float] | None = None,
                 device: str | torch.device = "cpu", log: Callable[[str], None] = print,
                 progress: Callable[[int, int], None] | None = None, workers: int = 0) -> EpochHistory:
    """Every epoch of a folder of kept weights (epoch_00 .. epoch_NN), each through record_epoch."""
    control = from_card(card, "random", device)
    history = None
    for epoch, path in epoch_files(folder).items():
        history = add_epoch(history, record_epoch(card, path, epoch, data, control, (accuracies or {}).get(epoch),
                                                  device, progress, workers, epoch_label(epoch, bool(card.init))))
        log(summary(history, epoch))
    return history


def summary(history: EpochHistory, epoch: int) -> str:
    """One log line: the epoch and which blocks are learned (class-specific) at it."""
    stats = history.at(epoch)
    learned = [b.name for b in stats.blocks if b.class_specific]
    return f"epoch {epoch} statistics: {len(learned)} of {len(stats.blocks)} blocks learned" + (
        f" ({', '.join(learned)})" if learned else "")
