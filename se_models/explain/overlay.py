"""Drawing maps: a [0, 1] heatmap blended over the image as the model saw it, its colours, sizes and scaling."""
from __future__ import annotations

import functools

import numpy as np
import torch
from PIL import Image

from se_models.errors import ImageError


def normalize_cam(cam: torch.Tensor) -> torch.Tensor:
    """Maps (B, H, W) >= 0, each scaled so its maximum is 1 (all-zero maps stay 0)."""
    top = cam.flatten(1).amax(1).clamp_min(1e-12)[:, None, None]
    return (cam / top).clamp(0, 1)


def square_crop(image: Image.Image) -> Image.Image:
    """The centre square of a photo, for thumbnails (what a model saw is LoadedModel.model_view: timm's ImageNet
    models crop 224 px out of 224 / crop_pct, a smaller square)."""
    w, h = image.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    return image.crop((left, top, left + side, top + side))


def enlarge(view: Image.Image, size: int) -> Image.Image:
    """The model's view enlarged smoothly to size x size RGB: the base of every overlay at that size (compute it once
    when several maps go on one image)."""
    return view.convert("RGB").resize((size, size), Image.BICUBIC)


def overlay_size(view: Image.Image, shown: int) -> int:
    """How many pixels to draw an overlay shown `shown` px wide with: at most 4 per pixel of the model's view. A 32 px
    view holds no more detail at 240 px than at 128, and the browser does the last smooth enlarging, so the server
    blends and encodes a quarter of the pixels; a 224 px view is drawn at the size shown."""
    return min(shown, 4 * max(view.size))


def overlay(view: Image.Image, cam: torch.Tensor | np.ndarray, alpha: float = 0.5, size: int = 256,
            cmap: str = "jet", base: Image.Image | None = None) -> Image.Image:
    """Blend a [0, 1] heatmap (H, W) over `view`, the image as the model saw it (`LoadedModel.model_view`: its own
    resize and centre crop), both enlarged smoothly to `size` px; `base` = enlarge(view, size) when already made.

    The map is computed on the model's input, so it lines up only with that view: a larger square of the photo
    (timm's ImageNet models crop 224 of 224 / crop_pct) would stretch it past what the network saw."""
    heat = np.asarray(cam, dtype=np.float32)
    if view.size != heat.shape[::-1]:
        raise ImageError(f"the heatmap is {heat.shape[1]}x{heat.shape[0]} but the image is {view.size[0]}x"
                         f"{view.size[1]}: pass the model's view of the image (LoadedModel.model_view)")
    if base is None or base.size != (size, size):
        base = enlarge(view, size)
    heat = Image.fromarray((heat * 255).astype(np.uint8)).resize((size, size), Image.BILINEAR)
    # the colormap as a PIL palette: the lookup runs in C, much faster than indexing a numpy table per pixel
    heat.putpalette(colormap_table(cmap).tobytes())
    return Image.blend(base, heat.convert("RGB"), alpha)


def colours(cmap: str = "jet", n: int = 11) -> list[str]:
    """n evenly spaced colours of the heatmap's colormap, from no evidence to the map's maximum, as #rrggbb."""
    table = colormap_table(cmap)
    return ["#{:02x}{:02x}{:02x}".format(*table[round(i * 255 / (n - 1))]) for i in range(n)]


# matplotlib's "jet" as its own segment data (matplotlib/_cm.py): channel -> (level, value) points joined by straight
# lines. The app draws every map in jet, and importing matplotlib for one 256-colour table would cost its cold start
# a few tenths of a second; tests/test_cam.py checks this table against matplotlib's, colour for colour.
JET = {"red": ((0.0, 0.0), (0.35, 0.0), (0.66, 1.0), (0.89, 1.0), (1.0, 0.5)),
       "green": ((0.0, 0.0), (0.125, 0.0), (0.375, 1.0), (0.64, 1.0), (0.91, 0.0), (1.0, 0.0)),
       "blue": ((0.0, 0.5), (0.11, 1.0), (0.34, 1.0), (0.65, 0.0), (1.0, 0.0))}


@functools.lru_cache(maxsize=8)
def colormap_table(cmap: str) -> np.ndarray:
    """(256, 3) uint8 colours of a matplotlib colormap, the colour of level i in row i (a table is much faster to look
    up than calling the map); "jet" without importing matplotlib."""
    levels = np.linspace(0, 1, 256)
    if cmap == "jet":
        rgb = np.stack([np.interp(levels, *zip(*JET[c])) for c in ("red", "green", "blue")], axis=1)
    else:
        from matplotlib import colormaps  # any other map: only on request

        rgb = colormaps[cmap](levels)[:, :3]
    return (rgb * 255).astype(np.uint8)
