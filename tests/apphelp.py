"""Driving the Streamlit app under AppTest: a fresh app from URL parameters, its charts' titles, a clean run."""
from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from se_models.config import PROJECT

APP = str(PROJECT / "dashboard" / "app.py")  # the Streamlit entry point the app tests run
ZOO_MODEL = "legacy_seresnet50.in1k"  # an ImageNet SE-ResNet-50 from timm (random weights in tests: offline)


def app(*, timeout: int = 90, **params) -> AppTest:
    """A fresh app with the given URL query parameters, run once; `timeout` seconds a run may take."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def zoo_app(**params) -> AppTest:
    """As app(), with time for SE-ResNet-50 at 224 px on one CPU thread."""
    return app(timeout=300, **params)


def figures(at: AppTest) -> list[dict]:
    """Every plotly chart on the page, as its figure's JSON."""
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def titles(at: AppTest) -> list[str]:
    """Every chart's title ("" for a chart without one)."""
    return [(f["layout"].get("title") or {}).get("text", "") for f in figures(at)]


def trace_names(fig: dict) -> set[str]:
    return {t.get("name") for t in fig["data"] if t.get("name")}


def assert_clean(at: AppTest) -> None:
    """No exception and no error box on the page."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
