"""Grad-CAM (Selvaraju et al.) at any number of layers from one forward and one backward pass, for a batch."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from se_models.errors import UnknownClassError
from se_models.explain.overlay import normalize_cam
from se_models.hooks.manager import ModelHooks

if TYPE_CHECKING:  # annotations only: the registry sits above this module
    from se_models.models.registry import LoadedModel


def class_indices(target: int | list[int] | None, batch: int, num_classes: int) -> list[int] | None:
    """A class to explain for every image of a batch: one index for all, or one per image; None stays None (each
    image's predicted class). UnknownClassError for an index the model does not have."""
    if target is None:
        return None
    targets = [int(target)] * batch if isinstance(target, int) else [int(t) for t in target]
    bad = [t for t in targets if not 0 <= t < num_classes]
    if bad:
        raise UnknownClassError(f"class index {bad[0]} out of range: the model has {num_classes} classes")
    return targets


def default_layer(loaded: LoadedModel) -> str:
    """The layer Grad-CAM reads unless told otherwise: the last SE block's residual block (the deepest stage end)."""
    return list(loaded.se_blocks)[-1]


@dataclass
class CamPass:
    """One forward and one backward pass: the logits, the classes explained, and every layer's Grad-CAM map."""
    logits: torch.Tensor                # (B, num_classes), detached, on the model's device
    targets: list[int]                  # the class each image's maps explain
    maps: dict[str, torch.Tensor]       # layer -> (B, H, W) ReLU(sum_c alpha_c A_c), bilinear to the input, not scaled
    grids: dict[str, tuple[int, int]]   # layer -> (h, w) of its activations: the map's resolution before upsampling

    def scaled(self, layer: str) -> torch.Tensor:
        """One layer's maps (B, H, W) with each image's maximum scaled to 1: what is drawn and compared."""
        return normalize_cam(self.maps[layer])


def cam_pass(loaded: LoadedModel, images: torch.Tensor, layers: list[str],
             target: int | list[int] | None = None) -> CamPass:
    """Grad-CAM of a batch (B, C, H, W) at each of `layers` (paper block names or module paths) for `target` (None =
    each image's predicted class), from ONE forward and ONE backward pass; hooks through ModelHooks (the model's lock
    held, removed on exit). The maps are on the model's device; images go there.

    Built by hand rather than with captum's LayerGradCam (the reference in tests/test_cam.py), because that takes one
    layer per call and so costs one forward + backward per layer; here forward hooks keep every layer's output and
    one torch.autograd.grad call returns the class scores' gradient with respect to all of them at once."""
    paths = {name: loaded.block_module(name) for name in layers}
    x = images.to(loaded.device)
    kept: dict[str, torch.Tensor] = {}

    def keep(name: str):
        def hook(_module, _inputs, output):
            # Keep the layer's output and hand the rest of the network a clone. A later in-place op (an in-place
            # ReLU or `x += shortcut` applied by the caller, torchvision style) would otherwise overwrite the kept
            # tensor and rebase its autograd history, so the map would show post-op values and gradients. timm's
            # ResNets do both in place inside the block, before this hook; captum's layer hooks clone the same way.
            kept[name] = output
            return output.clone()
        return hook

    with ModelHooks(loaded) as hooks, torch.enable_grad():
        for name, path in paths.items():
            hooks.forward(path, keep(name))
        logits = hooks.model(x)  # (B, num_classes)
        targets = class_indices(target, len(x), logits.shape[1]) or logits.argmax(1).tolist()
        # each image's class score; in eval mode images do not interact, so the gradient of the sum with respect to
        # a layer's output is every image's own gradient
        score = logits.gather(1, torch.tensor(targets, device=logits.device)[:, None]).sum()
        acts = [kept[name] for name in layers]  # each (B, C, h, w)
        grads = torch.autograd.grad(score, acts, allow_unused=True)
    size = tuple(x.shape[-2:])
    maps = {}
    for name, act, grad in zip(layers, acts, grads):
        if grad is None:  # a layer the class score does not depend on: no evidence anywhere
            grad = torch.zeros_like(act)
        weights = grad.float().mean((2, 3), keepdim=True)  # (B, C, 1, 1): alpha, the gradient's spatial mean
        cam = torch.relu((weights * act.detach().float()).sum(1, keepdim=True))  # (B, 1, h, w)
        # bilinear as captum's LayerAttribution.interpolate(..., "bilinear") (its default, nearest, draws blocks)
        maps[name] = F.interpolate(cam, size, mode="bilinear")[:, 0]
    return CamPass(logits.detach(), targets, maps, {n: tuple(a.shape[-2:]) for n, a in zip(layers, acts)})


def grad_cam(loaded: LoadedModel, images: torch.Tensor, target: int | list[int] | None = None,
             layer: str | None = None) -> torch.Tensor:
    """Grad-CAM (B, H, W) in [0, 1] at `layer` (module path or paper block name; default the last residual block);
    target None = each image's predicted class. One forward and one backward pass (cam_pass); results on the CPU."""
    layer = layer or default_layer(loaded)
    return cam_pass(loaded, images, [layer], target).scaled(layer).cpu()


def grad_cam_views(loaded: LoadedModel, images: list, layer: str) -> tuple[list, torch.Tensor, list[int]]:
    """Several photos -> (each as the model saw it (PIL), Grad-CAM (N, H, W) in [0, 1] at `layer` for each image's
    predicted class, those classes): one batched forward and backward pass; maps on the CPU."""
    views = [loaded.model_view(im) for im in images]
    if not views:
        return [], torch.empty(0), []
    cams = cam_pass(loaded, torch.stack([loaded.view_tensor(v) for v in views]), [layer])
    return views, cams.scaled(layer).cpu(), cams.targets
