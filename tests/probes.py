"""What a model ran, read from torch itself: the hooks left on its modules, its forward and backward passes."""
from __future__ import annotations

from contextlib import ExitStack

import torch

from se_models.hooks.manager import ModelHooks


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
