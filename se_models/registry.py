"""Model names -> bundled model cards and weights; load_model and the LoadedModel it returns."""
from __future__ import annotations

import json
import pickle
import threading
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn
from torchvision import transforms

from .architectures import build
from .blocks import find_se_blocks, residual_block_path
from .zoo import ZOO, build_timm, is_zoo_name, timm_transform

MODELS_DIR = Path(__file__).resolve().parent.parent / "assets" / "models"
DEFAULT_MODEL = "se_resnet20_cifar10"  # the colour model reproduces the paper; Fashion-MNIST is the contrast


class CheckpointError(ValueError):
    """A weights file that cannot be read, or does not fit the model it is loaded into."""


@dataclass
class LoadedModel:
    """A model in eval mode with everything needed to feed it and read its SE blocks."""
    name: str
    model: nn.Module
    card: dict                     # the model card (JSON beside the weights)
    weights: str                   # "trained", "random" or the path of a local checkpoint
    se_blocks: dict[str, str]      # paper name -> module path, shallow to deep
    transform: transforms.Compose
    # one lock per loaded model: hooks are model-global state, so concurrent users must take turns
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def labels(self) -> list[str]:
        return self.card["labels"]

    @property
    def input_size(self) -> tuple[int, int, int]:
        return tuple(self.card["input_size"])

    @property
    def is_control(self) -> bool:
        return self.weights == "random"

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        """PIL image -> normalized Tensor[C, H, W] at the model's input size."""
        return self.transform(image)

    def model_view(self, image: Image.Image) -> Image.Image:
        """The image as the model sees it: the PIL steps of the preprocessing (grayscale, resize, centre crop)."""
        out = image
        for step in self.transform.transforms:
            if not isinstance(step, (transforms.Grayscale, transforms.Resize, transforms.CenterCrop)):
                break  # ToTensor / Normalize: the rest works on tensors
            out = step(out)
        return out

    def block_module(self, block: str) -> str:
        """A paper block name or module path -> the residual block that holds it (a module path)."""
        if block in self.se_blocks:
            return residual_block_path(self.se_blocks[block])
        if block in dict(self.model.named_modules()):
            return block
        raise ValueError(f"unknown layer {block!r}: use a module path or one of {list(self.se_blocks)}")


def list_models(imagenet: bool = False) -> list[str]:
    """Names of the bundled models (cards in assets/models); with imagenet=True, the timm ImageNet zoo too."""
    # beside each card: <name>.reference.json (statistics) and <name>.ablation.json (stored ablation tables)
    bundled = sorted(p.stem for p in MODELS_DIR.glob("*.json") if not p.stem.endswith((".reference", ".ablation")))
    return bundled + (list(ZOO) if imagenet else [])


def reference_path(name: str | None = None) -> Path:
    """assets/models/<name>.reference.json: the model's statistics over its whole test split, with control."""
    return MODELS_DIR / f"{name or DEFAULT_MODEL}.reference.json"


def load_card(name: str) -> dict:
    path = MODELS_DIR / f"{name}.json"
    if not path.exists():
        raise ValueError(f"unknown model {name!r}; available: {', '.join(list_models(imagenet=True))}, "
                         f"or timm:NAME for any timm model with SE blocks")
    return json.loads(path.read_text())


def _transform(card: dict) -> transforms.Compose:
    in_chans, h, _w = card["input_size"]
    steps = [transforms.Grayscale(1)] if in_chans == 1 else []
    # shorter side to the input size, then the centre square: photos keep their aspect ratio
    steps += [transforms.Resize(h, antialias=True), transforms.CenterCrop(h), transforms.ToTensor(),
              transforms.Normalize(card["mean"], card["std"])]
    return transforms.Compose(steps)


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """A safetensors file, or a torch file read with weights_only=True (never arbitrary unpickling)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        if path.suffix == ".safetensors":
            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except (SafetensorError, pickle.UnpicklingError, RuntimeError, OSError, EOFError, ValueError) as err:
        # torch's own text ("Weights only load failed ... Re-running torch.load with weights_only set to False")
        # suggests the unsafe way out; say instead what the file is not
        # (torch has no error type for it: its message names the refused class as an "Unsupported global")
        pickled = isinstance(err, pickle.UnpicklingError) and "Unsupported global" in str(err)
        why = ("it holds Python objects besides tensors, which are not loaded from a file for safety: save the "
               "state dict alone (torch.save(model.state_dict(), path)) or as safetensors" if pickled else
               "it is truncated, or neither a safetensors file nor a weights-only torch file")
        raise CheckpointError(f"{path.name}: not a readable checkpoint: {why}") from err
    if isinstance(state, dict):
        for key in ("model", "state_dict"):  # training checkpoints wrap the weights
            if isinstance(state.get(key), dict):
                state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: holds no state dict of tensors")
    return state


def check_state_dict(model: nn.Module, state: dict[str, torch.Tensor], what: str) -> None:
    """Raise CheckpointError naming every missing, unexpected and wrongly shaped tensor."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(v.shape)}"
              for k, v in own.items() if k in state and state[k].shape != v.shape]
    problems = []
    if shapes:
        problems.append("shape mismatch " + "; ".join(shapes[:5]) + (" ..." if len(shapes) > 5 else ""))
    if missing:
        problems.append(f"{len(missing)} missing tensors (e.g. {', '.join(missing[:3])})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected tensors (e.g. {', '.join(unexpected[:3])})")
    if problems:
        raise CheckpointError(f"checkpoint does not match {what}: " + "; ".join(problems))


def load_model(name: str | None = None, weights: str | Path | None = None) -> LoadedModel:
    """Load a model by name: bundled, an ImageNet zoo name, or `timm:NAME`.

    weights: None = its own weights (shipped, or timm's pretrained download), a path = a local checkpoint,
    "random" = untrained (the control)."""
    name = name or DEFAULT_MODEL
    if is_zoo_name(name):
        model, card, label = build_timm(name, weights)
        model = model.to(memory_format=torch.channels_last).eval()
        return LoadedModel(name, model, card, label, find_se_blocks(model), timm_transform(model))
    card = load_card(name)
    with torch.random.fork_rng():  # the control is reproducible, and the caller's RNG stays untouched
        torch.manual_seed(0)
        model = build(card["architecture"], len(card["labels"]), card["in_chans"])
    label = "random"
    if weights != "random":
        path = Path(weights) if weights is not None else MODELS_DIR / f"{name}.safetensors"
        state = read_state_dict(path)
        check_state_dict(model, state, f"{name} ({card['architecture']}, {len(card['labels'])} classes)")
        model.load_state_dict(state)
        label = "trained" if weights is None else str(path)
    # channels-last runs oneDNN's faster convolution kernels on CPU (about 1.5x here)
    model = model.to(memory_format=torch.channels_last).eval()
    return LoadedModel(name, model, card, label, find_se_blocks(model), _transform(card))
