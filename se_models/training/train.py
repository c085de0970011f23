"""Training loop for the small SE-ResNets, resumable, and the model card it writes."""
from __future__ import annotations

import json
import math
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from tqdm import tqdm

from se_models import config
from se_models.data.datasets import ArrayDataset, training_data
from se_models.models.architectures import build
from se_models.models.card import ModelCard
from se_models.models.checkpoint import load_weights
from se_models.models.device import resolve_device
from se_models.models.registry import from_card
from se_models.stats.epochs import EpochHistory
from se_models.stats.stored import epochs_path
from se_models.training.epochs import add_epoch, epoch_label, record_epoch, summary


@dataclass
class TrainConfig:
    dataset: str = "fashion-mnist"   # fashion-mnist | cifar10[:DIR] | imagefolder:DIR
    name: str = ""                   # model name; default se_resnet20_<dataset>
    arch: str = "se_resnet20"
    epochs: int = 15
    batch_size: int = 128
    lr: float = 0.15                 # peak of a linear warm-up (5% of steps) then cosine decay to 0
    weight_decay: float = 5e-4       # conv and fc weights only: SE and BN stay free (decay pins gates at 0.5)
    label_smoothing: float = 0.0     # cross-entropy label smoothing (0.1 for the CIFAR-10 model)
    pad: int = 4                     # random-crop padding; 2 for 28 px
    flip: bool = True
    cutout: int = 0                  # side of a square zeroed at a random place in each image (DeVries & Taylor 2017)
    bf16: bool = True                # CPU autocast (faster on CPUs with avx512_bf16); evaluation runs fp32
    seed: int = 0
    eval_every: int = 1              # test accuracy every N epochs and after the last (a pass costs time)
    init: str = ""                   # start from these weights (safetensors or checkpoint): a warm restart
    device: str = "cpu"              # cpu | cuda | mps | auto (se_models.device)
    out: str = str(config.MODELS_DIR)
    epoch_weights: str = ""          # a folder: keep the initial weights (epoch 0) and each epoch's there
    epoch_stats: bool = False        # the reference statistics of epoch 0 and every epoch: <out>/<name>.epochs.json
    command: str = field(default="", repr=False)


def augment(x: torch.Tensor, pad: int, flip: bool, gen: torch.Generator) -> torch.Tensor:
    """Per-image random crop and horizontal flip of a uint8 batch (B, C, H, W).

    Written by hand because torchvision's v2 transforms draw one crop per call, not per image,
    and a per-image Python loop costs more than the convolutions on 2 cores."""
    b, c, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))
    oy = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
    ox = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
    rows = (oy[:, None] + torch.arange(h))[:, None, :, None]  # (B, 1, H, 1)
    cols = (ox[:, None] + torch.arange(w))[:, None, None, :]  # (B, 1, 1, W)
    out = padded[torch.arange(b)[:, None, None, None], torch.arange(c)[None, :, None, None], rows, cols]
    if flip:
        mirror = torch.rand(b, generator=gen) < 0.5
        out[mirror] = out[mirror].flip(-1)
    return out


def cutout(x: torch.Tensor, size: int, gen: torch.Generator) -> torch.Tensor:
    """Cutout: zero a size x size square (the dataset mean, once normalized) centred at a random pixel of each image
    of a (B, C, H, W) batch; squares may run off the border.

    Written by hand as augment() is: torchvision's RandomErasing draws one region per call, not per image."""
    if size <= 0:
        return x
    b, _, h, w = x.shape
    top = torch.randint(0, h, (b, 1, 1), generator=gen) - size // 2  # the square's first row and column
    left = torch.randint(0, w, (b, 1, 1), generator=gen) - size // 2
    ys, xs = torch.arange(h)[None, :, None], torch.arange(w)[None, None, :]
    inside = (ys >= top) & (ys < top + size) & (xs >= left) & (xs < left + size)  # (B, H, W)
    return x.masked_fill(inside[:, None], 0)


