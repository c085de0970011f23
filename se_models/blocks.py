"""Finding the SE modules of a model and naming them as the paper does (SE_stage_block)."""
from __future__ import annotations

import re

from timm.layers import EffectiveSEModule, SEModule
from timm.models._efficientnet_blocks import SqueezeExcite
from timm.models.senet import SEModule as LegacySEModule
from torch import nn
from torchvision.ops import SqueezeExcitation

from .errors import NoSEBlocksError

# Every module type whose forward is `x * gate(f(mean(x)))`, and the child that computes the gate.
SE_GATES: dict[type[nn.Module], str] = {
    SEModule: "gate",                   # timm ResNets, RegNetY, ours
    EffectiveSEModule: "gate",          # timm VoVNet (eSE)
    SqueezeExcite: "gate",              # timm EfficientNet, MobileNetV3
    LegacySEModule: "sigmoid",          # timm legacy_seresnet* (the paper's Caffe weights)
    SqueezeExcitation: "scale_activation",  # torchvision EfficientNet, MobileNetV3, RegNet
}
SE_TYPES = tuple(SE_GATES)

# (path pattern, stage offset, block offset): the paper counts the stem as stage 1 and blocks from 1.
_STAGE_PATTERNS = [
    (re.compile(r"^layer(\d+)\.(\d+)\."), 1, 1),              # ResNet / ResNeXt (timm, torchvision, ours)
    (re.compile(r"^s(\d+)\.b(\d+)\."), 1, 0),                  # timm RegNet: s1.b1 is stage 2, block 1
    (re.compile(r"^blocks\.(\d+)\.(\d+)\."), 2, 1),           # timm EfficientNet / MobileNetV3
    (re.compile(r"^stages\.(\d+)\.blocks\.(\d+)\."), 2, 1),  # timm VoVNet
    (re.compile(r"^features\.(\d+)\.(\d+)\."), 1, 1),         # torchvision EfficientNet
    (re.compile(r"^trunk_output\.block(\d+)\.block\d+-(\d+)\."), 1, 1),  # torchvision RegNet
]


def paper_name(path: str) -> str:
    """`layer1.2.se` -> `SE_2_3`; paths with no stage structure get a readable name built from the path."""
    for pattern, stage_off, block_off in _STAGE_PATTERNS:
        m = pattern.match(path)
        if m:
            return f"SE_{int(m.group(1)) + stage_off}_{int(m.group(2)) + block_off}"
    return "SE_" + re.sub(r"[^0-9A-Za-z]+", "_", path)


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


def gate_of(se: nn.Module) -> nn.Module:
    """The submodule whose output is the excitation s (B, C, 1, 1)."""
    for kind, attr in SE_GATES.items():
        if isinstance(se, kind):
            return getattr(se, attr)
    raise TypeError(f"{type(se).__name__} is not a known squeeze-and-excitation module")


def se_dims(se: nn.Module) -> tuple[int, int]:
    """(C, C/r) of an SE module: the in and out features of its first (reducing) layer."""
    first = next(m for m in se.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
    return (first.in_channels, first.out_channels) if isinstance(first, nn.Conv2d) else \
        (first.in_features, first.out_features)


def stage_index(name: str) -> tuple[int, int] | None:
    """`SE_4_3` -> (4, 3); None for names outside the paper's scheme."""
    m = re.fullmatch(r"SE_(\d+)_(\d+)", name)
    return (int(m.group(1)), int(m.group(2))) if m else None


def last_of_each_stage(names: list[str]) -> list[str]:
    """The paper's Fig. 6 choice: the last SE block of every stage (immediately before downsampling)."""
    last: dict[int, str] = {}
    for n in names:
        si = stage_index(n)
        if si:
            last[si[0]] = n
    return list(last.values()) or names[-1:]


def residual_block_path(se_path: str) -> str:
    """The residual block that holds an SE module: `layer3.2.se` -> `layer3.2`."""
    return se_path.rsplit(".", 1)[0]


def has_stages(names: list[str]) -> bool:
    """Whether every SE block has a paper-style SE_stage_block name (ResNet-like stages): the Fig. 6 preset."""
    return bool(names) and all(stage_index(n) for n in names)


def stage_blocks(names: list[str]) -> dict[str, str]:
    """{'stage 2 · SE_2_3': 'SE_2_3', ...}: the last SE block of each stage, labelled by its stage."""
    out = {}
    for n in last_of_each_stage(names):
        si = stage_index(n)
        out[f"stage {si[0]} · {n}" if si else n] = n
    return out
