"""Made-up inputs for tests: tiny random SE-ResNets, generated images and zips, statistics, rankings and histories
crafted from chosen numbers."""
from __future__ import annotations

import io
import zipfile
from types import SimpleNamespace

import numpy as np
import torch
from PIL import Image

from se_models.hooks.blocks import find_se_blocks
from se_models.models.architectures import SEResNetSmall
from se_models.models.card import ModelCard
from se_models.models.registry import LoadedModel, card_transform

LABELS = ["circle", "square", "stripes"]


def make_loaded(in_chans: int = 3, size: int = 16, seed: int = 0, num_classes: int = 3) -> LoadedModel:
    """A 2-stage SE-ResNet with 2 blocks per stage (SE_2_1 .. SE_3_2), random weights: milliseconds a forward pass."""
    torch.manual_seed(seed)
    model = SEResNetSmall(num_classes=num_classes, in_chans=in_chans, widths=(8, 16), depth=2, reduction=4).eval()
    card = ModelCard(name="tiny", kind="bundled", architecture="tiny", dataset="tiny", labels=LABELS[:num_classes],
                     in_chans=in_chans, input_size=[in_chans, size, size], mean=[0.5] * in_chans,
                     std=[0.25] * in_chans)
    return LoadedModel("tiny", model, card, "random", find_se_blocks(model), card_transform(card))


def png_bytes(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    """The image as the bytes of an image file (PNG unless `fmt` says otherwise)."""
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def pattern(kind: str, size: int = 16, seed: int = 0) -> Image.Image:
    """Generated class images: a bright disc, a bright square, or vertical stripes, with noise."""
    r = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    if kind == "circle":
        a = ((yy - size / 2) ** 2 + (xx - size / 2) ** 2 < (size / 3) ** 2).astype(float)
    elif kind == "square":
        a = ((abs(yy - size / 2) < size / 4) & (abs(xx - size / 2) < size / 4)).astype(float)
    else:
        a = (xx // 2 % 2).astype(float)
    a = np.clip(a * 200 + r.normal(0, 20, a.shape) + 30, 0, 255).astype(np.uint8)
    return Image.fromarray(np.stack([a, a // 2, 255 - a], -1))


def zip_bytes(entries: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    """A zip archive holding `entries` (name -> bytes) and symbolic links (name -> target)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16)  # a symbolic link, as `zip --symlinks` stores it
            zf.writestr(info, target)
    return buf.getvalue()


def crafted_stats(divergences: dict[str, float], control: dict[str, float] | None = None, weights: str = "trained",
                  p: float | dict[str, float] = 0.001, spread: float = 0.02, permutations: int = 200):
    """ExcitationStats made from chosen numbers, judged by the library's own rules: block -> divergence, each with a
    200-replicate bootstrap of relative spread `spread` (independent per block), a permutation p (one for all or
    per block), a chance level a tenth of the divergence, and the control's blocks the same way."""
    from se_models.hooks.naming import stage_index
    from se_models.stats.excitation import BlockStats, ExcitationStats

    def blocks(divs: dict[str, float], seed: int) -> list[BlockStats]:
        out = []
        for i, (name, d) in enumerate(divs.items()):
            boot = np.clip(d * (1 + np.random.default_rng(seed + i).normal(0, spread, 200)), 0, None)
            si = stage_index(name) or (None, None)
            out.append(BlockStats(
                name=name, module=name, stage=si[0], index=si[1], channels=2, divergence=d, eta_squared=0.5,
                probe_accuracy=0.5, chance=0.5, mean=0.5, std=0.1, channel_spread=0.1, saturated_high=0.0,
                saturated_low=0.0, sampled_channels=[0, 1], all_mean=[0.5, 0.5],
                class_means={"a": [0.5 - d, 0.5], "b": [0.5 + d, 0.5]}, class_stds={"a": [0.1, 0.1], "b": [0.1, 0.1]},
                divergence_null=[d / 20, d / 10], divergence_p=p.get(name, 0.001) if isinstance(p, dict) else p,
                divergence_ci=np.percentile(boot, [2.5, 97.5]).tolist(), divergence_boot=boot.tolist(),
                probe_ci=[0.4, 0.6], probe_null=0.5))
        return out
    return ExcitationStats("crafted", weights, "crafted data", ["a", "b"], None, {"a": 500, "b": 500},
                           blocks(divergences, 0), control=blocks(control, 100) if control else None,
                           sample_counts={"a": 200, "b": 200}, permutations=permutations, bootstrap=200).judged()


def fake_ranking(top_classes: list[str], counts: dict[str, int], p: float = 0.005):
    """A channel ranking with these classes among the highest gates, these class sizes and this permutation p."""
    return SimpleNamespace(block="SE_4_3", channel=5, class_means={c: 0.1 * i for i, c in enumerate(counts)},
                           divergence=0.2, divergence_null=[0.01, 0.02], divergence_p=p, permutations=200,
                           counts=counts, top=[SimpleNamespace(cls=c) for c in top_classes])


def fake_history(flags: dict[str, list[bool]], divergence: dict[str, list[float]] | None = None):
    """An epoch history whose blocks are learned exactly as `flags` says, epoch by epoch (epoch 0 first), with the
    given divergences (default 0.1 x epoch) and no intervals."""
    n = len(next(iter(flags.values())))
    div = divergence or {b: [0.1 * e for e in range(n)] for b in flags}

    def block(name: str, e: int):
        return SimpleNamespace(name=name, learned=flags[name][e], above_chance=True, divergence=div[name][e],
                               divergence_ci=None)
    stats = {e: SimpleNamespace(blocks=[block(name, e) for name in flags],
                                block=lambda name, e=e: block(name, e)) for e in range(n)}
    return SimpleNamespace(epochs=[SimpleNamespace(epoch=e) for e in range(n)], numbers=list(range(n)), last=n - 1,
                           at=stats.__getitem__, blocks=lambda: list(flags))
