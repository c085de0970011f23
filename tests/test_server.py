"""The classroom server, round 2: typed model keys inside the roots, memory and work budgets, files that are not
regular, hostile URL values, one-line errors, and no server path on screen."""
from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard.safety import roots as paths
from tests.conftest import pattern, png_bytes
from tests.test_classroom import zip_bytes

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
ROOT = str(Path(__file__).resolve().parent.parent)
FASHION = "se_resnet20_fashion_mnist"


def app(monkeypatch, roots: str | None, **params) -> AppTest:
    if roots is None:
        monkeypatch.delenv(paths.ENV, raising=False)
    else:
        monkeypatch.setenv(paths.ENV, roots)
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def messages(at: AppTest) -> list[str]:
    return [e.value for e in (*at.error, *at.warning, *at.exception)]


def curve_classes(at: AppTest) -> set[str]:
    curves = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                  if "per channel and class" in json.loads(c.proto.spec)["layout"]["title"]["text"])
    return {t.get("name") for t in curves["data"]}


def class_zip(*classes: str) -> bytes:
    kinds = ("circle", "stripes", "square")
    return zip_bytes({f"{cls}/{i}.png": png_bytes(pattern(kinds[k % 3], size=28, seed=i))
                      for k, cls in enumerate(classes) for i in range(3)})


# ---- #24: a second zip is its own data --------------------------------------------------------------------------
def test_a_second_uploaded_zip_shows_its_own_statistics(monkeypatch):
    """Every zip unpacked into the same session folder, whose path keyed the cached statistics: the second zip
    showed the first one's classes."""
    at = app(monkeypatch, "", view="classes", model=FASHION, source="folder", per_class="3", live_control="off")
    at.file_uploader(key="folder_zip").set_value([("first.zip", class_zip("Bag", "Trouser"), "application/zip")]).run()
    assert not at.exception and not at.error, messages(at)
    assert curve_classes(at) == {"Bag", "Trouser", "all"}
    at.file_uploader(key="folder_zip").set_value([("second.zip", class_zip("Coat", "Dress"), "application/zip")]).run()
    assert not at.exception and not at.error, messages(at)
    assert curve_classes(at) == {"Coat", "Dress", "all"}
    assert any(c.value.startswith("Data: second.zip") for c in at.caption)