def normalize(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """uint8 (B, C, H, W) -> normalized float, channels-last for oneDNN's faster convolutions."""
    x = (x.float() / 255 - mean[:, None, None]) / std[:, None, None]
    return x.contiguous(memory_format=torch.channels_last)


@torch.no_grad()
def evaluate(model: torch.nn.Module, data: ArrayDataset, mean, std, batch: int = 500) -> float:
    """Top-1 accuracy in fp32."""
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    for i in range(0, len(data.labels), batch):
        logits = model(normalize(data.images[i:i + batch], mean, std).to(device))
        correct += (logits.argmax(1).cpu() == data.labels[i:i + batch]).sum().item()
    return correct / len(data.labels)


def _param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    decay, free = [], []
    for name, p in model.named_parameters():
        (free if (".se." in name or p.ndim <= 1) else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": free, "weight_decay": 0.0}]


def _lr_at(step: int, total: int, peak: float) -> float:
    warm = max(1, int(0.05 * total))
    if step < warm:
        return peak * (step + 1) / warm
    return 0.5 * peak * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))


def _init_summary(init: str) -> dict | None:
    """What a warm-started run started from: the card beside the init weights, when there is one."""
    if not init:
        return None
    card_path = Path(init).with_suffix(".json")  # <name>.safetensors -> <name>.json, as train() writes them
    if Path(init).suffix != ".safetensors" or not card_path.exists():
        return {"weights": Path(init).name}
    card = ModelCard.load(card_path)
    return {"weights": Path(init).name, "epochs": card.epochs, "test_accuracy": card.test_accuracy,
            "train_command": card.train_command}


def _save_weights(model: torch.nn.Module, path: Path) -> None:
    save_file({k: v.contiguous().cpu() for k, v in model.state_dict().items()}, str(path))


class EpochStatsWriter:
    """train --epoch-stats: after the initialisation and after every epoch, the reference statistics of the weights
    just saved (record_epoch, the function `epochs --compute` runs over a folder), added to <out>/<name>.epochs.json
    at once, so a resumed run carries on from the file."""

    def __init__(self, card: ModelCard, test_set: ArrayDataset, out: Path, keep: Path | None, device,
                 log: Callable[[str], None], epochs: int, warm_start: bool = False):
        self.card, self.test_set, self.device, self.log, self.epochs = card, test_set, device, log, epochs
        self.warm_start = warm_start  # epoch 0 is then the --init weights, not a random initialisation
        self.path = epochs_path(card.name, out)
        self.keep = keep  # the kept epoch weights, or None: then each epoch's weights go to a temporary file
        self.control = from_card(card, "random", device)  # seed 0: the initial weights of a seed-0 run
        self.history = EpochHistory.load(self.path) if self.path.exists() else None

    def record(self, model: torch.nn.Module, epoch: int, test_accuracy: float | None) -> None:
        t0 = time.time()
        with tempfile.TemporaryDirectory() as tmp:
            weights = (self.keep or Path(tmp)) / f"epoch_{epoch:02d}.safetensors"
            if not weights.exists():
                _save_weights(model, weights)
            label = epoch_label(epoch, self.warm_start)
            self.history = add_epoch(self.history, record_epoch(self.card, weights, epoch, self.test_set,
                                                                self.control, test_accuracy, self.device,
                                                                label=label))
        # the run writes its last epoch's weights as the model's: true once the last epoch is recorded
        self.history = replace(self.history, last_is_model=epoch == self.epochs)
        self.history.save(self.path)
        self.log(f"{summary(self.history, epoch)} ({time.time() - t0:.0f} s) -> {self.path}")


