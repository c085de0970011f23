"""The whole view in the URL: every control that changes what is drawn is written to the query string and restored
from it by a fresh session (a shared link)."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import se_models
from se_models.data.datasets import sample_images
from se_models.models.registry import load_card
from tests.apphelp import APP


def run(**params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def shared(at: AppTest) -> dict:
    """The query string a user would copy: every parameter, as a fresh session receives it."""
    return {k: at.query_params.get_all(k) if hasattr(at.query_params, "get_all") else at.query_params[k]
            for k in at.query_params}


def reopened(at: AppTest) -> AppTest:
    link = {k: (v if len(v) > 1 else v[0]) if isinstance(v, list) else v for k, v in shared(at).items()}
    fresh = run(**link)
    assert not fresh.exception, [e.value for e in fresh.exception]
    return fresh


# (view, widget kind, key, value set in the first session)
ROUND_TRIPS = [
    ("image", "slider", "alpha", 0.8),
    ("image", "selectbox", "cam_layer", "SE_2_3"),
    ("image", "slider", "k", 6),
    ("image", "selectbox", "profile_class", "dog"),
    ("image", "selectbox", "block", "SE_3_1"),
    ("image", "segmented_control", "abl_scope", "block"),
    ("image", "segmented_control", "abl_mode", "identity"),
    ("classes", "segmented_control", "channels", "all"),
    ("classes", "toggle", "spread", True),
    ("classes", "multiselect", "blocks", ["SE_3_3"]),
    ("compare", "segmented_control", "cmp_channels", "variable"),
]


@pytest.mark.parametrize("view, kind, key, value", ROUND_TRIPS, ids=[r[2] for r in ROUND_TRIPS])
def test_a_shared_link_restores_the_control(view, kind, key, value):
    at = run(view=view, **({"abl_on": "on"} if key.startswith("abl_") else {}))  # the SE-off panel is opt-in
    widget = getattr(at, kind)(key=key)
    assert widget.value != value  # the test sets something other than the default
    widget.set_value(value) if kind != "selectbox" else widget.select(value)
    at.run()
    assert not at.exception
    assert key in at.query_params, f"{key} is not written to the URL"
    fresh = reopened(at)
    assert getattr(fresh, kind)(key=key).value == value


def test_defaults_stay_out_of_the_url():
    at = run(view="classes")
    assert not {"channels", "spread", "per_class", "blocks"} & set(at.query_params)


def test_live_controls_round_trip():
    """Images per class and the untrained-control switch of live statistics (bundled samples)."""
    name = next(m for m in se_models.list_models()
                if sample_images(load_card(m).dataset))
    labels = load_card(name).labels[:2]
    at = run(view="classes", model=name, source="bundled", classes=labels)
    at.number_input(key="per_class").set_value(4).run()
    at.toggle(key="live_control").set_value(False).run()
    assert not at.exception
    assert at.query_params.get("per_class") in ("4", ["4"]) and at.query_params.get("live_control") in ("off", ["off"])
    fresh = reopened(at)
    assert fresh.number_input(key="per_class").value == 4
    assert fresh.toggle(key="live_control").value is False


def test_a_bad_value_in_the_link_falls_back_to_the_default():
    at = run(view="classes", channels="nonsense", per_class="-3")
    assert not at.exception
    assert at.segmented_control(key="channels").value == "sampled"
    assert at.number_input(key="per_class").value == 50


def test_the_main_map_drawn_before_its_controls_follows_a_shared_link():
    """The main Grad-CAM map is drawn above its layer box and opacity slider, from their values read ahead: it must
    be the very picture of the row's map at that layer and opacity (the same bytes, so the same address)."""
    at = run(view="image", cam_layer="SE_2_3", alpha="0.8")
    assert not at.exception and at.slider(key="alpha").value == 0.8

    def addresses(caption: str, where: str = "") -> list[str]:
        return [i.url for e in at.get("image") for i in e.proto.imgs
                if i.caption.startswith(caption) and where in i.caption]

    main = addresses("Evidence for “cat”", "probability) at SE_2_3")  # the caption names the class's probability
    assert len(main) == 1
    assert main == addresses("stage 2")  # the row's stage-2 map, drawn at the slider's opacity
    at.slider(key="alpha").set_value(0.3).run()
    assert addresses("Evidence for") == addresses("stage 2") != main  # both follow the slider
    at.selectbox(key="cam_layer").select("SE_3_3").run()
    assert addresses("Evidence for “cat”", "at SE_3_3") == addresses("stage 3")
