"""Finding the SE modules of a model and naming them as the paper does (SE_stage_block)."""
from __future__ import annotations

import re

from timm.layers import SEModule
from torch import nn

SE_TYPES: tuple[type[nn.Module], ...] = (SEModule,)
# timm ResNets and ours name residual stages layer1..layerN; the paper counts conv1 as stage 1.
_RESNET_PATH = re.compile(r"^layer(\d+)\.(\d+)\.")


def paper_name(path: str) -> str:
    """`layer1.2.se` -> `SE_2_3`; other paths get a readable name built from the path."""
    m = _RESNET_PATH.match(path)
    if m:
        return f"SE_{int(m.group(1)) + 1}_{int(m.group(2)) + 1}"
    return "SE_" + path.replace(".", "_")


def find_se_blocks(model: nn.Module) -> dict[str, str]:
    """Ordered (forward order = shallow to deep) mapping paper name -> module path of every SE module."""
    blocks = {paper_name(path): path for path, m in model.named_modules() if isinstance(m, SE_TYPES)}
    if not blocks:
        raise ValueError(f"{type(model).__name__} has no squeeze-and-excitation blocks "
                         f"(looked for {', '.join(t.__name__ for t in SE_TYPES)})")
    return blocks


def gate_of(se: nn.Module) -> nn.Module:
    """The submodule whose output is the excitation s (B, C, 1, 1)."""
    return se.gate


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
