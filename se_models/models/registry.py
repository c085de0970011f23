"""Model names -> bundled model cards and weights; load_model and the LoadedModel it returns."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image
from torch import nn
from torchvision import transforms

from se_models import config
from se_models.config import DEFAULT_MODEL
from se_models.errors import UnknownBlockError, UnknownModelError
from se_models.hooks.blocks import find_se_blocks, residual_block_path
from se_models.models.architectures import build
from se_models.models.card import ModelCard
from se_models.models.checkpoint import load_weights
from se_models.models.zoo import BUILT, ZOO, build_timm, is_zoo_name, timm_transform

MODELS_DIR = config.MODELS_DIR


@dataclass
class LoadedModel:
    """A model in eval mode with everything needed to feed it and read its SE blocks."""
    name: str
    model: nn.Module
    card: ModelCard                # what is known of the model (for a bundled one: the JSON beside the weights)
    weights: str                   # "trained", "random" or the path of a local checkpoint
    se_blocks: dict[str, str]      # paper name -> module path, shallow to deep
    transform: transforms.Compose
    # one lock per loaded model: hooks are model-global state, so concurrent users must take turns
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def labels(self) -> list[str]:
        return self.card.labels

    @property
    def input_size(self) -> tuple[int, int, int]:
        return tuple(self.card.input_size)

    @property
    def device(self) -> torch.device:
        """Where the model's weights live (load_model's device): inputs go there, results come back to the CPU."""
        weight = next(self.model.parameters(), None)  # a hand-built model may have none: it runs on the CPU
        return torch.device("cpu") if weight is None else weight.device

    @property
    def is_control(self) -> bool:
        return self.weights == "random"

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        """PIL image -> normalized Tensor[C, H, W] at the model's input size."""
        return self.transform(image)

    def model_view(self, image: Image.Image) -> Image.Image:
        """The image as the model sees it: the PIL steps of the preprocessing (grayscale, resize, centre crop)."""
        for step in self._steps()[0]:
            image = step(image)
        return image

    def view_tensor(self, view: Image.Image) -> torch.Tensor:
        """The model's view -> normalized Tensor[C, H, W]: the rest of the preprocessing (preprocess(image) ==
        view_tensor(model_view(image)), so a caller that needs both resizes the photo once)."""
        for step in self._steps()[1]:
            view = step(view)
        return view

    def _steps(self) -> tuple[list, list]:
        """The preprocessing split into its PIL steps and the tensor steps after them (ToTensor, Normalize)."""
        steps = list(self.transform.transforms)
        k = next((i for i, s in enumerate(steps)
                  if not isinstance(s, (transforms.Grayscale, transforms.Resize, transforms.CenterCrop))), len(steps))
        return steps[:k], steps[k:]

    def block_module(self, layer: str) -> str:
        """A paper block name or a module path -> the residual block that holds it (a module path)."""
        if layer in self.se_blocks:
            return residual_block_path(self.se_blocks[layer])
        if layer in dict(self.model.named_modules()):
            return layer
        raise UnknownBlockError(f"unknown layer {layer!r}: use a module path or one of {list(self.se_blocks)}")


def list_models(imagenet: bool = False) -> list[str]:
    """Names of the bundled models (cards in assets/models); with imagenet=True, the timm ImageNet zoo and the
    ResNets built with other channel attention (random weights only) too."""
    return config.bundled_models() + (list(ZOO) + list(BUILT) if imagenet else [])


def load_card(name: str) -> ModelCard:
    """A bundled model's card (assets/models/<name>.json)."""
    path = MODELS_DIR / f"{name}.json"
    if not path.exists():
        raise UnknownModelError(f"unknown model {name!r}; available: {', '.join(list_models(imagenet=True))}, "
                         f"or timm:NAME for any timm model with SE blocks or other channel attention")
    return ModelCard.load(path)


def card_transform(card: ModelCard) -> transforms.Compose:
    """A bundled model's preprocessing from its card: grayscale for one channel, the shorter side resized to the input
    size, the centre square, normalized with the card's mean and std."""
    in_chans, h, _w = card.input_size
    steps = [transforms.Grayscale(1)] if in_chans == 1 else []
    # shorter side to the input size, then the centre square: photos keep their aspect ratio
    steps += [transforms.Resize(h, antialias=True), transforms.CenterCrop(h), transforms.ToTensor(),
              transforms.Normalize(card.mean, card.std)]
    return transforms.Compose(steps)


def load_model(name: str | None = None, weights: str | Path | None = None, device: str | torch.device = "cpu",
               max_params: int | None = None) -> LoadedModel:
    """Load a model by name: bundled, an ImageNet zoo name, or `timm:NAME`.

    weights: None = its own weights (shipped, or timm's pretrained download), a path = a local checkpoint,
    "random" = untrained (the control). device: cpu (default) | cuda | mps | auto (see se_models.device).
    max_params: refuse a timm model with more parameters (ModelTooLarge), counted before it is built; None = any."""
    from se_models.models.device import resolve_device

    name = name or DEFAULT_MODEL
    device = resolve_device(device)
    if is_zoo_name(name):
        model, card, label = build_timm(name, weights, max_params)
        model = model.to(device, memory_format=torch.channels_last).eval()
        return LoadedModel(name, model, card, label, find_se_blocks(model), timm_transform(model))
    return from_card(load_card(name), weights, device)


def from_card(card: ModelCard, weights: str | Path | None = None, device: str | torch.device = "cpu",
              label: str | None = None) -> LoadedModel:
    """A bundled-style model from its card: built with seed 0 (so "random" is always the same untrained control,
    and the initial weights of a seed-0 training run), then `weights` loaded: None = assets/models/<name>.safetensors,
    a path = that file, "random" = none. label: how the statistics name the weights (default "trained", "random" or
    the path). Training uses it for a card not yet written, with each epoch's weights."""
    from se_models.models.device import resolve_device

    with torch.random.fork_rng():  # the control is reproducible, and the caller's RNG stays untouched
        torch.manual_seed(0)
        model = build(card.architecture, len(card.labels), card.in_chans)
    default = "random"
    if weights != "random":
        path = Path(weights) if weights is not None else MODELS_DIR / f"{card.name}.safetensors"
        load_weights(model, path, f"{card.name} ({card.architecture}, {len(card.labels)} classes)")
        default = "trained" if weights is None else str(path)
    # channels-last runs oneDNN's faster convolution kernels on CPU
    model = model.to(resolve_device(device), memory_format=torch.channels_last).eval()
    return LoadedModel(card.name, model, card, label or default, find_se_blocks(model), card_transform(card))
