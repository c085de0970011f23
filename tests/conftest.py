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
