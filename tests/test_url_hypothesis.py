"""Random strings in every query parameter of every view: the app answers with defaults and notices, never an
exception (hypothesis drives AppTest)."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
SIDEBAR = ["model", "weights", "photos", "samples", "target"]
VIEWS = {  # view -> the query parameters it reads (besides view and the sidebar's)
    "image": ["image", "alpha", "cam_layer", "k", "profile_class", "block", "abl_on", "abl_scope", "abl_stage",
              "abl_block", "abl_mode"],
    "methods": ["methods_image", "methods_faith"],
    "classes": ["fig6", "channels", "spread", "source", "classes", "blocks", "per_class", "live_control", "epoch",
                "ch_block", "ch"],
    "compare": ["cmp_a", "cmp_b", "cmp_block", "cmp_channels"],
    "lesson": ["step"],
    "about": [],
}
MULTI = {"photos", "samples", "classes", "blocks"}  # repeated in the URL: ?classes=a&classes=b
NUMBERS = {"alpha", "k", "per_class", "step", "epoch", "ch"}
# what a hostile or clumsy link holds: any text, and the values that broke the parsers before (superscripts pass
# str.isdigit but not int(); int(float("inf")) overflows; int("١٢") is 12)
NUMBER_EDGES = ["inf", "-inf", "nan", "1e400", "²", "³", "¹", "١٢", "1_0", "-3", "0", "4.5", "99999999999999999999"]
EDGES = ["", "on", "off", "true", "x:file:1:/etc/passwd", "timm:hf-hub:timm/x", "../../etc/passwd", " " * 3, "\x00",
         "é" * 300, "SE_9_9", "SE_4_3", "timm:" + "a" * 200]
TEXT = st.text(max_size=40)


def value(param: str):
    edges = NUMBER_EDGES if param in NUMBERS else EDGES
    return st.one_of(st.sampled_from(edges), TEXT)


def values(view: str):
    params = SIDEBAR + VIEWS[view]
    return st.fixed_dictionaries({p: st.lists(value(p), max_size=3) if p in MULTI else value(p) for p in params})


@pytest.mark.parametrize("view", list(VIEWS))
def test_random_strings_in_every_query_parameter_never_raise(monkeypatch, view):
    monkeypatch.setenv("SE_EXPLORER_ROOTS", "")  # a classroom server: no folders

    @settings(max_examples=10, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(params=values(view))
    def check(params):
        at = AppTest.from_file(APP, default_timeout=180)
        at.query_params["view"] = view
        for key, value in params.items():
            at.query_params[key] = value
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        problems = [e.value for e in at.error if e.value.startswith("Something went wrong")]
        assert not problems, problems  # the views' last line of defence caught a bug
        for element in (*at.error, *at.warning, *at.toast, *at.caption):
            assert "Traceback" not in element.value

    check()
