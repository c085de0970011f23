"""The course's other lenses: guided backprop and deconvnet through captum, guided Grad-CAM (guided backprop times our
Grad-CAM), and first-layer filters."""
from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torchvision.utils import make_grid

from se_models.errors import UnknownMethodError
from se_models.explain.cam import cam_pass, class_indices, default_layer, grad_cam
from se_models.explain.overlay import overlay

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


def targets(loaded, images: torch.Tensor, target=None) -> list[int]:
    """The class each image's map explains: `target` (one index, or one per image; checked, UnknownClassError), or
    with None each image's predicted class."""
    return class_indices(target, len(images), len(loaded.labels)) or predicted(loaded, images)


def attribute(loaded, images: torch.Tensor, method: str, target=None) -> torch.Tensor:
    """One method's attribution for a batch (B, C, H, W) -> (B, C, H, W) (Grad-CAM: (B, 1, H, W) in [0, 1]).

    target None = each image's predicted class. In-place ReLUs (timm's SE-ResNets) need no copy of the model:
    captum's ReLU pre-hook hands the ReLU a clone of its input, so the in-place write never reaches the tensor
    autograd saved (tests/test_lenses.py checks the result equals the same model with inplace=False)."""
    if method not in METHODS:
        raise UnknownMethodError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    chosen = targets(loaded, images, target)
    if method == "gradcam":
        return grad_cam(loaded, images, chosen)[:, None]
    # imported here, not with the module: captum is slow to import, and the command line and the app load this
    # module's names (METHODS) without running a guided method
    from captum.attr import Deconvolution, GuidedBackprop

    model = loaded.model
    with loaded.lock, torch.enable_grad(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU")  # captum's notice, every call
        x = images.to(loaded.device).clone().requires_grad_(True)
        if method == "guided-backprop":
            out = GuidedBackprop(model).attribute(x, target=chosen)
        elif method == "deconvnet":
            out = Deconvolution(model).attribute(x, target=chosen)
        else:  # guided Grad-CAM: guided backprop times the Grad-CAM map at the default layer, upsampled bilinear
            # and not scaled, the product captum's GuidedGradCam forms (its default upsampling, nearest, draws blocks)
            layer = default_layer(loaded)
            cam = cam_pass(loaded, images, [layer], chosen).maps[layer]  # (B, H, W)
            out = GuidedBackprop(model).attribute(x, target=chosen) * cam[:, None]
    return out.detach().float().cpu()


def saliency(attr: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) attribution -> (B, H, W) importance in [0, 1]: the largest absolute value over channels
    (Simonyan et al. 2014), each map scaled to maximum 1; what the sanity check and faithfulness compare."""
    sal = attr.abs().amax(1)
    return sal / sal.flatten(1).amax(1).clamp_min(1e-12)[:, None, None]


def maps(loaded, images: torch.Tensor, methods=tuple(METHODS), target=None) -> dict[str, torch.Tensor]:
    """method -> (B, H, W) saliency in [0, 1] for the same images and the same target classes."""
    chosen = targets(loaded, images, target)
    return {m: saliency(attribute(loaded, images, m, chosen)) for m in methods}


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
    chosen = targets(loaded, x, target)
    return picture(loaded.model_view(image), attribute(loaded, x, method, chosen)[0], method, size), chosen[0]


def first_conv(model: nn.Module) -> nn.Conv2d:
    """The first convolution in forward (registration) order: the one that looks at pixels."""
    return next(m for m in model.modules() if isinstance(m, nn.Conv2d))


def filter_grid(model: nn.Module, patch: int = 28, cols: int | None = None, gap: int = 2) -> Image.Image:
    """The first convolution's filters as an image grid on white, `cols` a row (default: a square): RGB filters as
    colour patches, others in grey (the mean over input channels, exact for one-channel models); each filter scaled
    to its own min..max and enlarged to patch x patch px, each weight one visible square."""
    w = first_conv(model).weight.detach().float().cpu()  # (O, I, k, k)
    w = w if w.shape[1] == 3 else w.mean(1, keepdim=True)
    lo, hi = w.flatten(1).amin(1), w.flatten(1).amax(1)
    w = (w - lo[:, None, None, None]) / (hi - lo).clamp_min(1e-12)[:, None, None, None]
    # nearest-exact: the pixel centres' rule, as PIL's NEAREST; (O, 1 or 3, patch, patch), grey made RGB by make_grid
    tiles = F.interpolate(w, size=(patch, patch), mode="nearest-exact")
    grid = make_grid(tiles, nrow=cols or int(np.ceil(np.sqrt(len(w)))), padding=gap, pad_value=1.0)  # (3, H, W)
    return Image.fromarray((grid * 255).to(torch.uint8).permute(1, 2, 0).numpy())


def model_input_picture(loaded, image: Image.Image, size: int = 256) -> Image.Image:
    """The image as the model sees it (its own resize and crop, grayscale), enlarged for a row beside the maps."""
    return loaded.model_view(image).convert("RGB").resize((size, size), Image.NEAREST)
