"""The app's ablation pieces: the Image view's before/after panel, the Classes view's stored table and reading."""
from __future__ import annotations

import pytest

import se_models
from se_models.stats.stored import ablation_path
from tests.apphelp import app, assert_clean, titles

pytestmark = pytest.mark.slow  # each drives the whole app


def test_image_view_switches_se_off_and_back():
    at = app()
    assert_clean(at)
    assert "SE as trained" not in titles(at)  # opt-in: no extra pass on first paint
    at.toggle(key="abl_on").set_value(True).run()
    assert "SE as trained" in titles(at) and "SE off in stage 4" in titles(at)
    at.segmented_control(key="abl_scope").set_value("all").run()
    at.segmented_control(key="abl_mode").set_value("identity").run()
    assert_clean(at)
    assert "SE off in all blocks" in titles(at)
    assert any("Prediction" in c.value and "s = 1" in c.value for c in at.caption)


def test_the_panel_names_the_layer_its_maps_show_whatever_the_grad_cam_part_above_shows():
    """The Grad-CAM layer and opacity above live in fragments whose reruns do not reach this panel: its maps and
    caption follow its own layer box, so nothing on screen names a layer its map does not show."""
    at = app()
    at.toggle(key="abl_on").set_value(True).run()

    def panel():  # (the panel's images, its caption)
        shown = [str(i.proto) for i in at.get("image")
                 if "SE as trained" in str(i.proto) or "SE off" in str(i.proto)]
        return shown, next(c.value for c in at.caption if c.value.startswith("Grad-CAM at "))

    maps, caption = panel()
    assert caption.startswith("Grad-CAM at SE_4_3,")
    at.selectbox(key="cam_layer").select("SE_2_3").run()
    at.slider(key="alpha").set_value(0.9).run()
    assert panel() == (maps, caption)  # the main map's controls above do not move the panel
    at.selectbox(key="abl_layer").select("SE_2_3").run()
    after_maps, after_caption = panel()
    assert after_caption.startswith("Grad-CAM at SE_2_3,") and after_maps != maps
    assert_clean(at)


def test_classes_view_shows_the_stored_ablation_with_its_reading():
    assert ablation_path(se_models.DEFAULT_MODEL).exists()  # shipped beside the reference statistics
    at = app(view="classes")
    assert_clean(at)
    assert any(t.startswith("Top-1 change when SE is switched off") for t in titles(at)), titles(at)
    assert any("mean gate" in i.value for i in at.info)


def test_about_view_teaches_the_three_modes():
    at = app(view="about")
    assert_clean(at)
    text = " ".join(m.value for m in at.markdown)
    assert all(w in text for w in ("s = 1 (identity)", "Mean gate (mean)", "Another image's gates (shuffle)"))
