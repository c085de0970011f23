"""Datasets: training arrays (Fashion-MNIST, CIFAR-10, ImageFolder), the bundled sample sets, image folders."""
from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision import datasets

from se_models import config, offline
from se_models.errors import DatasetError, ImageError

FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
# Debian's dataset-fashion-mnist package puts the original gzip files here.
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


@dataclass
class ArrayDataset:
    """A whole split held in memory: images (N, C, H, W) uint8 and integer labels (N,)."""
    images: torch.Tensor
    labels: torch.Tensor
    classes: list[str]
    name: str = "in-memory images"  # e.g. "fashion-mnist test split"


def _download_hint(name: str, err: Exception) -> DatasetError:
    return DatasetError(f"could not download {name}: {offline.reason(err)}. Pass a local folder instead "
                        "(ImageFolder layout: DIR/<class>/<image>)")


def fashion_mnist(train: bool, root: Path | None = None) -> ArrayDataset:
    """Fashion-MNIST through torchvision, seeded from Debian's package when it is installed."""
    root = root or config.cache_dir()
    raw = Path(root) / "FashionMNIST" / "raw"
    if DEBIAN_FASHION_MNIST.is_dir() and not (raw / "t10k-labels-idx1-ubyte").exists():
        raw.mkdir(parents=True, exist_ok=True)
        for gz in DEBIAN_FASHION_MNIST.glob("*.gz"):  # torchvision reads the decompressed files
            with gzip.open(gz) as src, open(raw / gz.stem, "wb") as dst:
                shutil.copyfileobj(src, dst)
    try:
        ds = datasets.FashionMNIST(str(root), train=train, download=True)
    except Exception as err:  # noqa: BLE001 - any network failure becomes one clear message
        raise _download_hint("Fashion-MNIST (or: apt-get install dataset-fashion-mnist)", err) from err
    return ArrayDataset(ds.data[:, None].contiguous(), ds.targets.clone(), list(FASHION_MNIST_CLASSES),
                        f"fashion-mnist {'train' if train else 'test'} split")


def cifar10(train: bool, root: Path | None = None) -> ArrayDataset:
    """CIFAR-10 through torchvision's downloader (with a progress bar), cached under `root`."""
    root = root or config.cache_dir()
    try:
        ds = datasets.CIFAR10(str(root), train=train, download=True)
    except Exception as err:  # noqa: BLE001
        raise _download_hint("CIFAR-10", err) from err
    images = torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous()  # (N, 32, 32, 3) -> (N, 3, 32, 32)
    split = "train" if train else "test"
    return ArrayDataset(images, torch.tensor(ds.targets), list(ds.classes), f"cifar10 {split} split")


def image_folder_arrays(root: str | Path, size: int, in_chans: int = 3) -> ArrayDataset:
    """Decode a whole ImageFolder (DIR/<class>/<image>) into memory, resized to `size` px."""
    from se_models.data.images import load_image  # images.py owns decoding and its errors

    folder = datasets.ImageFolder(str(root), loader=lambda p: p)  # we decode ourselves, below
    out = np.empty((len(folder), in_chans, size, size), np.uint8)
    for i, (path, _) in enumerate(folder.samples):
        img = load_image(path).resize((size, size))
        arr = np.asarray(img.convert("L") if in_chans == 1 else img)
        out[i] = arr[None] if in_chans == 1 else arr.transpose(2, 0, 1)
    return ArrayDataset(torch.from_numpy(out), torch.tensor(folder.targets), list(folder.classes), str(root))


def training_data(spec: str, train: bool) -> tuple[ArrayDataset, str]:
    """Resolve `fashion-mnist`, `cifar10[:DIR]` or `imagefolder:DIR` to a split and a dataset name."""
    name, _, path = spec.partition(":")
    split = "train" if train else "test"
    if name == "fashion-mnist":
        return fashion_mnist(train), "fashion-mnist"
    if name == "cifar10":
        return (image_folder_arrays(Path(path) / split, 32) if path else cifar10(train)), "cifar10"
    if name == "imagefolder" and path:
        return image_folder_arrays(Path(path) / split, 32), Path(path).name
    raise DatasetError(f"unknown dataset {spec!r}: use fashion-mnist, cifar10[:DIR] or imagefolder:DIR")


def safe_dirname(label: str) -> str:
    """A class name as a folder name (`T-shirt/top` -> `T-shirt-top`)."""
    return label.replace("/", "-")


def bundled_samples_dir(dataset: str) -> Path:
    """assets/samples/<dataset>: the held-out sample images of a bundled model's dataset."""
    return config.SAMPLES_DIR / dataset


class ImageSource:
    """A labelled image collection seen as: class names, a label per item, item i -> its image (RGB PIL) and its
    preprocessed tensor, and item i's name (a file's path below the folder, or its index in a split)."""

    def __init__(self, classes: list[str], targets: list[int], image: Callable[[int], Image.Image],
                 preprocess: Callable[[Image.Image], torch.Tensor], description: str,
                 names: Callable[[int], str] | None = None):
        self.classes, self.targets, self.image, self.preprocess = classes, targets, image, preprocess
        self.description = description  # how the statistics name the data: a folder, "cifar10 test split", ...
        self._names = names

    def get(self, i: int) -> torch.Tensor:
        """Item i, preprocessed for the model (C, H, W)."""
        return self.preprocess(self.image(i))

    def name(self, i: int) -> str:
        """How a listing names item i: its path below the folder, or `#i` in a split."""
        return self._names(i) if self._names else f"#{i}"

    def __len__(self) -> int:
        return len(self.targets)


