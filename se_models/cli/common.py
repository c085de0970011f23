"""What several commands share: a progress bar, a bundled model's test split, decoding workers, a class named on the
command line, and the image sets and medians of sanity and faithfulness."""
from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import torch
from tqdm import tqdm

from se_models import config
from se_models.errors import DatasetError, UnknownClassError
from se_models.explain import lenses, sanity


def progress_bar(desc: str):
    """(update, close): a tqdm bar driven by excitation_stats' (done, total) callback, made on the first call
    (so a command that fails before any image is read prints no empty bar)."""
    bars: list[tqdm] = []

    def update(done: int, total: int) -> None:
        if not bars:
            bars.append(tqdm(total=total, desc=desc, unit="img", file=sys.stderr))
        bars[0].update(done - bars[0].n)

    def close() -> None:
        for bar in bars:
            bar.close()
    return update, close


def test_split(loaded):
    """The test split of a bundled model's dataset (torchvision; downloads it once when online)."""
    from se_models.data.datasets import training_data

    return training_data(loaded.card.dataset, train=False)[0]


def default_workers() -> int:
    """Image-decoding worker processes: one per spare core, at most 4 (0 on a single core)."""
    return max(0, min(4, (os.cpu_count() or 1) - 1))


def add_workers_argument(parser) -> None:
    """--workers: image-decoding processes beside the model (stats, reference)."""
    parser.add_argument("--workers", type=int, default=default_workers(),
                        help=f"image-decoding processes beside the model (default here: {default_workers()})")


def class_index(loaded, target: str | None) -> int | None:
    """A class named on the command line (its label, or its index) -> its index; None stays None (the predicted
    class). UnknownClassError for anything else."""
    if target is None:
        return None
    if target in loaded.labels:
        return loaded.labels.index(target)
    if target.isdigit() and int(target) < len(loaded.labels):
        return int(target)
    raise UnknownClassError(f"unknown class {target!r}; classes: {', '.join(loaded.labels)}")


def add_image_set_arguments(parser) -> None:
    """The options sanity and faithfulness share: the images, how many, which methods, and the outputs."""
    parser.add_argument("data", help="'bundled' (the model's sample images) or DIR (images anywhere below it)")
    parser.add_argument("--limit", type=int, default=200, help="at most this many images, drawn with seed 0")
    parser.add_argument("--methods", nargs="+", choices=list(lenses.METHODS), default=list(lenses.METHODS))
    parser.add_argument("--json", help="write the per-image numbers here")
    parser.add_argument("--markdown", action="store_true", help="print the summary as a Markdown table")


def image_paths(loaded, data: str, limit: int) -> list[str]:
    """The images of 'bundled' or a DIR, `limit` of them drawn with a fixed seed (every class, not the first)."""
    from se_models.data.datasets import sample_images

    if data == "bundled":
        paths = [p for p, _ in sample_images(loaded.card.dataset)]
        if not paths:
            raise DatasetError(f"{loaded.name} has no bundled sample images; give a folder of images instead")
    else:
        root = Path(data)
        if not root.is_dir():
            raise DatasetError(f"{data}: not a folder (give 'bundled' or a folder of images)")
        paths = sorted(str(p) for p in root.rglob("*") if p.suffix.lower() in config.IMAGE_EXTENSIONS)
        if not paths:
            raise DatasetError(f"{data}: no images (.png, .jpg, ...) below it")
    random.Random(0).shuffle(paths)
    return sorted(paths[:limit])


def batches(loaded, paths: list[str], size: int = 64):
    """(paths, preprocessed images (B, C, H, W)) for every `size` of the paths."""
    from se_models.data.images import load_image

    for i in range(0, len(paths), size):
        yield paths[i:i + size], torch.stack([loaded.preprocess(load_image(p)) for p in paths[i:i + size]])


def median_row(values, digits: int = 3) -> str:
    """`median [low, high]`: the median with its 95 % bootstrap interval, as a table cell."""
    med, lo, hi = sanity.median_ci(values)
    return f"{med:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"
