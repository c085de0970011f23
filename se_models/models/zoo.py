"""ImageNet attention networks through timm: the named zoo, ResNets built with other channel attention (CBAM, ...),
any `timm:NAME`; weights from the hub, a file, or random."""
from __future__ import annotations

import socket
from dataclasses import replace
from functools import partial
from pathlib import Path
from urllib.parse import urlparse

import timm
import torch
from timm.data import ImageNetInfo, create_transform, resolve_data_config
from timm.layers import GatherExcite

from se_models import offline
from se_models.errors import ModelTooLarge, UnknownModelError, WeightsUnavailable
from se_models.hooks.blocks import find_se_blocks
from se_models.models.card import ModelCard
from se_models.models.checkpoint import load_weights

ZOO = {
    # name -> what it is, and an ImageNet top-1 accuracy with where that number comes from
    "legacy_seresnet50.in1k": dict(top1=77.65, source="timm's evaluation",
                                   note="SE-ResNet-50, the paper's original (Caffe) weights"),
    "seresnet50.a1_in1k": dict(top1=80.01, source="timm's evaluation",
                               note="SE-ResNet-50, modern 'ResNet strikes back' A1 recipe"),
    "seresnext50_32x4d.racm_in1k": dict(top1=81.27, source="timm's evaluation", note="SE-ResNeXt-50 32x4d"),
    "legacy_seresnet101.in1k": dict(top1=77.62, source="paper Table 2 (top-1 error 22.38)",
                                    note="SE-ResNet-101, the paper's original weights"),
    "legacy_seresnet152.in1k": dict(top1=78.43, source="paper Table 2 (top-1 error 21.57)",
                                    note="SE-ResNet-152, the paper's original weights"),
}
# timm ResNets with another channel attention in every residual block (its `block_args=dict(attn_layer=...)`). No
# pretrained weights exist for them anywhere: they load with random weights (the architecture, for teaching and for
# checking the tool) or from a local file the user trained.
BUILT = {
    # name -> the timm architecture, the attention layer (timm's name or class), what it is
    "cbam_resnet18": dict(arch="resnet18", attn="cbam", note="ResNet-18 with CBAM (channel, then spatial gate)"),
    "cbam_resnet50": dict(arch="resnet50", attn="cbam", note="ResNet-50 with CBAM, the CBAM paper's network"),
    "lcbam_resnet18": dict(arch="resnet18", attn="lcbam", note="ResNet-18 with timm's light CBAM"),
    "ceca_resnet18": dict(arch="resnet18", attn="ceca", note="ResNet-18 with circular ECA"),
    "gc_resnet18": dict(arch="resnet18", attn="gc", note="ResNet-18 with global context, scale fusion"),
    # timm 1.0's GatherExcite cannot be built with its MLP (a positional `*dd` in its constructor): the
    # parameter-free gather-excite (GE-θ⁻ of Hu et al. 2018), global and with a local extent of 4 (a spatial gate)
    "ge_resnet18": dict(arch="resnet18", attn=partial(GatherExcite, use_mlp=False),
                        note="ResNet-18 with parameter-free gather-excite, global extent"),
    "ge4_resnet18": dict(arch="resnet18", attn=partial(GatherExcite, use_mlp=False, extent=4),
                         note="ResNet-18 with parameter-free gather-excite, extent 4 (a spatial gate, read as its "
                              "mean)"),
}
CONNECT_TIMEOUT_S = 5.0


def is_zoo_name(name: str) -> bool:
    """A named ImageNet model (zoo or built) or `timm:NAME`: loaded through timm, not from assets/models."""
    return name in ZOO or name in BUILT or name.startswith("timm:")


def create(name: str, pretrained: bool = False) -> torch.nn.Module:
    """The timm model of a zoo, built or `timm:NAME` name (UnknownModelError for a name timm does not know)."""
    built = BUILT.get(name)
    arch = built["arch"] if built else name.removeprefix("timm:")
    extra = {"block_args": dict(attn_layer=built["attn"])} if built else {}
    try:
        return timm.create_model(arch, pretrained=pretrained, **extra)
    except RuntimeError as err:  # timm: "Unknown model (...)"
        raise UnknownModelError(f"{name}: {err}") from err


def imagenet_labels() -> list[str]:
    """The 1000 ImageNet class names shipped inside timm (first synonym; repeated names made unique)."""
    info = ImageNetInfo()
    names, seen = [], {}
    for i in range(info.num_classes()):
        short = info.index_to_description(i).split(",")[0].strip()
        seen[short] = seen.get(short, 0) + 1
        names.append(short if seen[short] == 1 else f"{short} ({seen[short]})")
    return names


def is_cached(cfg: dict) -> bool:
    """Whether timm would find these pretrained weights without the network."""
    if cfg.get("hf_hub_id"):
        from huggingface_hub import try_to_load_from_cache

        repo = cfg["hf_hub_id"].split("@")[0]
        if any(isinstance(try_to_load_from_cache(repo, f), str) for f in ("model.safetensors", "pytorch_model.bin")):
            return True
    url = cfg.get("url")
    return bool(url) and (Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(url).path).name).exists()


