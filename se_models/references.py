"""Where reference statistics live: beside a bundled model in the package, or for any other model in the user cache."""
from __future__ import annotations

import os
import re
from pathlib import Path

from .registry import list_models, reference_path


def user_cache() -> Path:
    """SE_MODELS_CACHE, else ~/.cache/se_models (read at each call, so a test or a teacher can point it elsewhere)."""
    return Path(os.environ.get("SE_MODELS_CACHE") or Path.home() / ".cache" / "se_models")


def user_reference_path(name: str) -> Path:
    """<cache>/reference/<name>.json for a model that is not bundled (a zoo or timm name, made filename-safe)."""
    return user_cache() / "reference" / (re.sub(r"[^A-Za-z0-9._-]", "_", name) + ".json")


def writable_reference_path(name: str) -> Path:
    """Where `python -m se_models reference` writes: the package for a bundled model, the user cache otherwise."""
    return reference_path(name) if name in list_models() else user_reference_path(name)


def find_reference(name: str | None) -> Path | None:
    """The reference statistics of a model, bundled first, then the user cache; None when it has none."""
    if not name:
        return None
    for path in (reference_path(name), user_reference_path(name)):
        if path.is_file():
            return path
    return None
