"""Where a model's stored results live, and reading them: reference statistics, per-epoch statistics and ablation
tables, beside a bundled model in the package, or for any other model in the user cache (never written into the
package)."""
from __future__ import annotations

import json
import re
from pathlib import Path

from se_models import config


def reference_path(name: str | None = None) -> Path:
    """assets/models/<name>.reference.json: a bundled model's statistics over its whole test split, with control."""
    return config.MODELS_DIR / f"{name or config.DEFAULT_MODEL}.reference.json"


def user_reference_path(name: str) -> Path:
    """<cache>/reference/<name>.json for a model that is not bundled (a zoo or timm name, made filename-safe)."""
    return config.cache_dir() / "reference" / (re.sub(r"[^A-Za-z0-9._-]", "_", name) + ".json")


def writable_reference_path(name: str) -> Path:
    """Where `python -m se_models reference` writes: the package for a bundled model, the user cache otherwise."""
    return reference_path(name) if name in config.bundled_models() else user_reference_path(name)


def find_reference(name: str | None) -> Path | None:
    """The reference statistics of a model, bundled first, then the user cache; None when it has none."""
    if not name:
        return None
    for path in (reference_path(name), user_reference_path(name)):
        if path.is_file():
            return path
    return None


def reference_mean_gates(name: str) -> dict[str, list[float]] | None:
    """Per block, the all-class mean gate of the model's reference statistics (None without them)."""
    path = find_reference(name)
    if path is None:
        return None
    return {b["name"]: b["all_mean"] for b in json.loads(path.read_text())["blocks"]}


def ablation_path(name: str) -> Path:
    """Where a model's stored ablation tables live: assets/models/<name>.ablation.json for a bundled model, beside
    its reference statistics; the user cache for any other."""
    if name in config.bundled_models():
        return config.MODELS_DIR / f"{name}.ablation.json"
    return user_reference_path(name).with_suffix(".ablation.json")


def stored_tables(name: str):
    """The stored ablation tables of a model ({mode: AblationTable}), or None."""
    from se_models.stats.tables import load_tables  # the tables' own module reads them

    path = ablation_path(name)
    return load_tables(path) if path.exists() else None


def epochs_path(name: str, folder: str | Path | None = None) -> Path:
    """Where a model's per-epoch statistics live: <folder>/<name>.epochs.json (train --epoch-stats writes them beside
    the weights it writes); by default assets/models for a bundled model, the user cache for any other."""
    if folder is not None:
        return Path(folder) / f"{name}.epochs.json"
    if name in config.bundled_models():
        return config.MODELS_DIR / f"{name}.epochs.json"
    return user_reference_path(name).with_suffix(".epochs.json")


def find_epochs(name: str | None) -> Path | None:
    """The per-epoch statistics of a model, or None when it has none (it was trained without --epoch-stats)."""
    if not name:
        return None
    path = epochs_path(name)
    return path if path.is_file() else None
