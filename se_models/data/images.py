"""Loading user images: validated RGB PIL images, or an ImageError that names the file and the reason."""
from __future__ import annotations

import io
import math
import os
import stat
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from se_models import config
from se_models.errors import ImageError

__all__ = ["ImageError", "load_image", "read_image_file"]  # ImageError stays importable from here


def _to_rgb(img: Image.Image) -> Image.Image:
    """Any PIL mode -> RGB; 16- and 32-bit grayscale are scaled to 8 bits, not clipped."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") else max(float(arr.max()), 1.0)
        img = Image.fromarray(np.clip(arr / top * 255 + 0.5, 0, 255).astype(np.uint8))
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        # transparent pixels go on white, as a browser shows them
        rgba = img.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    return img.convert("RGB")


def read_image_file(path: str | Path, label: str) -> bytes:
    """A regular file's bytes, at most config.MAX_IMAGE_BYTES; ImageError otherwise.

    Opened without blocking and checked on the open file itself: a FIFO would make a plain open() wait for a writer
    for ever, and /dev/zero (or a link to it) never ends; a device, FIFO or socket is refused by name, unread. The
    size comes from fstat before reading, and the read stops one byte past the limit (a file may grow meanwhile)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:  # missing, no permission, a socket (ENXIO), a name too long
        raise ImageError(f"{label}: cannot read file ({err.strerror or err})") from err
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ImageError(f"{label}: not a regular file (a pipe, device or socket), skipped unread")
        if info.st_size > config.MAX_IMAGE_BYTES:
            raise ImageError(f"{label}: file is {info.st_size / 1024 ** 2:.0f} MB, over the "
                             f"{config.MAX_IMAGE_BYTES // 1024 ** 2} MB limit")
        try:
            data = f.read(config.MAX_IMAGE_BYTES + 1)
        except OSError as err:
            raise ImageError(f"{label}: cannot read file ({err.strerror or err})") from err
    if len(data) > config.MAX_IMAGE_BYTES:
        raise ImageError(f"{label}: file grew over the {config.MAX_IMAGE_BYTES // 1024 ** 2} MB limit while read")
    return data


def _shrink(img: Image.Image, side: int) -> Image.Image:
    """A decoded image whose shorter side is at least twice `side`, reduced by a whole factor (box filter) so that
    its shorter side stays >= side; and one of a stretched shape reduced until it holds at most (2 side)^2 pixels
    (a model and the app look at its centre square only). Others as they are."""
    width, height = img.size
    factor = max(min(width, height) // side, math.ceil(math.sqrt(width * height / (2 * side) ** 2)))
    if factor < 2:
        return img
    try:
        return img.reduce(factor)
    except ValueError:  # modes reduce() does not take (1, P): convert first
        return _to_rgb(img).reduce(factor)


def load_image(source: str | Path | bytes, name: str | None = None, shrink_to: int | None = None) -> Image.Image:
    """Open a path or raw bytes as an RGB image with EXIF orientation applied.

    shrink_to: a large image is reduced while decoding (JPEG: decoded at 1/2 .. 1/8 scale; others: reduced by a
    whole factor right after) so that its shorter side stays at least this many pixels: a 32 px model does not need
    a 36-megapixel decode held in memory. None keeps every pixel.
    Raises ImageError for empty, oversized, truncated or non-image input, non-regular files, and decompression
    bombs."""
    label = name or (str(source) if isinstance(source, (str, Path)) else "uploaded image")
    data = source if isinstance(source, bytes) else read_image_file(source, label)
    if not data:
        raise ImageError(f"{label}: the file is empty (0 bytes)")
    if len(data) > config.MAX_IMAGE_BYTES:
        raise ImageError(f"{label}: file is {len(data) / 1024 ** 2:.0f} MB, over the "
                         f"{config.MAX_IMAGE_BYTES // 1024 ** 2} MB limit")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if img.width * img.height > config.MAX_PIXELS:
                raise ImageError(f"{label}: {img.width}x{img.height} pixels is over the limit of "
                                 f"{config.MAX_PIXELS / 1e6:.0f} megapixels (possible decompression bomb)")
            if shrink_to:
                img.draft(None, (shrink_to, shrink_to))  # JPEG only: keeps both sides >= the size asked for
            img.load()  # decode now, so truncation is caught here and not later
            if shrink_to:
                img = _shrink(img, shrink_to)
            img = ImageOps.exif_transpose(img)
            return _to_rgb(img)
    except ImageError:
        raise
    except UnidentifiedImageError as err:
        raise ImageError(f"{label}: not an image, or a format Pillow cannot read") from err
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ImageError(f"{label}: too many pixels (possible decompression bomb): {err}") from err
    except (OSError, SyntaxError, ValueError) as err:
        raise ImageError(f"{label}: damaged or truncated image ({err})") from err
