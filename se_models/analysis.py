"""One image through the model: prediction, excitations, Grad-CAM, and one block's U and s*U."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from PIL import Image

from .cam import run_grad_cam
from .recorder import SERecorder


@dataclass
class ImageAnalysis:
    """Everything the app shows about one image."""
    image: Image.Image                   # the RGB input as given
    input: torch.Tensor                  # (C, H, W) the preprocessed tensor the model saw
    probs: torch.Tensor                  # (num_classes,)
    target: int                          # the class Grad-CAM explains
    cam: torch.Tensor                    # (H, W) in [0, 1], at input resolution
    cam_layer: str                       # module path of the Grad-CAM layer
    excitation: dict[str, torch.Tensor]  # block -> s (C,)
    squeeze: dict[str, torch.Tensor]     # block -> z (C,)
    block: str | None                    # the block whose feature maps are kept, if one was asked for
    before: torch.Tensor | None          # (C, h, w) U
    after: torch.Tensor | None           # (C, h, w) s * U

    @property
    def predicted(self) -> int:
        return int(self.probs.argmax())


@dataclass
class BlockMaps:
    """One SE block's squeeze, excitation and feature maps for one image."""
    block: str
    squeeze: torch.Tensor     # (C,) z
    excitation: torch.Tensor  # (C,) s
    before: torch.Tensor      # (C, h, w) U
    after: torch.Tensor       # (C, h, w) s * U


def block_maps(loaded, image: Image.Image, block: str) -> BlockMaps:
    """U and s*U of one block from one gradient-free forward pass: what a change of block needs, without
    analyze_image's backward pass; thread-safe like it."""
    x = loaded.preprocess(image)[None]  # (1, C, H, W)
    with loaded.lock, torch.no_grad(), SERecorder(loaded, blocks=[block], feature_maps=True) as rec:
        loaded.model(x)
    return BlockMaps(block, rec.squeeze[block][0], rec.excitation[block][0], rec.before[block][0],
                     rec.after[block][0])


def analyze_image(loaded, image: Image.Image, target: int | None = None, block: str | None = None,
                  cam_layer: str | None = None) -> ImageAnalysis:
    """Analyse one image, keeping U and s*U of `block` when one is named (copies of feature maps cost memory in
    every cached analysis); safe to call from several threads on one shared LoadedModel (it takes its lock)."""
    x = loaded.preprocess(image)[None]  # (1, C, H, W)
    layer_path = loaded.block_module(cam_layer or list(loaded.se_blocks)[-1])
    out: dict = {}
    with loaded.lock, SERecorder(loaded, feature_maps=[block] if block else []) as rec:
        # captum's forward pass is the only one: the recorder's hooks fire inside it
        cam = run_grad_cam(loaded.model, dict(loaded.model.named_modules())[layer_path], x, target, out)
    probs = out["logits"][0].float().softmax(0)
    return ImageAnalysis(
        image=image, input=x[0], probs=probs,
        target=int(probs.argmax()) if target is None else int(target),
        cam=cam[0], cam_layer=layer_path,
        excitation={k: v[0] for k, v in rec.excitation.items()},
        squeeze={k: v[0] for k, v in rec.squeeze.items()},
        block=block, before=rec.before[block][0] if block else None, after=rec.after[block][0] if block else None)
