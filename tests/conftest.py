"""Shared fixtures: tiny random SE-ResNets wrapped as LoadedModels, generated images, the bundled model."""
from __future__ import annotations

import io
from contextlib import ExitStack

import numpy as np
import pytest
import torch
from PIL import Image

from se_models.config import PROJECT
from se_models.hooks.blocks import find_se_blocks
from se_models.hooks.manager import ModelHooks
from se_models.models.architectures import SEResNetSmall
from se_models.models.card import ModelCard
from se_models.models.registry import LoadedModel, card_transform

LABELS = ["circle", "square", "stripes"]
APP = str(PROJECT / "dashboard" / "app.py")  # the Streamlit entry point the app tests run


def make_loaded(in_chans: int = 3, size: int = 16, seed: int = 0, num_classes: int = 3) -> LoadedModel:
    """A 2-stage SE-ResNet with 2 blocks per stage (SE_2_1 .. SE_3_2), random weights: milliseconds a forward pass."""
    torch.manual_seed(seed)
    model = SEResNetSmall(num_classes=num_classes, in_chans=in_chans, widths=(8, 16), depth=2, reduction=4).eval()
    card = ModelCard(name="tiny", kind="bundled", architecture="tiny", dataset="tiny", labels=LABELS[:num_classes],
                     in_chans=in_chans, input_size=[in_chans, size, size], mean=[0.5] * in_chans,
                     std=[0.25] * in_chans)
    return LoadedModel("tiny", model, card, "random", find_se_blocks(model), card_transform(card))


@pytest.fixture
def tiny():
    return make_loaded()


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def hook_count(model: torch.nn.Module) -> int:
    """Hooks left on any module, read from torch's own dicts (not through the library, whose cleanup is tested)."""
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in model.modules())


class PassCounter:
    """Counts forward passes of a model (a forward hook on the model itself, through ModelHooks) and backward passes
    through it (a gradient hook on each pass's output: every backward pass starts from the logits).

    Counting starts at construction and ends with remove() (or use it as a context manager). Give it the nn.Module,
    not a LoadedModel: a counter must not hold the model's lock while other threads (an app's) run the model."""

    def __init__(self, model: torch.nn.Module):
        self.forward = self.backward = 0
        self._open = ExitStack()  # keeps the ModelHooks block open until remove()
        self._open.enter_context(ModelHooks(model)).forward("", self._count_forward)

    def _count_forward(self, _module, _inputs, output):
        self.forward += 1
        if output.requires_grad:
            output.register_hook(self._count_backward)

    def _count_backward(self, _grad):
        self.backward += 1

    def remove(self) -> None:
        self._open.close()

    def __enter__(self) -> PassCounter:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def png_bytes(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def pattern(kind: str, size: int = 16, seed: int = 0) -> Image.Image:
    """Generated class images: a bright disc, a bright square, or vertical stripes, with noise."""
    r = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    if kind == "circle":
        a = ((yy - size / 2) ** 2 + (xx - size / 2) ** 2 < (size / 3) ** 2).astype(float)
    elif kind == "square":
        a = ((abs(yy - size / 2) < size / 4) & (abs(xx - size / 2) < size / 4)).astype(float)
    else:
        a = (xx // 2 % 2).astype(float)
    a = np.clip(a * 200 + r.normal(0, 20, a.shape) + 30, 0, 255).astype(np.uint8)
    return Image.fromarray(np.stack([a, a // 2, 255 - a], -1))


@pytest.fixture
def image_folder(tmp_path):
    """DIR/<class>/<image>.png with 6 generated images per class."""
    for c in LABELS:
        (tmp_path / c).mkdir()
        for i in range(6):
            pattern(c, seed=i).save(tmp_path / c / f"{i}.png")
    return tmp_path


def crafted_stats(divergences: dict[str, float], control: dict[str, float] | None = None, weights: str = "trained",
                  p: float | dict[str, float] = 0.001, spread: float = 0.02, permutations: int = 200):
    """ExcitationStats made from chosen numbers, judged by the library's own rules: block -> divergence, each with a
    200-replicate bootstrap of relative spread `spread` (independent per block), a permutation p (one for all or
    per block), a chance level a tenth of the divergence, and the control's blocks the same way."""
    from se_models.hooks.naming import stage_index
    from se_models.stats.excitation import BlockStats, ExcitationStats

    def blocks(divs: dict[str, float], seed: int) -> list[BlockStats]:
        out = []
        for i, (name, d) in enumerate(divs.items()):
            boot = np.clip(d * (1 + np.random.default_rng(seed + i).normal(0, spread, 200)), 0, None)
            si = stage_index(name) or (None, None)
            out.append(BlockStats(
                name=name, module=name, stage=si[0], index=si[1], channels=2, divergence=d, eta_squared=0.5,
                probe_accuracy=0.5, chance=0.5, mean=0.5, std=0.1, channel_spread=0.1, saturated_high=0.0,
                saturated_low=0.0, sampled_channels=[0, 1], all_mean=[0.5, 0.5],
                class_means={"a": [0.5 - d, 0.5], "b": [0.5 + d, 0.5]}, class_stds={"a": [0.1, 0.1], "b": [0.1, 0.1]},
                divergence_null=[d / 20, d / 10], divergence_p=p.get(name, 0.001) if isinstance(p, dict) else p,
                divergence_ci=np.percentile(boot, [2.5, 97.5]).tolist(), divergence_boot=boot.tolist(),
                probe_ci=[0.4, 0.6], probe_null=0.5))
        return out
    return ExcitationStats("crafted", weights, "crafted data", ["a", "b"], None, {"a": 500, "b": 500},
                           blocks(divergences, 0), control=blocks(control, 100) if control else None,
                           sample_counts={"a": 200, "b": 200}, permutations=permutations, bootstrap=200).judged()
