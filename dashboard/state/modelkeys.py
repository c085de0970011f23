"""Model keys: a model and its weights choice as the one string that names and caches them."""
from __future__ import annotations

from pathlib import Path

from se_models.models.zoo import BUILT, ZOO

CONTROL = ":control"  # model key suffix: the same architecture with random (untrained) weights


FILE = ":file:"       # model key infix: weights from a local file, `name:file:<stamp>:<path>`


TIMM = "timm:"        # any timm model by name


WEIGHTS = {"pretrained": "pretrained (downloads once, then cached)", "upload": "upload a file",
           "file": "file on this server", "random": "random (untrained control)"}  # a zoo / timm model's (URL)


def model_options(names: list[str]) -> list[str]:
    """Every bundled model, each followed by its untrained control."""
    return [key for n in names for key in (n, n + CONTROL)]


def parse_model_key(key: str) -> tuple[str, str | None]:
    """`name` -> (name, None) = its own weights (shipped, or timm's pretrained download);
    `name:control` -> (name, "random"); `name:file:<stamp>:<path>` -> (name, path)."""
    if FILE in key:
        name, rest = key.split(FILE, 1)
        return name, rest.split(":", 1)[1]
    return (key[: -len(CONTROL)], "random") if key.endswith(CONTROL) else (key, None)


def model_key(name: str, weights: str = "pretrained", path: str = "", stamp: str = "") -> str:
    """A model and its weights choice -> the key that caches (and names) everything computed with them.

    A local file's key carries its stamp (modification time and size), so a rewritten file is loaded afresh."""
    if weights == "random":
        return name + CONTROL
    if weights == "file":
        return f"{name}{FILE}{stamp}:{path}"
    return name


def file_stamp(path: str) -> str:
    """`<mtime_ns>-<size>` of a file, or "missing": part of a local-weights model key."""
    try:
        info = Path(path).stat()
    except OSError:
        return "missing"
    return f"{info.st_mtime_ns}-{info.st_size}"


def is_control(key: str) -> bool:
    return parse_model_key(key)[1] == "random"


def timm_option(text: str) -> str:
    """What the user typed in "Any timm model" -> a model option: a zoo or built name as it is, else `timm:NAME`;
    "" if nothing was typed."""
    name = (text or "").strip().removeprefix(TIMM).strip()
    if not name:
        return ""
    return name if name in ZOO or name in BUILT else TIMM + name
