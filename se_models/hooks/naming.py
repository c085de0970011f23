"""Block names as the paper writes them (SE_stage_block, and KIND_stage_block for other channel attention: ECA_4_3,
CBAM_4_3) and what they say: kind, stage and index, the last block of each stage. Pure string functions (no torch):
findings and plots read names through this module."""
from __future__ import annotations

import re

# The kinds of channel attention, by the prefix of their block names, with what they are in words. The modules of
# each kind (and where their gate is) are in hooks.kinds; the prefixes are here so that names read without torch.
KIND_WORDS = {
    "SE": "squeeze-and-excitation",
    "ECA": "efficient channel attention (a 1-D convolution over k neighbouring channels, no reduction)",
    "CECA": "circular efficient channel attention",
    "GC": "global context with scale fusion",
    "GE": "gather-excite",
    "CBAM": "CBAM's channel gate",
}
KINDS = tuple(KIND_WORDS)

# (path pattern, stage offset, block offset): the paper counts the stem as stage 1 and blocks from 1.
_STAGE_PATTERNS = [
    (re.compile(r"^layer(\d+)\.(\d+)\."), 1, 1),              # ResNet / ResNeXt (timm, torchvision, ours)
    (re.compile(r"^s(\d+)\.b(\d+)\."), 1, 0),                  # timm RegNet: s1.b1 is stage 2, block 1
    (re.compile(r"^blocks\.(\d+)\.(\d+)\."), 2, 1),           # timm EfficientNet / MobileNetV3
    (re.compile(r"^stages\.(\d+)\.blocks\.(\d+)\."), 2, 1),  # timm VoVNet
    (re.compile(r"^stages\.(\d+)\.(\d+)\."), 2, 1),           # timm ByobNet (eca_resnet33ts) and NFNet: stages.0 = 2
    (re.compile(r"^features\.(\d+)\.(\d+)\."), 1, 1),         # torchvision EfficientNet
    (re.compile(r"^trunk_output\.block(\d+)\.block\d+-(\d+)\."), 1, 1),  # torchvision RegNet
]
_NAME = re.compile(rf"({'|'.join(KINDS)})_(\d+)_(\d+)")


def paper_name(path: str, kind: str = "SE") -> str:
    """`layer1.2.se` -> `SE_2_3` (`ECA_2_3` for kind ECA); paths with no stage structure get a readable name built
    from the path, with the kind in front."""
    for pattern, stage_off, block_off in _STAGE_PATTERNS:
        m = pattern.match(path)
        if m:
            return f"{kind}_{int(m.group(1)) + stage_off}_{int(m.group(2)) + block_off}"
    return path_name(path, kind)


def path_name(path: str, kind: str = "SE") -> str:
    """A name built from the module path, for blocks without stage structure (or two in one residual block)."""
    return f"{kind}_" + re.sub(r"[^0-9A-Za-z]+", "_", path)


def block_kind(name: str) -> str | None:
    """`ECA_4_3` -> `ECA`, `SE_layer_se` -> `SE`: the kind of attention a block name says; None for other names."""
    head = name.split("_", 1)[0]
    return head if head in KIND_WORDS and "_" in name else None


def stage_index(name: str) -> tuple[int, int] | None:
    """`SE_4_3` (or `ECA_4_3`, `CBAM_4_3`, ...) -> (4, 3); None for names outside the paper's scheme."""
    m = _NAME.fullmatch(name)
    return (int(m.group(2)), int(m.group(3))) if m else None


def block_position(name: str) -> str:
    """`ECA_4_3` -> `4_3`: where a block sits, without its kind (to draw several kinds on one axis); other names
    stay as they are."""
    si = stage_index(name)
    return f"{si[0]}_{si[1]}" if si else name


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


def kinds_of(names: list[str]) -> list[str]:
    """The kinds of attention among block names, in the order they first appear (`['SE']` for an SE network)."""
    return list(dict.fromkeys(k for k in map(block_kind, names) if k))
