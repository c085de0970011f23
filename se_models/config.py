"""Every setting in one place: the project's folders, the user cache, image file types and the size limits.

Limits an operator may change are read from environment variables (names below) at import, with the defaults given."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent  # the checkout: se_models/, dashboard/, assets/
ASSETS = PROJECT / "assets"
MODELS_DIR = ASSETS / "models"    # bundled weights, cards, reference statistics, stored ablations
SAMPLES_DIR = ASSETS / "samples"  # held-out sample images of the bundled models' datasets
PHOTOS_DIR = ASSETS / "photos"    # freely licensed example photos
DEFAULT_MODEL = "se_resnet20_cifar10"  # the colour model reproduces the paper; Fashion-MNIST is the contrast

# image files, by suffix, that folders, zips and the CLI read (torchvision's ImageFolder list, minus formats PIL
# cannot always decode here)
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")

# one image
MAX_PIXELS = 40_000_000       # about a 6300 x 6300 photo; larger is refused before decoding
MAX_IMAGE_BYTES = 50 * 1024 ** 2  # files larger than this are refused unread
# one uploaded zip of class folders
MAX_ZIP_FILES = 5000                  # images
MAX_ZIP_TOTAL_BYTES = 300 * 1024 ** 2  # uncompressed, all files together
MAX_ZIP_FILE_BYTES = 20 * 1024 ** 2    # uncompressed, one image


def bundled_models() -> list[str]:
    """Names of the bundled models: a card <name>.json in MODELS_DIR (beside it <name>.safetensors, and maybe
    <name>.reference.json and <name>.ablation.json)."""
    return sorted(p.stem for p in MODELS_DIR.glob("*.json") if "." not in p.stem)


def cache_dir() -> Path:
    """SE_MODELS_CACHE, else ~/.cache/se_models: downloaded datasets and other models' reference statistics (read at
    each call, so a test or a teacher can point it elsewhere)."""
    return Path(os.environ.get("SE_MODELS_CACHE") or Path.home() / ".cache" / "se_models")
