"""What a browser may reach on the server: typed paths checked against the allowed roots, messages without paths."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

import streamlit as st

from dashboard.safety.roots import allowed_roots, resolve_allowed
from se_models.config import PROJECT
from se_models.errors import PathNotAllowed

UNUSABLE = "This path cannot be used here (a name too long, or not readable)."

__all__ = ["PathNotAllowed", "roots", "server_paths_allowed", "checked", "scrub"]


def roots() -> tuple[Path, ...]:
    """The allowed roots for this server: SE_EXPLORER_ROOTS, else home + project on localhost, else none."""
    return allowed_roots(st.get_option("server.address"))


def server_paths_allowed() -> bool:
    """False when the server allows no folder at all: the app then offers uploads only."""
    return bool(roots())


def checked(typed: str, want: str) -> Path:
    """A typed path, resolved inside the allowed roots, that is a `file` or a `folder`; PathNotAllowed otherwise.

    Only paths inside the roots get a "not found" answer: outside, the refusal is the same whether it exists. Any
    other OSError on the way (a name too long, no permission) is one more clean refusal, never a traceback."""
    real = resolve_allowed(typed, roots())
    try:
        is_folder, is_file = real.is_dir(), real.is_file()
    except OSError as err:  # ENAMETOOLONG, EACCES, ...: Path.is_dir only swallows "not found"
        raise PathNotAllowed(UNUSABLE) from err
    if want == "folder" and not is_folder:
        raise PathNotAllowed("No folder at this path (inside the allowed folders). Expected DIR/<class>/<image>.")
    if want == "file" and not is_file:
        raise PathNotAllowed("No file at this path (inside the allowed folders).")
    return real


# an absolute path of two or more components that starts a word (not inside a URL, a relative path or "DIR/<class>")
ABSOLUTE = re.compile(r"(?<![\w.:~>/\\\0-])/(?:[^\s/'\"`<>|:;,()\[\]]+/)+[^\s/'\"`<>|:;,()\[\]]*")


def scrub(text: str, known: dict[str, str] | None = None) -> str:
    """A message for the browser: the given paths replaced by what the user knows them as (an upload's name), the
    app's own folders (project, temp, home) shortened, and any other absolute path cut to its last name, so no
    message shows where the server keeps things.

    One pass over the text, longest path first and only where a path starts (not inside another word or path):
    replacing one folder's text after another would rewrite the output of the first (`/tmp/x/root/a` -> `<temp>/x~/a`
    once the home folder /root is replaced too)."""
    names = {path: name for path, name in ((str(PROJECT), "<app>"), (str(Path(tempfile.gettempdir()).resolve()),
                                                                     "<temp>"), (tempfile.gettempdir(), "<temp>"),
                                           (str(Path.home()), "~")) if len(path) > 1}
    names.update({str(p): name for p, name in (known or {}).items() if p and len(str(p)) > 1})  # the user's win
    tokens: list[str] = []

    def token(name: str) -> str:  # the user's own names are kept out of the last step's reach
        tokens.append(name)
        return f"\0{len(tokens) - 1}\0"

    if names:
        paths = "|".join(re.escape(p) for p in sorted(names, key=len, reverse=True))
        text = re.sub(rf"(?<![\w.~-])(?:{paths})(?![\w.~-])", lambda m: token(names[m.group(0)]), text)
    text = ABSOLUTE.sub(lambda m: "…/" + m.group(0).rstrip("/").rsplit("/", 1)[-1], text)
    return re.sub(r"\0(\d+)\0", lambda m: tokens[int(m.group(1))], text)