def check_online(name: str, cfg: dict) -> None:
    """Fail in seconds, with what to do, when uncached weights cannot be downloaded."""
    host = "huggingface.co" if cfg.get("hf_hub_id") else urlparse(cfg.get("url") or "").hostname
    if not host:
        raise WeightsUnavailable(f"{name}: timm knows no download source for these weights; "
                                 f"pass a local file (weights=PATH / --weights PATH)")
    try:
        socket.create_connection((host, 443), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as err:
        source = cfg.get("hf_hub_id") or cfg.get("url")
        raise WeightsUnavailable(
            f"{name}: pretrained weights are not cached and {host} cannot be reached: {offline.reason(err)}. On a "
            f"machine with internet, run once: python -m se_models download {name} "
            f"(source: {source}); or download the file and pass it with weights=PATH (CLI: --weights PATH), "
            f"or use weights='random' for the untrained architecture.") from err


def refuse_built(name: str) -> None:
    """WeightsUnavailable for a built name (a ResNet with CBAM, ...): there are no pretrained weights to load or
    download, whatever the network."""
    if name in BUILT:
        raise WeightsUnavailable(
            f"{name}: no pretrained weights exist ({BUILT[name]['note']}, built here from timm's "
            f"{BUILT[name]['arch']}); use weights='random' (CLI: --weights random) for the untrained architecture, "
            "or a weights file you trained (weights=PATH / --weights PATH)")


def _skeleton(name: str) -> torch.nn.Module:
    """The architecture built on the meta device: its parameters have shapes but no memory, so a model is sized and
    checked for attention blocks before anything is allocated (a ViT-L costs 1.2 GB to build only to be refused)."""
    arch = name.removeprefix("timm:")
    if arch.startswith("hf-hub:"):  # timm reads the hub's config even without weights: fail in seconds offline
        check_online(name, {"hf_hub_id": arch.split(":", 1)[1]})
    with torch.device("meta"):
        return create(name)


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def build_timm(name: str, weights: str | Path | None, max_params: int | None = None
               ) -> tuple[torch.nn.Module, ModelCard, str]:
    """Create a timm model for a zoo, built or `timm:NAME` name; returns (model, card, weights label).

    Sized and checked for attention blocks on the meta device first: ModelTooLarge beyond max_params (None: no
    limit), NoSEBlocksError without attention blocks, both before any weight is allocated or downloaded."""
    skeleton = _skeleton(name)
    find_se_blocks(skeleton)  # refuse a model without attention blocks before building it or looking for weights
    count = parameter_count(skeleton)
    if max_params is not None and count > max_params:
        raise ModelTooLarge(f"{name}: {count / 1e6:.0f} M parameters (about {4 * count / 1024 ** 3:.1f} GB as "
                            f"float32), over the limit of {max_params / 1e6:.0f} M")
    del skeleton
    with torch.random.fork_rng():  # the random control is reproducible; the caller's RNG stays untouched
        torch.manual_seed(0)
        model = create(name)
    cfg = dict(model.pretrained_cfg)
    if weights is None:
        refuse_built(name)
        if not is_cached(cfg):
            check_online(name, cfg)
        model = create(name, pretrained=True)
        label = "trained"
    elif weights == "random":
        label = "random"
    else:
        load_weights(model, weights, f"{name} ({type(model).__name__}, {model.num_classes} classes)")
        label = str(weights)
    data_cfg = resolve_data_config({}, model=model)
    labels = imagenet_labels() if model.num_classes == 1000 else [str(i) for i in range(model.num_classes)]
    card = replace(zoo_card(name), labels=labels, input_size=list(data_cfg["input_size"]),
                   mean=list(data_cfg["mean"]), std=list(data_cfg["std"]), interpolation=data_cfg["interpolation"],
                   crop_pct=data_cfg["crop_pct"], weights_source=cfg.get("hf_hub_id") or cfg.get("url"))
    return model, card, label


def zoo_card(name: str) -> ModelCard:
    """What is known of a zoo, built or `timm:` model before it is loaded (no labels or input size yet)."""
    z = ZOO.get(name, {})
    if name in BUILT:
        b = BUILT[name]
        return ModelCard(name=name, kind="built", architecture=b["arch"], dataset="imagenet",
                         note=b["note"] + " (random weights: timm publishes none)")
    return ModelCard(name=name, kind="zoo" if z else "timm", architecture=name.removeprefix("timm:"),
                     dataset="imagenet", test_accuracy=z["top1"] / 100 if z else None,
                     note=z.get("note", "a timm model"), accuracy_source=z.get("source"))


def timm_transform(model: torch.nn.Module):
    """The model's own evaluation preprocessing (resize, centre crop, mean/std) from its pretrained config."""
    return create_transform(**resolve_data_config({}, model=model))
