"""Every kind of channel attention this tool reads, defined once: the module types, the child whose output is the
gate s, what U and s*U are, and any spatial gate beside it; and the two conversions between a gate child's output
and the (B, C) excitation the rest of the library works with."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from timm.layers import EcaModule, EffectiveSEModule, GatherExcite, GlobalContext, SEModule
from timm.layers.cbam import CbamModule, LightCbamModule
from timm.layers.eca import CecaModule
from timm.models._efficientnet_blocks import SqueezeExcite
from timm.models.senet import SEModule as LegacySEModule
from torch import nn
from torchvision.ops import SqueezeExcitation


@dataclass(frozen=True)
class GateSpec:
    """Where one module type keeps its per-channel gate: `x * gate(f(context))`, read as the paper reads SE."""
    kind: str               # the block names' prefix (hooks.naming.KIND_WORDS): SE, ECA, CECA, GC, GE, CBAM
    gate: str               # child path whose forward output is the gate (or its logit, see below)
    logit: bool = False     # the child outputs the gate's logit and the module applies F.sigmoid itself
    scaled: str = ""        # child whose input is U and whose output is s*U ("" = the module itself)
    spatial: str | None = None  # child path of a spatial gate (B, 1, H, W) applied after the channel gate
    label: str = ""         # what the block is, when the type alone does not say (the light CBAM)


# One entry per module type. Every gate child here is a module whose output is the gate itself, except timm's
# LightChannelAttn, which calls F.sigmoid on its second 1x1 convolution directly (its `gate` child is never called):
# there the hook reads fc2's output and takes the sigmoid (and an override writes the logit of the new gate).
GATES: dict[type[nn.Module], GateSpec] = {
    SEModule: GateSpec("SE", "gate"),                       # timm ResNets, RegNetY, ByobNet, ours
    EffectiveSEModule: GateSpec("SE", "gate"),              # timm VoVNet (eSE)
    SqueezeExcite: GateSpec("SE", "gate"),                  # timm EfficientNet, MobileNetV3
    LegacySEModule: GateSpec("SE", "sigmoid"),              # timm legacy_seresnet* (the paper's Caffe weights)
    SqueezeExcitation: GateSpec("SE", "scale_activation"),  # torchvision EfficientNet, MobileNetV3, RegNet
    EcaModule: GateSpec("ECA", "gate"),                     # output (B, 1, C): a 1-D convolution's channels last
    CecaModule: GateSpec("CECA", "gate"),                   # the same, with circular padding over channels
    GlobalContext: GateSpec("GC", "gate"),                  # with fuse_scale only (see has_gate)
    GatherExcite: GateSpec("GE", "gate"),                   # extent > 0: a spatial gate (B, C, H, W), see gate_values
    CbamModule: GateSpec("CBAM", "channel.gate", scaled="channel", spatial="spatial.gate"),
    LightCbamModule: GateSpec("CBAM", "channel.fc2", logit=True, scaled="channel", spatial="spatial.gate",
                              label="light CBAM: average and max pooling summed before one MLP"),
}
TYPES = tuple(GATES)


def spec_of(module: nn.Module) -> GateSpec:
    """The gate spec of an attention module (TypeError for any other module: a programming error)."""
    for kind, spec in GATES.items():  # no type here subclasses another
        if isinstance(module, kind):
            return spec
    raise TypeError(f"{type(module).__name__} is not a known channel-attention module")


def has_gate(module: nn.Module) -> bool:
    """Whether the module multiplies by a gate at all: timm's GlobalContext with fuse_scale=False (the `gca` layer of
    gcresnet33ts, gcresnet50t, gcresnext26ts/50ts) only adds a transformed context to every position."""
    return not isinstance(module, GlobalContext) or module.mlp_scale is not None


def spatial_gate(module: nn.Module) -> bool:
    """Whether the gate varies over positions (gather-excite with a local extent): it is read as its spatial mean."""
    return isinstance(module, GatherExcite) and module.extent > 0


def gate_values(output: torch.Tensor, logit: bool = False) -> torch.Tensor:
    """A gate child's output -> the excitation s (B, C), detached float32.

    (B, C, 1, 1) SE, GC, CBAM; (B, 1, C) ECA; (B, C, H, W) gather-excite with a local extent: the mean over the
    positions (so s_c is the channel's average gate, and a per-channel statistic like SE's); logit: sigmoid first."""
    s = output.detach().float()
    if logit:
        s = torch.sigmoid(s)
    if s.dim() == 4 and s.shape[-2:] != (1, 1):
        s = s.mean((2, 3))
    return s.flatten(1)


def gate_output(s: torch.Tensor, like: torch.Tensor, logit: bool = False) -> torch.Tensor:
    """The inverse of gate_values: new gates s (B, C) (or (1, C), broadcast) in the shape and dtype of the gate
    child's output `like`, so the module multiplies by them. A spatial gate gets the same value at every position;
    logit: the logit of s (torch.logit(1) = inf, whose sigmoid is exactly 1)."""
    s = s.to(like.device, like.dtype)
    if like.dim() == 3:  # ECA: (B, 1, C)
        out = s[:, None, :].expand(like.shape[0], 1, -1)
    else:
        out = s[:, :, None, None].expand(like.shape[0], -1, *like.shape[2:])
    return torch.logit(out) if logit else out
