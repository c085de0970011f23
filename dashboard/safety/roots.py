"""Allowed roots: which server paths a browser user may name; the app enforces them, the CLI never restricts."""
from __future__ import annotations

import os
from pathlib import Path

from se_models import config
from se_models.config import PROJECT
from se_models.errors import PathNotAllowed

ENV = config.ENV_ROOTS  # os.pathsep-separated folders; set but empty = no server paths at all (uploads only)
LOCAL_ADDRESSES = ("localhost", "127.0.0.1", "::1")
REFUSED = ("This path is outside the folders this server allows: upload the file (or a zip of images) instead, or "
           f"ask whoever runs the app to allow its folder ({ENV}).")


def is_local(address: str | None) -> bool:
    """Whether Streamlit listens on this machine only. Unset is NOT local: Streamlit then binds every interface."""
    address = (address or "").strip().strip("[]").lower()
    return address in LOCAL_ADDRESSES or address.startswith("127.")


def allowed_roots(address: str | None, environ=None) -> tuple[Path, ...]:
    """The operator's roots: SE_EXPLORER_ROOTS when set, else home and project folder on localhost, else none."""
    environ = os.environ if environ is None else environ
    if ENV in environ:
        parts = [p.strip() for p in environ[ENV].split(os.pathsep) if p.strip()]
        roots = [Path(p).expanduser() for p in parts]
    else:
        roots = [Path.home(), PROJECT] if is_local(address) else []
    out = []
    for root in roots:
        try:
            out.append(root.resolve(strict=True))
        except (OSError, RuntimeError):  # a root that does not exist (or loops) allows nothing
            continue
    return tuple(dict.fromkeys(out))


def _inside(path: Path, roots: tuple[Path, ...]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def resolve_allowed(typed: str | Path, roots: tuple[Path, ...]) -> Path:
    """A path typed by a user -> its real location (symlinks followed), or PathNotAllowed.

    The refusal is one fixed message that names nothing and says the same whether the path exists or not; nothing
    outside the roots is stat'ed before the lexical check, so the answer reveals nothing about what lies there."""
    text = str(typed).strip()
    if not text or "\x00" in text or not roots:
        raise PathNotAllowed(REFUSED)
    lexical = Path(os.path.abspath(os.path.expanduser(text)))  # ".." removed without touching the disk
    if not _inside(lexical, roots):
        raise PathNotAllowed(REFUSED)
    try:
        real = lexical.resolve(strict=False)  # follows every symlink that exists
    except (OSError, RuntimeError) as err:  # RuntimeError: a symlink loop (Python < 3.13)
        raise PathNotAllowed("This path cannot be resolved (a symbolic-link loop?).") from err
    if not _inside(real, roots):  # a symlink inside a root that points outside it
        raise PathNotAllowed(REFUSED)
    return real
