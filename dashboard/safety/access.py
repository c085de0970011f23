"""What a browser may reach on the server: typed paths checked against the allowed roots, messages without paths."""
from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from dashboard.safety.roots import allowed_roots, resolve_allowed
from se_models.config import PROJECT
from se_models.errors import PathNotAllowed

__all__ = ["PathNotAllowed", "roots", "server_paths_allowed", "checked", "scrub"]


def roots() -> tuple[Path, ...]:
    """The allowed roots for this server: SE_EXPLORER_ROOTS, else home + project on localhost, else none."""
    return allowed_roots(st.get_option("server.address"))


def server_paths_allowed() -> bool:
    """False when the server allows no folder at all: the app then offers uploads only."""
    return bool(roots())


def checked(typed: str, want: str) -> Path:
    """A typed path, resolved inside the allowed roots, that is a `file` or a `folder`; PathNotAllowed otherwise.

    Only paths inside the roots get a "not found" answer: outside, the refusal is the same whether it exists."""
    real = resolve_allowed(typed, roots())
    if want == "folder" and not real.is_dir():
        raise PathNotAllowed("No folder at this path (inside the allowed folders). Expected DIR/<class>/<image>.")
    if want == "file" and not real.is_file():
        raise PathNotAllowed("No file at this path (inside the allowed folders).")
    return real


def scrub(text: str, known: dict[str, str] | None = None) -> str:
    """A message for the browser: the given paths replaced by what the user knows them as (an upload's name), then
    the app's own folders (project, temp, home) shortened, so no message shows where the server keeps things."""
    known = {str(p): name for p, name in (known or {}).items() if p}
    tokens = {}
    for i, path in enumerate(sorted(known, key=len, reverse=True)):  # longest first: a folder before its parent
        tokens[f"\0{i}\0"] = known[path]
        text = text.replace(path, f"\0{i}\0")
    for path, name in ((str(PROJECT), "<app>"), (str(Path(tempfile.gettempdir()).resolve()), "<temp>"),
                       (tempfile.gettempdir(), "<temp>"), (str(Path.home()), "~")):
        if len(path) > 1:
            text = text.replace(path, name)
    for token, name in tokens.items():  # the user's own names last: what they typed is shown as typed
        text = text.replace(token, name)
    return text
