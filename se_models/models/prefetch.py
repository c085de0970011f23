"""Pretrained ImageNet weights fetched ahead of time into the caches timm reads (python -m se_models download)."""
from __future__ import annotations

import timm

from se_models import offline
from se_models.errors import UnknownModelError, WeightsUnavailable
from se_models.hooks.blocks import find_se_blocks
from se_models.models.zoo import ZOO, check_online, create, is_cached, is_zoo_name, refuse_built


def download(name: str) -> str:
    """Put a zoo or `timm:NAME` model's pretrained weights into timm's cache (Hugging Face hub cache or torch hub
    checkpoints), with timm's progress bars; returns "cached" or "downloaded".

    Raises WeightsUnavailable in seconds when the weights are uncached and the source cannot be reached, and
    UnknownModelError for an unknown name or a model without SE blocks (nothing is downloaded for those)."""
    if not is_zoo_name(name):
        raise UnknownModelError(f"{name}: not a zoo model ({', '.join(ZOO)}); use timm:NAME for any other timm model")
    refuse_built(name)
    model = create(name)
    find_se_blocks(model)  # a model without SE blocks is useless here: refuse it before a download
    cfg = dict(model.pretrained_cfg)
    if is_cached(cfg):
        return "cached"
    check_online(name, cfg)
    timm.models.set_pretrained_download_progress(True)  # torch hub URLs; the hub shows its own bar
    try:
        create(name, pretrained=True)  # timm's own loading: the file lands where timm looks for it
    except (OSError, RuntimeError) as err:  # a connection lost half-way, a hub error
        raise WeightsUnavailable(f"{name}: the download failed ({offline.reason(err)}); try again") from err
    return "downloaded"
