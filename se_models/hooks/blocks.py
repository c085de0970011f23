"""Finding the channel-attention modules of a model (SE and the other kinds in hooks.kinds) and naming them as the
paper names SE blocks (KIND_stage_block)."""
from __future__ import annotations

from torch import nn

from se_models.errors import NoSEBlocksError
from se_models.hooks.kinds import TYPES, has_gate, spec_of
from se_models.hooks.naming import paper_name, path_name

READ = "SE, ECA, CECA, global context with scale fusion, gather-excite, CBAM"  # what find_se_blocks looks for


def find_se_blocks(model: nn.Module) -> dict[str, str]:
    """Ordered (forward order = shallow to deep) mapping block name -> module path of every channel-attention module
    that multiplies by a per-channel gate: `SE_4_3`, `ECA_4_3`, `CBAM_4_3`, ... NoSEBlocksError when there is none,
    naming modules that look like attention but have no gate (global context fused by addition)."""
    found = [(path, m) for path, m in model.named_modules() if isinstance(m, TYPES)]
    gated = [(path, spec_of(m).kind) for path, m in found if has_gate(m)]
    if not gated:
        additive = len(found) - len(gated)
        why = (f": its {additive} GlobalContext blocks fuse by addition (fuse_add) and multiply by no gate, so there "
               "is no excitation to measure (global context with scale fusion is read, e.g. "
               "timm:gc_efficientnetv2_rw_t or gc_resnet18)" if additive else "")
        raise NoSEBlocksError(f"{type(model).__name__} has no squeeze-and-excitation blocks nor other channel "
                              f"attention with a gate{why}. Read here: {READ}.")
    names = [paper_name(p, kind) for p, kind in gated]
    if len(set(names)) < len(names):  # two attention modules in one block: fall back to names from the paths
        names = [path_name(p, kind) for p, kind in gated]
    return dict(zip(names, (p for p, _ in gated)))


def se_dims(se: nn.Module) -> tuple[int, int]:
    """(C, C/r) of an SE (or CBAM channel, GC) module: the in and out features of its first (reducing) layer."""
    first = next(m for m in se.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
    return (first.in_channels, first.out_channels) if isinstance(first, nn.Conv2d) else \
        (first.in_features, first.out_features)


def residual_block_path(se_path: str) -> str:
    """The residual block that holds an SE module: `layer3.2.se` -> `layer3.2`."""
    return se_path.rsplit(".", 1)[0]
