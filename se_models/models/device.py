"""The compute device by name: auto | cpu | cuda | mps (auto = the best available)."""
from __future__ import annotations

import torch

from se_models.errors import DeviceUnavailable

DEVICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str | torch.device | None = "cpu") -> torch.device:
    """A device name -> torch.device; DeviceUnavailable naming the choices when it is unknown or not available here."""
    if isinstance(name, torch.device):
        return name
    name = (name or "cpu").lower()
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps and mps.is_available())
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu")
    if name not in DEVICES and not name.startswith("cuda:"):
        raise DeviceUnavailable(f"unknown device {name!r}; use one of {', '.join(DEVICES)}")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise DeviceUnavailable(f"device {name!r} asked for, but this torch sees no CUDA GPU; use --device cpu or "
                                "auto")
    if name == "mps" and not has_mps:
        raise DeviceUnavailable("device 'mps' asked for, but this torch has no Apple GPU (MPS) here; use --device cpu "
                                "or auto")
    return torch.device(name)
