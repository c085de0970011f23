"""Model keys: a model and its weights choice as one typed, hashable value that names and caches everything."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from dashboard.safety.roots import REFUSED, resolve_allowed
from se_models.errors import PathNotAllowed
from se_models.models.zoo import BUILT, ZOO

CONTROL = ":control"  # picker option / URL suffix: the same architecture with random (untrained) weights
FILE = ":file:"       # URL infix of a key with a local weights file, `name:file:<path>` (re-checked when read)
TIMM = "timm:"        # any timm model by name

WEIGHTS = {"pretrained": "pretrained (downloads once, then cached)", "upload": "upload a file",
           "file": "file on this server", "random": "random (untrained control)"}  # a zoo / timm model's (URL)

# what the timm-name box accepts: a registered architecture name, optionally with its pretrained tag. No `hf-hub:`
# or `local-dir:` scheme (they reach the network or the disk), no path separators, nothing that is not ASCII.
TIMM_NAME = re.compile(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)?")
NAME_MAX = 100
STAMP = re.compile(r"\d+-\d+|missing")  # `<mtime_ns>-<size>` in the old string keys


class BadModelName(ValueError):
    """What was typed in the timm-name box is not a plain timm model name (the app shows why)."""


@dataclass(frozen=True)
class ModelKey:
    """A model and its weights. Build it with `own`, `control` or `local` (which checks the path), or from URL text
    with `from_text` (which checks it again); never from a string that carries an unchecked path."""
    name: str               # bundled name, ImageNet zoo name, or `timm:NAME`
    weights: str = "own"    # "own" (shipped, or timm's pretrained download) | "random" (untrained) | "file"
    path: str = ""          # weights == "file": the real path, resolved inside the allowed roots when the key was made
    stamp: str = ""         # weights == "file": `<mtime_ns>-<size>`, so a rewritten file is loaded afresh

    @classmethod
    def own(cls, name: str) -> ModelKey:
        return cls(name)

    @classmethod
    def control(cls, name: str) -> ModelKey:
        return cls(name, "random")

    @classmethod
    def local(cls, name: str, typed: str | Path, roots: tuple[Path, ...]) -> ModelKey:
        """A weights file for `name`: resolved (symlinks followed) inside `roots`, a regular file; PathNotAllowed
        otherwise, with the one refusal for anything outside the roots whether it exists or not."""
        real = resolve_allowed(typed, roots)
        try:
            info = real.stat()
        except OSError as err:  # gone, too long a name, unreadable: said without the path
            raise PathNotAllowed("No file at this path (inside the allowed folders).") from err
        if not real.is_file():  # a folder, a FIFO, a device: never opened
            raise PathNotAllowed("No file at this path (inside the allowed folders).")
        return cls(name, "file", str(real), f"{info.st_mtime_ns}-{info.st_size}")

    @classmethod
    def from_text(cls, text: str, roots: tuple[Path, ...]) -> ModelKey:
        """URL text -> a key: `name`, `name:control`, or `name:file:<path>` with the path checked against the roots
        now (PathNotAllowed, the one refusal, outside them)."""
        if FILE in text:
            name, path = text.split(FILE, 1)
            stamp, _, tail = path.partition(":")  # the old string keys carried `<stamp>:<path>`
            if not os.path.isabs(path) and os.path.isabs(tail) and STAMP.fullmatch(stamp):
                path = tail
            if not (os.path.isabs(path) or path.startswith("~")):  # relative to the server's folder: meaningless
                raise PathNotAllowed(REFUSED)
            return cls.local(name, path, roots)
        return cls.from_option(text)

    @classmethod
    def from_option(cls, option: str) -> ModelKey:
        """A picker option (`name` or `name:control`) -> its key; an option never carries a path."""
        if FILE in option:
            raise PathNotAllowed("A model option names no weights file.")
        return cls.control(option[: -len(CONTROL)]) if option.endswith(CONTROL) else cls.own(option)

    @property
    def is_control(self) -> bool:
        return self.weights == "random"

    @property
    def load_weights(self) -> str | None:
        """What se_models.load_model takes: None (its own weights), "random", or the checked path."""
        return {"own": None, "random": "random"}.get(self.weights, self.path)

    @property
    def option(self) -> str:
        """The picker option of this model: `name` or `name:control` (a file key's model is its name)."""
        return self.name + CONTROL if self.is_control else self.name

    def __str__(self) -> str:
        """How the key is shown and exported: never the server path, only the file's name."""
        if self.weights == "file":
            return f"{self.name}{FILE}{Path(self.path).name}"
        return self.option


def model_options(names: list[str]) -> list[str]:
    """Every bundled model, each followed by its untrained control."""
    return [key for n in names for key in (n, n + CONTROL)]


def is_control(option: str) -> bool:
    return option.endswith(CONTROL)


def timm_option(text: str) -> str:
    """What the user typed in "Any timm model" -> a model option: a zoo or built name as it is, else `timm:NAME`; "" if
    nothing was typed. BadModelName for anything but a plain model name (paths, hub names, keys, long text)."""
    name = (text or "").strip().removeprefix(TIMM).strip()
    if not name:
        return ""
    if len(name) > NAME_MAX or not name.isascii() or not TIMM_NAME.fullmatch(name):
        raise BadModelName("Type a timm model name only, e.g. regnety_002 or seresnet50.a1_in1k (letters, digits "
                           "and _, with an optional .tag): no paths, hub names or weights.")
    return name if name in ZOO or name in BUILT else TIMM + name
