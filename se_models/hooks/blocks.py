"""Finding the SE modules of a model and naming them as the paper does (SE_stage_block)."""
from __future__ import annotations

import re

from timm.layers import EffectiveSEModule, SEModule
from timm.models._efficientnet_blocks import SqueezeExcite
from timm.models.senet import SEModule as LegacySEModule
from torch import nn
from torchvision.ops import SqueezeExcitation

from se_models.errors import NoSEBlocksError
from se_models.hooks.naming import paper_name

# Every module type whose forward is `x * gate(f(mean(x)))`, and the child that computes the gate.
SE_GATES: dict[type[nn.Module], str] = {
    SEModule: "gate",                   # timm ResNets, RegNetY, ours
    EffectiveSEModule: "gate",          # timm VoVNet (eSE)
    SqueezeExcite: "gate",              # timm EfficientNet, MobileNetV3
    LegacySEModule: "sigmoid",          # timm legacy_seresnet* (the paper's Caffe weights)
    SqueezeExcitation: "scale_activation",  # torchvision EfficientNet, MobileNetV3, RegNet
}
SE_TYPES = tuple(SE_GATES)


def find_se_blocks(model: nn.Module) -> dict[str, str]:
    """Ordered (forward order = shallow to deep) mapping paper name -> module path of every SE module."""
    paths = [path for path, m in model.named_modules() if isinstance(m, SE_TYPES)]
    if not paths:
        raise NoSEBlocksError(f"{type(model).__name__} has no squeeze-and-excitation blocks "
                         f"(looked for {', '.join(t.__module__ + '.' + t.__name__ for t in SE_TYPES)})")
    names = [paper_name(p) for p in paths]
    if len(set(names)) < len(names):  # two SE modules in one block: fall back to names from the paths
        names = ["SE_" + re.sub(r"[^0-9A-Za-z]+", "_", p) for p in paths]
    return dict(zip(names, paths))


def gate_name(se: nn.Module) -> str:
    """The name of the child of an SE module whose output is the excitation s (B, C, 1, 1): `gate`, `sigmoid`, ..."""
    for kind, attr in SE_GATES.items():
        if isinstance(se, kind):
            return attr
    raise TypeError(f"{type(se).__name__} is not a known squeeze-and-excitation module")


def se_dims(se: nn.Module) -> tuple[int, int]:
    """(C, C/r) of an SE module: the in and out features of its first (reducing) layer."""
    first = next(m for m in se.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
    return (first.in_channels, first.out_channels) if isinstance(first, nn.Conv2d) else \
        (first.in_features, first.out_features)


def residual_block_path(se_path: str) -> str:
    """The residual block that holds an SE module: `layer3.2.se` -> `layer3.2`."""
    return se_path.rsplit(".", 1)[0]