def train(cfg: TrainConfig, resume: bool = False, log: Callable[[str], None] = print) -> ModelCard:
    """Train, checkpoint every epoch, then write <out>/<name>.safetensors and <name>.json; returns the card."""
    torch.manual_seed(cfg.seed)
    train_set, ds_name = training_data(cfg.dataset, train=True)
    test_set, _ = training_data(cfg.dataset, train=False)
    name = cfg.name or f"{cfg.arch}_{ds_name.replace('-', '_')}"
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / f"{name}.ckpt.pt"
    in_chans, size = train_set.images.shape[1], train_set.images.shape[-1]
    pixels = train_set.images.float().div(255).transpose(0, 1).reshape(in_chans, -1)
    mean, std = pixels.mean(1), pixels.std(1)

    # what the card says about feeding the model is known before training: epoch statistics read images through it
    card = ModelCard(name=name, kind="bundled", architecture=cfg.arch, dataset=ds_name, labels=train_set.classes,
                     in_chans=in_chans, input_size=[in_chans, size, size], mean=[round(v, 4) for v in mean.tolist()],
                     std=[round(v, 4) for v in std.tolist()])
    model = build(cfg.arch, len(train_set.classes), in_chans)
    resuming = resume and ckpt_path.exists()
    if cfg.init and not resuming:  # a resumed run's checkpoint already holds the weights: the init file may be gone
        load_weights(model, cfg.init, f"{cfg.arch} with {len(train_set.classes)} classes")
    device = resolve_device(cfg.device)
    model = model.to(device, memory_format=torch.channels_last)
    opt = torch.optim.SGD(_param_groups(model, cfg.weight_decay), lr=cfg.lr, momentum=0.9, nesterov=True)
    gen = torch.Generator().manual_seed(cfg.seed)
    start, history = 0, []
    if resuming:
        ckpt = torch.load(ckpt_path, map_location=device, weights_only=True)
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["opt"])
        gen.set_state(ckpt["gen"])
        start, history = ckpt["epoch"], ckpt["history"]
        log(f"resumed {name} at epoch {start}")

    keep = Path(cfg.epoch_weights) if cfg.epoch_weights else None
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        if start == 0:
            _save_weights(model, keep / "epoch_00.safetensors")
    stats = (EpochStatsWriter(card, test_set, out, keep, device, log, cfg.epochs, bool(cfg.init)) if cfg.epoch_stats
             else None)
    if stats is not None and start == 0:
        stats.record(model, 0, None)
    n = len(train_set.labels)
    steps_per_epoch = n // cfg.batch_size  # drop the ragged last batch: BN dislikes tiny batches
    total = cfg.epochs * steps_per_epoch
    for epoch in range(start, cfg.epochs):
        model.train()
        t0, seen_loss = time.time(), 0.0
        order = torch.randperm(n, generator=gen)
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{cfg.epochs}", file=sys.stderr, leave=False)
        for i in bar:
            idx = order[i * cfg.batch_size:(i + 1) * cfg.batch_size]
            x = cutout(normalize(augment(train_set.images[idx], cfg.pad, cfg.flip, gen), mean, std), cfg.cutout, gen)
            x, target = x.to(device, non_blocking=True), train_set.labels[idx].to(device, non_blocking=True)
            for g in opt.param_groups:
                g["lr"] = _lr_at(epoch * steps_per_epoch + i, total, cfg.lr)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.bf16):
                loss = F.cross_entropy(model(x), target, label_smoothing=cfg.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            seen_loss += loss.item()
            bar.set_postfix(loss=f"{seen_loss / (i + 1):.3f}")
        row = {"epoch": epoch + 1, "loss": round(seen_loss / steps_per_epoch, 4)}
        if (epoch + 1) % cfg.eval_every == 0 or epoch + 1 == cfg.epochs:
            row["test_accuracy"] = round(evaluate(model, test_set, mean, std), 4)
        history.append({**row, "seconds": round(time.time() - t0, 1)})
        log(json.dumps(history[-1]))
        if keep is not None:
            _save_weights(model, keep / f"epoch_{epoch + 1:02d}.safetensors")
        if stats is not None:
            stats.record(model, epoch + 1, row.get("test_accuracy"))
        tmp = ckpt_path.with_suffix(".tmp")
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(),
                    "epoch": epoch + 1, "history": history}, tmp)
        tmp.replace(ckpt_path)  # atomic: an interrupted save never leaves a broken checkpoint

    model.eval()
    last = history[-1] if history else {}
    acc = last.get("test_accuracy") if last.get("epoch") == cfg.epochs else None  # the last epoch's evaluation
    if acc is None:  # a resumed run that had already stopped between evaluations
        acc = evaluate(model, test_set, mean, std)
    _save_weights(model, out / f"{name}.safetensors")
    card = replace(
        card, test_accuracy=round(acc, 4), test_images=len(test_set.labels), epochs=cfg.epochs,
        params=sum(p.numel() for p in model.parameters()), train_command=cfg.command, init=_init_summary(cfg.init),
        config={k: v for k, v in asdict(cfg).items()
                if k not in ("command", "out", "device", "epoch_weights", "epoch_stats")},
        history=history)
    card.save(out / f"{name}.json")
    log(f"wrote {out / name}.safetensors: test accuracy {acc:.4f}")
    return card
