"""Block names as the paper writes them (SE_stage_block) and what they say: stage and index, the last block of each
stage. Pure string functions (no torch): findings and plots read names through this module."""
from __future__ import annotations

import re

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
