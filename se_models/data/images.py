"""Loading user images: validated RGB PIL images, or an ImageError that names the file and the reason."""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from se_models import config
from se_models.errors import ImageError

__all__ = ["ImageError", "load_image"]  # ImageError stays importable from here



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


def load_image(source: str | Path | bytes, name: str | None = None) -> Image.Image:
    """Open a path or raw bytes as an RGB image with EXIF orientation applied.

    Raises ImageError for empty, oversized, truncated or non-image input, and decompression bombs."""
    label = name or (str(source) if isinstance(source, (str, Path)) else "uploaded image")
    try:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
    except OSError as err:
        raise ImageError(f"{label}: cannot read file ({err.strerror or err})") from err
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
            img.load()  # decode now, so truncation is caught here and not later
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
