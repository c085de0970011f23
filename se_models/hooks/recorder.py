"""SERecorder: forward hooks in, squeeze / excitation / feature maps (and CBAM's spatial gate) out, hooks gone on
exit; for every kind of channel attention in hooks.kinds."""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from se_models.errors import UnknownBlockError
from se_models.hooks.blocks import find_se_blocks
from se_models.hooks.kinds import gate_values, spec_of
from se_models.hooks.manager import ModelHooks

if TYPE_CHECKING:  # annotations only: the registry sits above this module
    from se_models.models.registry import LoadedModel


def _join(path: str, child: str) -> str:
    return f"{path}.{child}" if child else path


class SERecorder(ModelHooks):
    """Record, per attention block (paper name), z (B, C), s (B, C) and optionally U and s*U (B, C, H, W) and, for
    CBAM, the spatial gate (B, H, W) that follows the channel gate.

    s is the block's per-channel gate (hooks.kinds.gate_values: a spatially varying gate is read as its mean over
    positions); z the channel means of U (SE's squeeze; other kinds pool their context otherwise, but z is the same
    statistic for all). U is the input of the part that scales (the module, or CBAM's `channel`), s*U its output.

    Use as a context manager around forward passes; each pass overwrites the previous one's records. The hooks and
    the model's lock are ModelHooks': held while open, gone on exit. Stored tensors are detached clones: later
    in-place ops (`x += shortcut`) cannot corrupt them."""

    def __init__(self, loaded_or_model: LoadedModel | nn.Module, blocks: list[str] | None = None,
                 feature_maps: bool | list[str] = False):
        super().__init__(loaded_or_model)
        known = getattr(loaded_or_model, "se_blocks", None) or find_se_blocks(self.model)
        asked = [*(blocks or []), *([] if isinstance(feature_maps, bool) else feature_maps)]
        unknown = [b for b in asked if b not in known]
        if unknown:
            raise UnknownBlockError(f"unknown SE block(s) {unknown}; this model has {list(known)}")
        self.blocks = {b: known[b] for b in (blocks or known)}
        # feature_maps: True = every recorded block, or a list of block names
        self.map_blocks = set(self.blocks if feature_maps is True else (feature_maps or []))
        self.squeeze: dict[str, torch.Tensor] = {}
        self.excitation: dict[str, torch.Tensor] = {}
        self.before: dict[str, torch.Tensor] = {}
        self.after: dict[str, torch.Tensor] = {}
        self.spatial: dict[str, torch.Tensor] = {}  # CBAM: (B, H, W) spatial gate, for feature-map blocks only

    def attach(self) -> None:
        for name, path in self.blocks.items():
            spec = spec_of(self.module(path))
            self.forward(_join(path, spec.scaled), self._scaled_hook(name))
            self.forward(_join(path, spec.gate), self._gate_hook(name, spec.logit))
            if spec.spatial and name in self.map_blocks:
                self.forward(_join(path, spec.spatial), self._spatial_hook(name))

    def _gate_hook(self, name: str, logit: bool):
        def hook(_module, _inputs, output):
            self.excitation[name] = gate_values(output, logit).clone()  # (B, C)
        return hook

    def _scaled_hook(self, name: str):
        def hook(_module, inputs, output):
            u = inputs[0].detach()  # U: (B, C, H, W), the residual branch before scaling
            self.squeeze[name] = u.float().mean((2, 3))  # z: (B, C), the squeeze step
            if name in self.map_blocks:
                self.before[name] = u.float().clone()
                self.after[name] = output.detach().float().clone()  # s * U
        return hook

    def _spatial_hook(self, name: str):
        def hook(_module, _inputs, output):
            self.spatial[name] = output.detach().float()[:, 0].clone()  # (B, 1, H, W) -> (B, H, W)
        return hook
