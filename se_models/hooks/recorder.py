"""SERecorder: forward hooks in, squeeze / excitation / feature maps out, hooks gone on exit."""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from se_models.errors import UnknownBlockError
from se_models.hooks.blocks import find_se_blocks, gate_name
from se_models.hooks.manager import ModelHooks

if TYPE_CHECKING:  # annotations only: the registry sits above this module
    from se_models.models.registry import LoadedModel


class SERecorder(ModelHooks):
    """Record, per SE block (paper name), z (B, C), s (B, C) and optionally U and s*U (B, C, H, W).

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

    def attach(self) -> None:
        for name, path in self.blocks.items():
            self.forward(path, self._se_hook(name))
            self.forward(f"{path}.{gate_name(self.module(path))}", self._gate_hook(name))

    def _gate_hook(self, name: str):
        def hook(_module, _inputs, output):
            self.excitation[name] = output.detach().flatten(1).float().clone()  # (B, C, 1, 1) -> (B, C)
        return hook

    def _se_hook(self, name: str):
        def hook(_module, inputs, output):
            u = inputs[0].detach()  # U: (B, C, H, W), the residual branch before scaling
            self.squeeze[name] = u.float().mean((2, 3))  # z: (B, C), the squeeze step
            if name in self.map_blocks:
                self.before[name] = u.float().clone()
                self.after[name] = output.detach().float().clone()  # s * U
        return hook
