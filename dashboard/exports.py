"""Downloads: figures as HTML / PNG, images as PNG, rows as CSV, and safe file names."""
from __future__ import annotations

import io

from PIL import Image, ImageDraw

from se_models.stats.excitation import csv_text as to_csv  # one CSV writer for statistics and the views' tables

__all__ = ["figure_html", "figure_png", "image_png", "message_png", "slug", "to_csv"]


def figure_html(fig) -> str:
    """A self-contained HTML file (plotly.js inlined, so it opens offline)."""
    return fig.to_html(include_plotlyjs=True, full_html=True)


def figure_png(fig, scale: float = 2.0) -> bytes:
    """PNG through kaleido (needs Chromium); on failure a PNG that says so instead of a traceback."""
    try:
        return fig.to_image(format="png", scale=scale)
    except Exception as err:  # noqa: BLE001 - any kaleido/Chromium failure becomes a readable image
        return message_png(f"PNG export failed ({type(err).__name__}).\n"
                           "Use the HTML download, or the camera icon above the chart.")


def message_png(text: str) -> bytes:
    img = Image.new("RGB", (640, 120), "white")
    ImageDraw.Draw(img).multiline_text((16, 24), text, fill=(170, 0, 0), spacing=8)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def image_png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def image_jpeg(image: Image.Image, quality: int = 90) -> bytes:
    """A photo as JPEG: smaller than a PNG and faster to encode."""
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_").lower()[:60] or "figure"
