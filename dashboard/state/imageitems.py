"""Image items: the images a user chose (photos, samples, uploads), decoded, and their thumbnails."""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from se_models.data.datasets import safe_dirname
from se_models.data.images import load_image
from se_models.errors import ImageError

UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff"]


@dataclass(frozen=True)


class ImageItem:
    """One image the user chose: where it came from and its raw bytes (decoded later, with errors reported)."""
    id: str                        # stable id, also used in the URL: photo:chelsea.jpg, sample:Bag/00012.png
    label: str                     # shown under the thumbnail
    data: bytes
    source: str                    # photo | sample | upload | camera
    true_class: str | None = None  # known for samples (and photos of a class the model knows)
    credit: str | None = None
    hint: str | None = None        # what an ImageNet model should roughly see in a photo (not an exact label)

    @functools.cached_property
    def digest(self) -> str:
        """Content hash: the cache key of everything computed from this image (hashed once per item)."""
        return bytes_hash(self.data)

    @property
    def in_distribution(self) -> bool:
        """Bundled samples come from the model's own test set; everything else is a stranger to it."""
        return self.source == "sample"


def bytes_hash(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()[:16]


def photo_item(photo: dict, labels: list[str], imagenet: bool = False) -> ImageItem:
    """A demo photo; its CIFAR-10 class is the true class where the model has it. For ImageNet's 1000 classes the
    photo's hint stays a hint: a tabby is also fairly a tiger cat, so it is no verdict of right or wrong."""
    cls = photo.get("cifar10")
    return ImageItem(f"photo:{photo['file']}", photo["title"], Path(photo["path"]).read_bytes(), "photo",
                     cls if cls in labels else None, f"{photo['credit']} ({photo['licence']})",
                     photo.get("imagenet_hint") if imagenet else None)


def sample_id(path: str) -> str:
    """`.../fashion-mnist/Bag/00012.png` -> `Bag/00012.png`: short, and stable across machines."""
    p = Path(path)
    return f"{p.parent.name}/{p.name}"


def sample_class(folder: str, labels: list[str]) -> str:
    """A sample folder name back to the model's label (`T-shirt-top` -> `T-shirt/top`)."""
    return {safe_dirname(lab): lab for lab in labels}.get(folder, folder)


def sample_item(sid: str, root: Path, labels: list[str]) -> ImageItem:
    folder, name = sid.split("/", 1)
    cls = sample_class(folder, labels)
    return ImageItem(f"sample:{sid}", f"{cls} #{Path(name).stem}", (root / folder / name).read_bytes(), "sample", cls)


def upload_items(files: list[tuple[str, bytes]], source: str = "upload") -> list[ImageItem]:
    """Uploaded (name, bytes) pairs -> items; the hash keeps two files of the same name apart, and the same file
    uploaded twice (same bytes) is one item."""
    items = {}
    for name, data in files:
        digest = bytes_hash(data)
        items.setdefault(digest, ImageItem(f"{source}:{name}#{digest[:8]}", name, data, source))
    return list(items.values())


def decode_items(items: list[ImageItem], decode=None) -> tuple[list[tuple[ImageItem, Image.Image]], list[str]]:
    """Decode every item; a bad one becomes an error message naming the file, the others still decode."""
    decode = decode or (lambda item: load_image(item.data, name=item.label))
    good, errors = [], []
    for item in items:
        try:
            good.append((item, decode(item)))
        except ImageError as err:
            errors.append(str(err))
    return good, errors


def default_image(photos: list[dict], samples: list[tuple[str, str]], labels: list[str]) -> str | None:
    """First paint: a photo of a class the model knows, else one of its own test samples, else any photo."""
    for p in photos:
        if p.get("cifar10") in labels or p.get("imagenet_hint") in labels:
            return f"photo:{p['file']}"
    if samples:
        return f"sample:{sample_id(samples[0][0])}"
    return f"photo:{photos[0]['file']}" if photos else None


def pixelated(image: Image.Image, size: int) -> Image.Image:
    """Enlarge with nearest neighbour so 28 px stay visibly 28 px."""
    return image.convert("RGB").resize((size, size), Image.NEAREST)


def model_view_thumb(image: Image.Image, side: int) -> Image.Image:
    """The model's input as a thumbnail: small inputs enlarged pixel by pixel, 224 px ones shrunk smoothly."""
    return pixelated(image, 84) if side <= 84 else image.convert("RGB").resize((112, 112), Image.LANCZOS)
