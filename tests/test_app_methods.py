"""The Methods view under AppTest: every lens in a row, trained vs control, the sentences, the filters."""
from __future__ import annotations

import json

import pytest

from se_models.explain import lenses
from tests.apphelp import ZOO_MODEL as ZOO
from tests.apphelp import assert_clean, zoo_app


def _markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_methods_view_on_the_default_model():
    at = zoo_app(view="methods")  # eight attributions and ~400 forward passes: more than app()'s 60 s when busy
    assert not any("random maps" in m.value for m in at.markdown)  # the deletion / insertion check is on request
    at.toggle(key="methods_faith").set_value(True).run()
    assert_clean(at)
    captions = [str(i.proto) for i in at.get("image")]
    for name in lenses.METHODS.values():  # the trained row names every method
        assert any(name in c for c in captions), name
    assert sum("SSIM" in c for c in captions) == len(lenses.METHODS)  # the control row carries the numbers
    text = _markdown(at)
    assert "Sanity check" in text and "Adebayo" in text
    assert text.count("random maps") >= len(lenses.METHODS)  # one faithfulness sentence per method
    assert "On this one image" in text and "as Adebayo et al. (2018) found" not in text  # one image is one image
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {t.get("name") for t in fig["data"]} >= {"Grad-CAM", "Guided backprop", "random maps (8)"}
    assert any("filters of the first convolution" in c.value for c in at.caption)


@pytest.mark.slow
def test_methods_view_on_an_imagenet_model_with_random_weights():
    at = zoo_app(view="methods", model=ZOO, weights="random")
    assert_clean(at)
    # the control is selected and the pretrained weights are not downloadable offline: one row, no sentence
    assert sum(n in str(i.proto) for i in at.get("image") for n in lenses.METHODS.values()) >= len(lenses.METHODS)
    assert any("64 filters of the first convolution (7×7" in c.value for c in at.caption)
