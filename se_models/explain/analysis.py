"""One image through the model: prediction, excitations and Grad-CAM at every stage from one pass; one block's U
and s*U; batched predictions."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image

from se_models.explain.cam import cam_pass
from se_models.hooks.naming import last_of_each_stage
from se_models.hooks.recorder import SERecorder

if TYPE_CHECKING:  # annotations only: the registry sits above this module
    from se_models.models.registry import LoadedModel


@dataclass
class BlockMaps:
    """One attention block's squeeze, excitation and feature maps for one image."""
    block: str
    squeeze: torch.Tensor     # (C,) z
    excitation: torch.Tensor  # (C,) s
    before: torch.Tensor      # (C, h, w) U
    after: torch.Tensor       # (C, h, w) s * U
    spatial: torch.Tensor | None = None  # (h, w) CBAM's spatial gate, applied to s * U after the channel gate


def _maps(rec, block: str) -> BlockMaps:
    """One block's maps of the first image from an SERecorder's records (on the CPU)."""
    spatial = rec.spatial.get(block)
    return BlockMaps(block, *(r[block][0].cpu() for r in (rec.squeeze, rec.excitation, rec.before, rec.after)),
                     spatial=None if spatial is None else spatial[0].cpu())


@dataclass
class ImageAnalysis:
    """Everything the Image view shows about one image, from one forward and one backward pass."""
    probs: torch.Tensor                  # (num_classes,)
    target: int                          # the class Grad-CAM explains
    cams: dict[str, torch.Tensor]        # layer (paper name of a stage's last SE block) -> (H, W) in [0, 1]
    grids: dict[str, tuple[int, int]]    # layer -> (h, w) of its activations: the map's resolution before upsampling
    excitation: dict[str, torch.Tensor]  # block -> s (C,)
    squeeze: dict[str, torch.Tensor]     # block -> z (C,)
    maps: BlockMaps | None = None        # U and s*U of the block asked for with maps_block, from the same pass
    view: Image.Image | None = None      # the image as the model saw it (its resize and crop): what maps sit on

    @property
    def predicted(self) -> int:
        return int(self.probs.argmax())

    @property
    def cam(self) -> torch.Tensor:
        """The deepest Grad-CAM map (H, W): the usual one."""
        return self.cams[list(self.cams)[-1]]


def block_maps(loaded: LoadedModel, image: Image.Image, block: str) -> BlockMaps:
    """U and s*U of one block from one gradient-free forward pass: what a change of block needs, without
    analyze_image's backward pass; thread-safe like it."""
    x = loaded.preprocess(image)[None].to(loaded.device)  # (1, C, H, W)
    with torch.no_grad(), SERecorder(loaded, blocks=[block], feature_maps=True) as rec:
        loaded.model(x)
    return _maps(rec, block)


def predict(loaded: LoadedModel, images: list[Image.Image]) -> torch.Tensor:
    """Class probabilities (N, num_classes) of several images from one batched gradient-free forward pass."""
    if not images:
        return torch.empty(0, len(loaded.labels))
    x = torch.stack([loaded.preprocess(im) for im in images]).to(loaded.device)  # (N, C, H, W)
    with loaded.lock, torch.inference_mode():
        return loaded.model(x).float().softmax(1).cpu()


def stage_ends(loaded: LoadedModel) -> list[str]:
    """The paper names of the last SE block of every stage (shallow to deep): the Grad-CAM layers."""
    return last_of_each_stage(list(loaded.se_blocks))


def analyze_image(loaded: LoadedModel, image: Image.Image, target: int | None = None,
                  layers: list[str] | None = None, maps_block: str | None = None) -> ImageAnalysis:
    """Probabilities, every block's z and s, and Grad-CAM at each of `layers` (default: the end of every stage),
    all from ONE forward and ONE backward pass (cam_pass, under an SERecorder); target None = the predicted class.
    maps_block: also keep that block's U and s*U from the same forward pass (the feature maps shown first).
    Thread-safe (the hook managers hold the model's lock)."""
    layers = layers or stage_ends(loaded)
    view = loaded.model_view(image)
    # (1, C, H, W): the photo is resized once for the input and the overlays; every result comes back to the CPU
    x = loaded.view_tensor(view)[None].to(loaded.device)
    with SERecorder(loaded, feature_maps=[maps_block] if maps_block else []) as rec:
        cams = cam_pass(loaded, x, layers, target)
    block = None if maps_block is None else _maps(rec, maps_block)
    return ImageAnalysis(probs=cams.logits[0].float().softmax(0).cpu(), target=cams.targets[0],
                         cams={name: cams.scaled(name)[0].cpu() for name in layers}, grids=cams.grids,
                         excitation={k: v[0].cpu() for k, v in rec.excitation.items()},
                         squeeze={k: v[0].cpu() for k, v in rec.squeeze.items()}, maps=block, view=view)


def class_distances(excitation: dict, class_means: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, float]]:
    """Mean |s - class mean| per block and class: how far one image's gates lie from each class's average.

    class_means: block -> class -> mean s (C,); returns block -> class -> distance (blocks present in both)."""
    out = {}
    for block, means in class_means.items():
        if block not in excitation:
            continue
        s = np.asarray(excitation[block], dtype=float)
        out[block] = {cls: float(np.abs(s - np.asarray(mu, dtype=float)).mean()) for cls, mu in means.items()}
    return out
