"""The small attention ResNets for 28-32 px inputs: SE (timm's SEModule), ECA (EcaModule) or CBAM (CbamModule)."""
from __future__ import annotations

from functools import partial

import torch
from timm.layers import SEModule
from timm.layers.cbam import CbamModule
from timm.layers.eca import EcaModule
from torch import nn

from se_models.errors import UnknownModelError


def attention(kind: str, channels: int, reduction: int) -> nn.Module:
    """The channel-attention module of a residual branch: se | eca | cbam, each a timm layer."""
    if kind == "se":
        # rd_divisor=1 keeps C/r exact (timm rounds to multiples of 8 by default, too coarse for 16 channels)
        return SEModule(channels, rd_ratio=1 / reduction, rd_divisor=1)
    if kind == "eca":  # no reduction: a 1-D convolution over k neighbouring channels, k from C (Wang et al. 2020)
        return EcaModule(channels)
    if kind == "cbam":  # channel gate with the same reduction as SE, then a 7x7 spatial gate (Woo et al. 2018)
        return CbamModule(channels, rd_ratio=1 / reduction, rd_divisor=1)
    raise UnknownModelError(f"unknown attention {kind!r}; known: se, eca, cbam")


class SEBasicBlock(nn.Module):
    """conv-bn-relu-conv-bn, then channel attention on the residual branch, then the shortcut is added (paper Fig. 3).

    The attention module is `se` for every kind, so one path pattern names the blocks of all three networks."""

    def __init__(self, in_ch: int, out_ch: int, stride: int, reduction: int, attn: str = "se"):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.act1 = nn.ReLU()  # not in-place: hooks and captum keep references to activations
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.se = attention(attn, out_ch, reduction)
        self.downsample = None
        if stride != 1 or in_ch != out_ch:
            self.downsample = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), nn.BatchNorm2d(out_ch))
        self.act2 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        u = self.bn2(self.conv2(self.act1(self.bn1(self.conv1(x)))))  # U: (B, C, H, W)
        return self.act2(self.se(u) + shortcut)


class SEResNetSmall(nn.Module):
    """CIFAR-style SE-ResNet (He et al. 2016, section 4.2): 3x3 stem, stages `layer1..layerN`, like timm's naming."""

    def __init__(self, num_classes: int = 10, in_chans: int = 3, widths=(16, 32, 64), depth: int = 3,
                 reduction: int = 4, attn: str = "se"):
        super().__init__()
        self.conv1 = nn.Conv2d(in_chans, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.act1 = nn.ReLU()
        in_ch = widths[0]
        for i, width in enumerate(widths):
            block = partial(SEBasicBlock, reduction=reduction, attn=attn)
            blocks = [block(in_ch if b == 0 else width, width, 2 if (i > 0 and b == 0) else 1) for b in range(depth)]
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
            in_ch = width
        self.num_stages = len(widths)
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_ch, num_classes)
        for name, m in self.named_modules():
            # He init for the feature convs; SE's 1x1 convs keep PyTorch's default (small) init, so an
            # untrained control's gates sit near 0.5 and flat rather than randomly class-dependent
            if isinstance(m, nn.Conv2d) and ".se." not in f".{name}.":
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act1(self.bn1(self.conv1(x)))
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(self.global_pool(x).flatten(1))


ARCHITECTURES = {
    # name -> constructor kwargs; ResNet-20 = 3 stages x 3 basic blocks x 2 convs + stem + fc
    "se_resnet20": dict(widths=(16, 32, 64), depth=3, reduction=4),
    # the same depth 1.5x as wide: more capacity than se_resnet20 for CIFAR-10 (see the README)
    "se_resnet20_w24": dict(widths=(24, 48, 96), depth=3, reduction=4),
    # twice as wide, the shipped CIFAR-10 model (its accuracy is in its model card and the README)
    "se_resnet20_w32": dict(widths=(32, 64, 128), depth=3, reduction=4),
    # se_resnet20 with another channel attention in the same place: ECA-ResNet-20 and CBAM-ResNet-20
    "eca_resnet20": dict(widths=(16, 32, 64), depth=3, reduction=4, attn="eca"),
    "cbam_resnet20": dict(widths=(16, 32, 64), depth=3, reduction=4, attn="cbam"),
}


def display_name(arch: str) -> str:
    """An architecture as people write it, from its layout: `se_resnet20_w24` -> `SE-ResNet-20 (1.5× wide)`."""
    if arch not in ARCHITECTURES:
        return arch
    kw = ARCHITECTURES[arch]
    depth = 2 * len(kw["widths"]) * kw["depth"] + 2  # 2 convs a block + stem + fc
    name = f"{kw.get('attn', 'se').upper()}-ResNet-{depth}"
    wide = kw["widths"][0] / 16  # relative to He et al.'s CIFAR ResNets, which start at 16 channels
    return name if wide == 1 else f"{name} ({wide:g}× wide)"


def build(arch: str, num_classes: int, in_chans: int) -> SEResNetSmall:
    """Build a small SE-ResNet by architecture name."""
    if arch not in ARCHITECTURES:
        raise UnknownModelError(f"unknown architecture {arch!r}; known: {sorted(ARCHITECTURES)}")
    return SEResNetSmall(num_classes=num_classes, in_chans=in_chans, **ARCHITECTURES[arch])
