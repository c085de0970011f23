"""ModelHooks: the one way this library puts hooks on a model: modules by name, the model's lock held, every hook
removed on exit whatever happens."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn
from torch.utils.hooks import RemovableHandle

from se_models.errors import UnknownBlockError


class ModelHooks:
    """A context manager for forward hooks on one model's modules, named by their paths (`layer3.2.se.gate`; "" is the
    model itself), after torch-cam's CAM extractor.

    Entering takes the model's lock when it has one (a LoadedModel's RLock: hooks are model-global state, so
    concurrent users of one shared model take turns; a thread that already holds it may enter again), then calls
    `attach()`, where a subclass registers its own hooks; more can be added with `forward` / `pre_forward` inside the
    block. Leaving removes every hook and then releases the lock, also when `attach`, a hook or the block raises.

    A forward hook that returns None only looks (a recorder); one that returns a tensor replaces the module's output
    for the rest of the network (the ablation's gates, the analysis's clone)."""

    def __init__(self, loaded_or_model: Any):
        self.model: nn.Module = getattr(loaded_or_model, "model", loaded_or_model)
        self.lock = getattr(loaded_or_model, "lock", None)  # None for a bare nn.Module: the caller's to guard
        self.handles: list[RemovableHandle] = []
        self._modules: dict[str, nn.Module] | None = None  # path -> module, read once per block
        self._open = False

    def module(self, path: str) -> nn.Module:
        """The module at `path` (as `named_modules` names it); UnknownBlockError naming the path when there is none."""
        if self._modules is None:
            self._modules = dict(self.model.named_modules())
        if path not in self._modules:
            raise UnknownBlockError(f"unknown layer {path!r}: {type(self.model).__name__} has no module of that name")
        return self._modules[path]

    def forward(self, path: str, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """Register `hook(module, inputs, output)` on the module at `path`, removed when the block ends; prepend = run
        it before the module's other forward hooks (a replaced output is then what they see)."""
        return self._keep(self._target(path).register_forward_hook(hook, prepend=prepend))

    def pre_forward(self, path: str, hook: Callable) -> RemovableHandle:
        """Register `hook(module, inputs)` to run before the module at `path` runs, removed when the block ends."""
        return self._keep(self._target(path).register_forward_pre_hook(hook))

    def attach(self) -> None:
        """Register this manager's own hooks (subclasses); called on entering, with the lock held."""

    def remove(self) -> None:
        """Remove every hook registered so far (each one, even if removing another failed)."""
        try:
            while self.handles:
                self.handles.pop().remove()
        finally:
            self._modules = None  # the model may change between blocks

    def __enter__(self):
        if self.lock is not None:
            self.lock.acquire()
        self._open = True
        try:
            self.attach()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        try:
            self.remove()
        finally:
            self._open = False
            if self.lock is not None:
                self.lock.release()

    def _target(self, path: str) -> nn.Module:
        if not self._open:  # a hook outside the block would outlive it, without the lock: a programming error
            raise RuntimeError("register hooks inside `with ModelHooks(...)`: outside it nothing removes them")
        return self.module(path)

    def _keep(self, handle: RemovableHandle) -> RemovableHandle:
        self.handles.append(handle)
        return handle


def hook_count(model: nn.Module) -> int:
    """Forward, forward-pre, backward and backward-pre hooks on every module of `model`: 0 when nothing was left
    behind (reads torch's own per-module hook dicts, as torch-cam's smoke test does)."""
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
               + len(m._backward_pre_hooks) for m in model.modules())
