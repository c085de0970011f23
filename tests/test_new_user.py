"""What a new user ran into, each fixed: per-view sidebar, Compare following the sidebar, empty block choice."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

import se_models
from dashboard.state import imageitems, modelkeys
from se_models.models.registry import load_card
from tests.apphelp import app as run
from tests.apphelp import titles

DEFAULT = se_models.DEFAULT_MODEL


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
    at.selectbox(key="model").select(DEFAULT + modelkeys.CONTROL).run()
    assert not at.exception
    assert at.selectbox(key="cmp_a").value == DEFAULT + modelkeys.CONTROL


def test_a_shared_model_a_is_not_overridden_by_the_sidebar_on_first_paint():
    at = run(view="compare", cmp_a=DEFAULT + modelkeys.CONTROL)
    assert at.selectbox(key="cmp_a").value == DEFAULT + modelkeys.CONTROL


def test_clearing_every_se_block_draws_no_class_curves_and_says_why():
    at = run(view="classes")
    assert any("per channel and class" in t for t in titles(at))
    at.multiselect(key="blocks").set_value([]).run()
    assert not at.exception
    assert not any("per channel and class" in t for t in titles(at))
    assert any("No SE block chosen" in i.value for i in at.info)


def test_the_same_file_uploaded_twice_is_one_image():
    from tests.fakes import pattern, png_bytes

    a, b = png_bytes(pattern("circle", 20)), png_bytes(pattern("square", 20))
    items = imageitems.upload_items([("cat.png", a), ("cat (1).png", a), ("cat.png", b)])
    assert [i.label for i in items] == ["cat.png", "cat.png"] and len({i.id for i in items}) == 2


def test_every_top5_bar_shows_its_value_whatever_its_length():
    import numpy as np

    from se_models.plots import figures

    for probs in ([0.7, 0.2, 0.05, 0.03, 0.02], [0.49, 0.46, 0.03, 0.01, 0.01],
                  [0.999, 0.0005, 0.0003, 0.0001, 0.0001]):
        bar = figures.prediction_bars(np.array(probs), list("abcde")).data[0]
        assert len(bar.text) == 5 and all(bar.text)
        assert set(bar.textposition) <= {"inside", "outside"}  # never "auto", which drops labels that do not fit
        assert bar.cliponaxis is False
        for x, pos in zip(bar.x, bar.textposition):
            assert pos == ("inside" if x >= 0.5 else "outside")


def test_eight_channels_each_way_wrap_into_two_row_pairs():
    import numpy as np

    from se_models.plots import figures

    r = np.random.default_rng(0)
    maps = r.normal(size=(32, 8, 8))
    for k, rows, cols in ((4, 2, 8), (8, 4, 8)):
        fig = figures.feature_maps(maps, maps * 0.5, r.random(32), k, "SE_x")
        grid = fig._grid_ref
        assert (len(grid), len(grid[0])) == (rows, cols)
        assert len(fig.data) == 4 * k  # U and s·U for 2k channels
        assert fig.layout.height >= 100 * rows  # tiles about as tall as they are wide at ~1000 px


def test_the_imagenet_class_hint_is_for_imagenet_models_only():
    fm = next(m for m in se_models.list_models() if load_card(m).dataset == "fashion-mnist")
    at = run(view="classes", model=fm, source="folder")
    assert not at.exception
    shown = " ".join(i.value for i in at.info)
    assert "DIR/<class>/<image>" in shown  # the how-to is there ...
    assert "goldfish" not in shown and "ImageNet validation" not in shown  # ... without ImageNet's classes
    assert "T-shirt/top" in shown


def test_another_model_starts_its_block_choices_afresh():
    """The feature-map block follows the new model's default (its deepest block, as the Grad-CAM layer) instead of
    keeping a name both models happen to have."""
    at = run(view="image")
    at.selectbox(key="block").select("SE_3_1").run()
    fm = next(m for m in se_models.list_models() if m != DEFAULT)
    at.selectbox(key="model").select(fm).run()
    assert not at.exception
    names = list(se_models.load_model(fm).se_blocks)
    assert at.selectbox(key="block").value == names[-1]
    assert at.selectbox(key="cam_layer").value == names[-1]
