"""Browser uploads kept for one session: a weights file and a zip of class folders, in a temporary folder that goes
with the session; typed server paths are offered beside them only where the allowed roots permit."""
from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from dashboard.safety import access
from se_models import config
from se_models.data.archive import extract_image_folder
from se_models.errors import DatasetError

MB = 1024 ** 2
# Streamlit's server.maxUploadSize (config.toml) is global and must fit the largest, the weights; the browser
# enforces each widget's max_upload_size, the code below enforces it again against a client that skips the check
WEIGHTS_MB = config.UPLOAD_WEIGHTS_MB
ZIP_MB = config.UPLOAD_ZIP_MB
IMAGE_MB = config.UPLOAD_IMAGE_MB
WEIGHT_TYPES = ["safetensors", "pt", "pth", "bin"]
SESSION_DIR = "_upload_dir"


def session_dir() -> Path:
    """This session's own temporary folder. The TemporaryDirectory object lives in Session State, so its finalizer
    deletes the folder when Streamlit drops the session (a closed tab is kept server.disconnectedSessionTTL, 120 s,
    for a reconnect), and at the latest when the server exits. Streamlit has no session-end callback to use."""
    holder = st.session_state.get(SESSION_DIR)
    if holder is None or not Path(holder.name).is_dir():
        holder = st.session_state[SESSION_DIR] = tempfile.TemporaryDirectory(prefix="se-explorer-")
    return Path(holder.name)


def safe_name(name: str) -> str:
    """An uploaded file's name as one harmless path component (the browser sends any string)."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name.replace("\\", "/")).name).lstrip(".")
    return stem[:100] or "upload"


def too_big(upload, limit_mb: int, what: str) -> bool:
    """Show one error and return True when an upload is over its cap (the server's own cap is the weights')."""
    if upload.size > limit_mb * MB:
        st.error(f"{upload.name} is {upload.size / MB:.0f} MB: {what} may be at most {limit_mb} MB.",
                 icon=":material/block:")
        return True
    return False


def weights(name: str) -> tuple[str, str]:
    """The weights-file uploader: (path of this session's copy, or "", the name the user knows it by)."""
    upload = st.file_uploader("Weights file", type=WEIGHT_TYPES, key="weights_upload", max_upload_size=WEIGHTS_MB,
                              help=f"A safetensors or weights-only torch file for {name}, at most {WEIGHTS_MB} MB "
                                   "(enough for SE-ResNet-50); it is checked against the architecture and "
                                   "stays on the server only while this browser tab is open.")
    if upload is None or too_big(upload, WEIGHTS_MB, "a weights file"):
        return "", ""
    folder = session_dir() / "weights"
    target = folder / safe_name(upload.file_id) / safe_name(upload.name)
    if not target.exists():  # one weights file per session: a new upload replaces the last
        shutil.rmtree(folder, ignore_errors=True)
        target.parent.mkdir(parents=True)
        target.write_bytes(upload.getvalue())
    return str(target), upload.name


@dataclass
class Folder:
    """The images the Classes view reads: a checked server folder, or this session's extracted zip."""
    path: str = ""                        # "" = nothing usable yet
    label: str = ""                       # how the user knows it: the typed path or the zip's name
    skipped: list[str] = field(default_factory=list)  # images of the zip that did not decode

    def known(self) -> dict[str, str]:
        """Where the path appears in a message, show the label (an upload's folder is the server's business)."""
        return {self.path: self.label} if self.path else {}


def _extract(upload) -> Folder:
    """Unpack a zip once per upload (Session State remembers which), into a folder of this session named by the
    zip's content: the folder's path keys the cached statistics, so another zip must never reuse it (it did, and a
    second zip showed the first one's classes). The previous zip's folder is removed."""
    seen = st.session_state.get("_zip_extracted")
    if seen and seen[0] == upload.file_id and Path(seen[1]).is_dir():
        return Folder(seen[1], upload.name, seen[2])
    data = upload.getvalue()
    zips = session_dir() / "zips"
    shutil.rmtree(zips, ignore_errors=True)
    with st.spinner(f"Unpacking {upload.name}…"):
        path, skipped = extract_image_folder(data, zips / hashlib.sha256(data).hexdigest()[:16])
    skipped = [access.scrub(s) for s in skipped]
    st.session_state["_zip_extracted"] = (upload.file_id, str(path), skipped)
    return Folder(str(path), upload.name, skipped)


def folder() -> Folder:
    """A typed folder (where the roots allow one) or an uploaded zip of class folders; errors shown here."""
    typed = ""
    if access.server_paths_allowed():
        typed = st.text_input("Folder on this server", key="folder", placeholder="/path/to/DIR",
                              persist_state="session",
                              help="DIR/<class>/<image>, e.g. ImageNet validation images sorted into one folder per "
                                   "class; only inside the folders this server allows.").strip()
    upload = st.file_uploader("Zip of class folders" if not typed else "… or a zip of class folders", type=["zip"],
                              key="folder_zip", max_upload_size=ZIP_MB,
                              help=f"A zip holding <class>/<image> (PNG, JPEG, WebP, BMP, TIFF), at most {ZIP_MB} MB; "
                                   "unpacked for this browser tab only.")
    if upload is not None and not too_big(upload, ZIP_MB, "a zip"):
        try:
            return _extract(upload)
        except DatasetError as err:
            st.error(f"{upload.name}: {access.scrub(str(err))}", icon=":material/folder_zip:")
            return Folder()
    if typed:
        try:
            return Folder(str(access.checked(typed, "folder")), typed)
        except access.PathNotAllowed as err:
            st.error(str(err), icon=":material/block:")
    return Folder()
