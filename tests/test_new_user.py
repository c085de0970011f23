"""What a new user ran into, each fixed: per-view sidebar, Compare following the sidebar, empty block choice."""
from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

import se_models
from dashboard import logic

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
DEFAULT = se_models.DEFAULT_MODEL


def run(**params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def titles(at: AppTest) -> list[str]:
    return [(json.loads(c.proto.spec)["layout"].get("title") or {}).get("text", "") for c in at.get("plotly_chart")]


def sidebar_keys(at: AppTest) -> set[str]:
    return {w.key for kind in ("multiselect", "selectbox", "toggle", "file_uploader") for w in getattr(at.sidebar, kind)
            if getattr(w, "key", None)}


def test_the_sidebar_shows_images_and_grad_cam_target_only_where_they_are_used():
    on_image = sidebar_keys(run(view="image"))
    assert {"photos", "uploads", "camera_on", "target"} <= on_image
    for view in ("classes", "compare"):
        keys = sidebar_keys(run(view=view))
        assert "model" in keys and not {"photos", "uploads", "camera_on", "target"} & keys, (view, keys)


def test_a_new_sidebar_model_becomes_model_a_on_compare():
    at = run(view="compare")
    assert at.selectbox(key="cmp_a").value == DEFAULT
    at.selectbox(key="model").select(DEFAULT + logic.CONTROL).run()
    assert not at.exception
    assert at.selectbox(key="cmp_a").value == DEFAULT + logic.CONTROL


def test_a_shared_model_a_is_not_overridden_by_the_sidebar_on_first_paint():
    at = run(view="compare", cmp_a=DEFAULT + logic.CONTROL)
    assert at.selectbox(key="cmp_a").value == DEFAULT + logic.CONTROL


def test_clearing_every_se_block_draws_no_class_curves_and_says_why():
    at = run(view="classes")
    assert any("per channel and class" in t for t in titles(at))
    at.multiselect(key="blocks").set_value([]).run()
    assert not at.exception
    assert not any("per channel and class" in t for t in titles(at))
    assert any("No SE block chosen" in i.value for i in at.info)