def image_folder(root: Path) -> datasets.ImageFolder:
    """torchvision's ImageFolder of paths, with errors that count but never list what the folder holds (the app
    passes user-typed paths here; torchvision's own messages name every sub-folder found)."""
    try:
        return datasets.ImageFolder(str(root), loader=lambda p: p)  # we decode ourselves, later
    except (FileNotFoundError, RuntimeError, OSError) as err:
        subdirs = sum(1 for d in root.iterdir() if d.is_dir()) if root.is_dir() else 0
        what = (f"at least one of its {subdirs} sub-folders holds no" if subdirs and "Found no valid" in str(err)
                else "it has no sub-folders with an")
        raise DatasetError(f"{root}: {what} image file ({' '.join(config.IMAGE_EXTENSIONS)}); expected "
                           "DIR/<class>/<image>: every sub-folder is a class and needs at least one image") from err


def as_source(dataset, loaded) -> ImageSource:
    """`bundled`, a folder path (ImageFolder layout), an ArrayDataset or a torchvision dataset -> ImageSource."""
    from se_models.data.images import load_image

    if isinstance(dataset, str) and dataset == "bundled":
        dataset = bundled_samples_dir(loaded.card.dataset)
        if not dataset.is_dir():
            raise DatasetError(f"model {loaded.name} has no bundled samples ({dataset} is missing); "
                               f"use its reference statistics or a folder of images")
    if isinstance(dataset, (str, Path)):
        root = Path(dataset)
        if not root.is_dir():
            raise DatasetError(f"{root}: not a folder (expected DIR/<class>/<image>)")
        folder = image_folder(root)
        # folder names stand for the model's labels when they match once made filesystem-safe
        by_dir = {safe_dirname(lab): lab for lab in loaded.labels}
        classes = [by_dir.get(c, c) for c in folder.classes]
        paths = [p for p, _ in folder.samples]
        # a large photo is reduced while decoding: the model sees at most a few hundred pixels of it
        return ImageSource(classes, list(folder.targets), lambda i: load_image(paths[i], shrink_to=config.DECODE_SIDE),
                           loaded.preprocess, str(root), lambda i: Path(paths[i]).relative_to(root).as_posix())
    if isinstance(dataset, ArrayDataset):
        def image(i: int) -> Image.Image:
            arr = dataset.images[i].numpy()
            return Image.fromarray(arr[0] if arr.shape[0] == 1 else arr.transpose(1, 2, 0)).convert("RGB")
        return ImageSource(dataset.classes, dataset.labels.tolist(), image, loaded.preprocess, dataset.name)
    if hasattr(dataset, "classes") and hasattr(dataset, "targets"):  # torchvision datasets yielding PIL images
        return ImageSource(list(dataset.classes), list(dataset.targets), lambda i: dataset[i][0].convert("RGB"),
                           loaded.preprocess, type(dataset).__name__)
    raise TypeError(f"cannot read images from {type(dataset).__name__}")


class ImageItems(Dataset):
    """The selected images of a source as a torch Dataset: j -> (source index, tensor or None, error or None)."""

    def __init__(self, source, indices: list[int]):
        self.source, self.indices = source, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, j: int):
        i = self.indices[j]
        try:
            return i, self.source.get(i), None
        except ImageError as err:  # one bad file is reported, the rest still count
            return i, None, str(err)


def collate_readable(items):
    """A batch without its unreadable images: (source indices (B,), images (B, C, H, W) or None, error messages)."""
    ok = [(i, x) for i, x, _ in items if x is not None]
    errors = [e for _, x, e in items if x is None]
    return (torch.tensor([i for i, _ in ok], dtype=torch.long), torch.stack([x for _, x in ok]) if ok else None,
            errors)


def export_samples(data: ArrayDataset, dataset: str, per_class: int = 100, out: Path = config.SAMPLES_DIR) -> Path:
    """Write the first `per_class` test images of each class as PNG: out/<dataset>/<class>/<test index>.png."""
    from PIL import Image

    root = Path(out) / dataset
    for c, label in enumerate(data.classes):
        folder = root / safe_dirname(label)
        folder.mkdir(parents=True, exist_ok=True)
        for i in torch.nonzero(data.labels == c).flatten()[:per_class].tolist():
            arr = data.images[i].numpy()
            Image.fromarray(arr[0] if arr.shape[0] == 1 else arr.transpose(1, 2, 0)).save(folder / f"{i:05d}.png")
    return root




def photos() -> list[dict]:
    """The credited demo photos (assets/photos/photos.json), each with its absolute `path` added."""
    entries = json.loads((config.PHOTOS_DIR / "photos.json").read_text())
    return [{**e, "path": str(config.PHOTOS_DIR / e["file"])} for e in entries]


def sample_images(dataset: str) -> list[tuple[str, str]]:
    """(path, folder class name) of every bundled sample image of a dataset, sorted; [] when it has none."""
    root = bundled_samples_dir(dataset)
    if not root.is_dir():
        return []
    return sorted((str(p), p.parent.name) for p in root.glob("*/*.png"))
