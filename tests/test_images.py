"""load_image: conversions done right, and every kind of bad input named."""
import io

import numpy as np
import pytest
from PIL import Image

from se_models import ImageError, config, load_image
from tests.fakes import png_bytes


def test_missing_empty_text_truncated(tmp_path):
    with pytest.raises(ImageError, match="nothere.png: cannot read"):
        load_image(tmp_path / "nothere.png")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageError, match="empty.png: the file is empty"):
        load_image(tmp_path / "empty.png")
    (tmp_path / "notes.jpg").write_text("this is not an image")
    with pytest.raises(ImageError, match="notes.jpg: not an image"):
        load_image(tmp_path / "notes.jpg")
    full = png_bytes(Image.new("RGB", (64, 64), "red"), "JPEG")
    with pytest.raises(ImageError, match="cut.jpg: damaged or truncated"):
        load_image(full[: len(full) // 2], name="cut.jpg")


def test_decompression_bomb_and_oversized(monkeypatch):
    bomb = png_bytes(Image.new("1", (9000, 9000)))  # 81 Mpx in a few kB
    assert len(bomb) < 100_000
    with pytest.raises(ImageError, match="bomb.png: 9000x9000 pixels"):
        load_image(bomb, name="bomb.png")
    monkeypatch.setattr(config, "MAX_IMAGE_BYTES", 1000)
    with pytest.raises(ImageError, match="big.png: file is .* over the"):
        load_image(b"x" * 2000, name="big.png")


def test_modes_are_converted():
    gray = load_image(png_bytes(Image.new("L", (4, 4), 77)))
    assert gray.mode == "RGB" and gray.getpixel((0, 0)) == (77, 77, 77)
    pal = Image.new("P", (4, 4))
    pal.putpalette([10, 20, 30] * 256)
    assert load_image(png_bytes(pal)).getpixel((1, 1)) == (10, 20, 30)
    rgba = Image.new("RGBA", (4, 4), (255, 0, 0, 0))  # fully transparent red -> white background
    assert load_image(png_bytes(rgba)).getpixel((0, 0)) == (255, 255, 255)
    cmyk = load_image(png_bytes(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG"))
    r, g, b = cmyk.getpixel((2, 2))
    assert r > 200 and g < 60 and b < 60


def test_16bit_is_scaled_not_clipped():
    arr = np.array([[0, 32768, 65535, 1000]], dtype=np.uint16)
    img = load_image(png_bytes(Image.fromarray(arr)))
    assert [img.getpixel((i, 0))[0] for i in range(4)] == [0, 128, 255, 4]


def test_exif_orientation_applied():
    img = Image.new("RGB", (20, 10), "blue")
    img.paste((255, 0, 0), (0, 0, 5, 10))  # red strip on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    out = load_image(png_bytes(img, "JPEG", exif=exif.tobytes(), quality=95))
    assert out.size == (10, 20)
    r, g, b = out.getpixel((5, 1))  # the red strip is now on top
    assert r > 200 and b < 60


def test_accepts_bytes_and_names_them():
    buf = io.BytesIO()
    Image.new("RGB", (3, 3)).save(buf, "BMP")
    assert load_image(buf.getvalue()).size == (3, 3)
    with pytest.raises(ImageError, match="^upload.webp:"):
        load_image(b"garbage", name="upload.webp")
