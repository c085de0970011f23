"""The course's other lenses through captum: guided backprop, deconvnet, guided Grad-CAM, and first-layer filters."""
from __future__ import annotations

import warnings

import numpy as np
import torch
from captum.attr import Deconvolution, GuidedBackprop, GuidedGradCam
from PIL import Image
from torch import nn

from se_models.errors import UnknownClassError, UnknownMethodError
from se_models.explain.cam import grad_cam, overlay

METHODS = {  # CLI / URL name -> what a student reads
    "gradcam": "Grad-CAM",
    "guided-backprop": "Guided backprop",
    "deconvnet": "Deconvnet",
    "guided-gradcam": "Guided Grad-CAM",
}


def relu_count(model: nn.Module) -> int:
    """How many nn.ReLU modules captum's guided methods can hook; with none (SiLU / GELU models, or relus called
    as functions) guided backprop and deconvnet fall back to the plain gradient."""
    return sum(isinstance(m, nn.ReLU) for m in model.modules())


def predicted(loaded, images: torch.Tensor) -> list[int]:
    """Each image's predicted class (one forward pass without gradients)."""
    with loaded.lock, torch.no_grad():
        return loaded.model(images.to(loaded.device)).argmax(1).tolist()


def _targets(loaded, images: torch.Tensor, target) -> list[int]:
    if target is None:
        return predicted(loaded, images)
    targets = [int(target)] * len(images) if isinstance(target, int) else [int(t) for t in target]
    bad = [t for t in targets if not 0 <= t < len(loaded.labels)]
    if bad:
        raise UnknownClassError(f"class index {bad[0]} out of range: the model has {len(loaded.labels)} classes")
    return targets


def cam_layer(loaded) -> nn.Module:
    """The layer Grad-CAM and guided Grad-CAM read: the last residual block (se_models.cam's default)."""
    return dict(loaded.model.named_modules())[loaded.block_module(list(loaded.se_blocks)[-1])]


def attribute(loaded, images: torch.Tensor, method: str, target=None) -> torch.Tensor:
    """One method's attribution for a batch (B, C, H, W) -> (B, C, H, W) (Grad-CAM: (B, 1, H, W) in [0, 1]).

    target None = each image's predicted class. In-place ReLUs (timm's SE-ResNets) need no copy of the model:
    captum's ReLU pre-hook hands the ReLU a clone of its input, so the in-place write never reaches the tensor
    autograd saved (tests/test_lenses.py checks the result equals the same model with inplace=False)."""
    if method not in METHODS:
        raise UnknownMethodError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    targets = _targets(loaded, images, target)
    if method == "gradcam":
        return grad_cam(loaded, images, targets)[:, None]
    model = loaded.model
    with loaded.lock, torch.enable_grad(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU")  # captum's notice, every call
        x = images.to(loaded.device).clone().requires_grad_(True)
        if method == "guided-backprop":
            out = GuidedBackprop(model).attribute(x, target=targets)
        elif method == "deconvnet":
            out = Deconvolution(model).attribute(x, target=targets)
        else:  # bilinear like our Grad-CAM (captum's default is nearest, which draws blocks)
            out = GuidedGradCam(model, cam_layer(loaded)).attribute(x, target=targets, interpolate_mode="bilinear")
    return out.detach().float().cpu()


def saliency(attr: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) attribution -> (B, H, W) importance in [0, 1]: the largest absolute value over channels
    (Simonyan et al. 2014), each map scaled to maximum 1; what the sanity check and faithfulness compare."""
    sal = attr.abs().amax(1)
    return sal / sal.flatten(1).amax(1).clamp_min(1e-12)[:, None, None]


def maps(loaded, images: torch.Tensor, methods=tuple(METHODS), target=None) -> dict[str, torch.Tensor]:
    """method -> (B, H, W) saliency in [0, 1] for the same images and the same target classes."""
    targets = _targets(loaded, images, target)
    return {m: saliency(attribute(loaded, images, m, targets)) for m in methods}


def picture(view: Image.Image, attr: torch.Tensor, method: str, size: int = 256, alpha: float = 0.5) -> Image.Image:
    """One image's attribution (C, H, W) as a picture: Grad-CAM over `view`, the image as the model saw it
    (LoadedModel.model_view); the gradient methods as the course
    draws them, the signed gradient centred on grey (RGB for colour models, grey for one channel)."""
    if method == "gradcam":
        return overlay(view, attr[0], alpha, size)
    g = attr / attr.abs().max().clamp_min(1e-12)  # (C, H, W) in [-1, 1]
    arr = ((g * 0.5 + 0.5).clamp(0, 1) * 255).byte().permute(1, 2, 0).numpy()
    pic = Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr[..., :3])
    return pic.convert("RGB").resize((size, size), Image.BICUBIC)


def explain(loaded, image: Image.Image, method: str, target=None, size: int = 256) -> tuple[Image.Image, int]:
    """(picture, explained class) for one image: what `python -m se_models explain` writes."""
    x = loaded.preprocess(image)[None]
    targets = _targets(loaded, x, target)
    return picture(loaded.model_view(image), attribute(loaded, x, method, targets)[0], method, size), targets[0]


def first_conv(model: nn.Module) -> nn.Conv2d:
    """The first convolution in forward (registration) order: the one that looks at pixels."""
    return next(m for m in model.modules() if isinstance(m, nn.Conv2d))


def filter_grid(model: nn.Module, patch: int = 28, cols: int | None = None, gap: int = 2) -> Image.Image:
    """The first convolution's filters as an image grid: RGB filters as colour patches, others in grey (the mean
    over input channels, exact for one-channel models); each filter scaled to its own min..max."""
    w = first_conv(model).weight.detach().float()  # (O, I, k, k)
    w = w if w.shape[1] == 3 else w.mean(1, keepdim=True)
    lo, hi = w.flatten(1).amin(1), w.flatten(1).amax(1)
    w = (w - lo[:, None, None, None]) / (hi - lo).clamp_min(1e-12)[:, None, None, None]
    n = w.shape[0]
    cols = cols or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    grid = Image.new("RGB", (cols * (patch + gap) + gap, rows * (patch + gap) + gap), "white")
    for i in range(n):
        arr = (w[i].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
        tile = Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr).convert("RGB")
        tile = tile.resize((patch, patch), Image.NEAREST)  # nearest: each weight stays one visible square
        grid.paste(tile, (gap + (i % cols) * (patch + gap), gap + (i // cols) * (patch + gap)))
    return grid


def model_input_picture(loaded, image: Image.Image, size: int = 256) -> Image.Image:
    """The image as the model sees it (its own resize and crop, grayscale), enlarged for a row beside the maps."""
    return loaded.model_view(image).convert("RGB").resize((size, size), Image.NEAREST)
