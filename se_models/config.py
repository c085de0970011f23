"""Every setting in one place: the project's folders, the user cache, image file types, the size limits and a server's
budget.

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
# a large image is reduced while decoding (for the app and folders of images) until its shorter side is near this:
# every model here takes at most 448 px, and the app shows 220 px
DECODE_SIDE = 1024


def _env_int(name: str, default: int) -> int:
    """An operator's whole-number setting from the environment (underscores allowed: 100_000_000), else default."""
    text = os.environ.get(name, "").strip().replace("_", "")
    return int(text) if text.isascii() and text.isdigit() else default


# ---- the app's uploads, in MB a file (Streamlit's server.maxUploadSize in .streamlit/config.toml must fit the largest)
UPLOAD_WEIGHTS_MB = 120  # holds SE-ResNet-50 and SE-ResNeXt-50 as float32 safetensors (sizes in the README)
UPLOAD_ZIP_MB = 50
UPLOAD_IMAGE_MB = 20

# ---- a classroom server's budget (the app; the library and the CLI apply none of it unless asked) ------------------
# Each number can be changed by the operator through the environment variable named beside it, read when the app
# starts (README, docs/server.md).
ENV_ROOTS = "SE_EXPLORER_ROOTS"  # os.pathsep-separated folders a browser may name; set but empty = none
ENV_DEBUG = "SE_EXPLORER_DEBUG"  # 1 = the hidden hook check page (?debug=hooks) for the multi-user test
BUDGET_ENV = {  # setting -> (variable, default)
    # parameters of one timm model a browser may build, counted on the meta device before any weight is allocated:
    # 100 M holds every SE network of the zoo (SE-ResNet-152: 66.8 M) at 400 MB as float32
    "MAX_MODEL_PARAMS": ("SE_EXPLORER_MAX_MODEL_PARAMS", 100_000_000),
    # parameters and buffers of all the models the app holds at once (least recently used dropped beyond it)
    "MODEL_CACHE_MB": ("SE_EXPLORER_MODEL_CACHE_MB", 1536),
    # decoded images (reduced to DECODE_SIDE) of every session together, serialized MB; the app's other cached data
    # is bounded all together by Streamlit's own server.maxCacheDataSize (.streamlit/config.toml)
    "IMAGE_CACHE_MB": ("SE_EXPLORER_IMAGE_CACHE_MB", 256),
    # one-image analyses (probabilities, every z and s, Grad-CAM at every stage, one block's maps), serialized MB
    "RESULT_CACHE_MB": ("SE_EXPLORER_RESULT_CACHE_MB", 256),
    # images one request of class statistics may read (classes x images per class; the untrained control reads the
    # same images again): a few seconds for the bundled models on 2 cores, minutes for SE-ResNet-50
    "MAX_IMAGES_PER_REQUEST": ("SE_EXPLORER_MAX_IMAGES", 2000),
    # heavy computations (class statistics, the deletion / insertion check) that run at once; the others queue
    "HEAVY_JOBS": ("SE_EXPLORER_HEAVY_JOBS", 1),
}
MAX_MODEL_PARAMS = _env_int(*BUDGET_ENV["MAX_MODEL_PARAMS"])
MODEL_CACHE_MB = _env_int(*BUDGET_ENV["MODEL_CACHE_MB"])
IMAGE_CACHE_MB = _env_int(*BUDGET_ENV["IMAGE_CACHE_MB"])
RESULT_CACHE_MB = _env_int(*BUDGET_ENV["RESULT_CACHE_MB"])
MAX_IMAGES_PER_REQUEST = _env_int(*BUDGET_ENV["MAX_IMAGES_PER_REQUEST"])
HEAVY_JOBS = max(1, _env_int(*BUDGET_ENV["HEAVY_JOBS"]))


def bundled_models() -> list[str]:
    """Names of the bundled models: a card <name>.json in MODELS_DIR (beside it <name>.safetensors, and maybe
    <name>.reference.json and <name>.ablation.json)."""
    return sorted(p.stem for p in MODELS_DIR.glob("*.json") if "." not in p.stem)


def cache_dir() -> Path:
    """SE_MODELS_CACHE, else ~/.cache/se_models: downloaded datasets and other models' reference statistics (read at
    each call, so a test or a teacher can point it elsewhere)."""
    return Path(os.environ.get("SE_MODELS_CACHE") or Path.home() / ".cache" / "se_models")
