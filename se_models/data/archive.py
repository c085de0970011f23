"""Safe extraction of an uploaded zip of `class/image` folders: no escape, bounded size and count, images only."""
from __future__ import annotations

import io
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from se_models import config
from se_models.data.images import ImageError, load_image
from se_models.errors import DatasetError

CHUNK = 1024 * 1024


def _member_path(info: zipfile.ZipInfo) -> PurePosixPath | None:
    """A member's relative path, or None for an entry to skip (folders, macOS metadata); DatasetError for one
    that would land outside the extraction folder (absolute, `..`, drive letters) or is a symlink."""
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
        raise DatasetError("the zip holds an entry with an absolute path or '..': refused, nothing was extracted")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise DatasetError("the zip holds a symbolic link: refused, nothing was extracted")
    if info.is_dir() or not parts or parts[0] == "__MACOSX" or parts[-1].startswith("."):
        return None
    return PurePosixPath(*parts)


def _images(zf: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """Check every entry before anything is written: paths, links, counts and the sizes the zip declares."""
    members, total = [], 0
    for info in zf.infolist():
        rel = _member_path(info)
        if rel is None or rel.suffix.lower() not in config.IMAGE_EXTENSIONS:
            continue
        members.append((info, rel))
        total += info.file_size
        if len(members) > config.MAX_ZIP_FILES:
            raise DatasetError(f"the zip holds more than {config.MAX_ZIP_FILES} images: use fewer images per class")
        if info.file_size > config.MAX_ZIP_FILE_BYTES:
            raise DatasetError(f"an image in the zip is over {config.MAX_ZIP_FILE_BYTES // 1024 ** 2} MB uncompressed")
        if total > config.MAX_ZIP_TOTAL_BYTES:
            raise DatasetError(f"the zip is over {config.MAX_ZIP_TOTAL_BYTES // 1024 ** 2} MB uncompressed")
    if not members:
        raise DatasetError("the zip holds no images (.png, .jpg, .webp, .bmp, .tif); expected <class>/<image>")
    return members


def _strip_common_top(rels: list[PurePosixPath]) -> list[PurePosixPath]:
    """`data/cat/1.png, data/dog/2.png` -> `cat/1.png, dog/2.png`: a zip of a folder holds that folder."""
    while all(len(r.parts) > 2 for r in rels) and len({r.parts[0] for r in rels}) == 1:
        rels = [PurePosixPath(*r.parts[1:]) for r in rels]
    return rels


def extract_image_folder(data: bytes, dest: str | Path) -> tuple[Path, list[str]]:
    """Unpack zip bytes into dest/ as <class>/<image>; returns (dest, skipped) where skipped names each image that
    did not decode (se_models.images.load_image, the same check as everywhere). DatasetError, and dest emptied,
    when the zip is unsafe, too large, not a zip, or yields fewer than two classes with a readable image.

    Hand-written rather than ZipFile.extractall / shutil.unpack_archive: those sanitise `..` names silently and have
    no policy on size, count or links. Every entry is checked here before anything is written, and the bytes are
    counted again while read (zipfile stops at the size an entry declares; the count is a second line)."""
    dest = Path(dest)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise DatasetError("not a readable zip file") from err
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    try:
        with zf:
            members = _images(zf)
            rels = _strip_common_top([rel for _, rel in members])
            skipped, written, root = [], 0, dest.resolve()
            for (info, _), rel in zip(members, rels):
                if len(rel.parts) != 2:
                    skipped.append(f"{rel}: not in a class folder (expected <class>/<image>)")
                    continue
                target = (dest / rel).resolve()
                if not target.is_relative_to(root):  # belt and braces after _member_path
                    raise DatasetError("the zip holds an entry outside its folder: refused")
                buf = bytearray()
                with zf.open(info) as src:
                    while chunk := src.read(CHUNK):
                        buf += chunk
                        written += len(chunk)
                        if len(buf) > config.MAX_ZIP_FILE_BYTES or written > config.MAX_ZIP_TOTAL_BYTES:
                            raise DatasetError("the zip inflates to more than it declares: refused")
                try:
                    load_image(bytes(buf), name=str(rel))
                except ImageError as err:
                    skipped.append(str(err))
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(buf)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as err:
        shutil.rmtree(dest, ignore_errors=True)
        raise DatasetError(f"the zip could not be read ({type(err).__name__})") from err
    except DatasetError:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    classes = [d for d in dest.iterdir() if d.is_dir() and any(d.iterdir())]
    if len(classes) < 2:
        shutil.rmtree(dest, ignore_errors=True)
        raise DatasetError(f"the zip has {len(classes)} class folder(s) with a readable image; class statistics need "
                           "at least two (<class>/<image>)")
    return dest, skipped
