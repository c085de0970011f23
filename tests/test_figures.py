"""Figure builders: the right panels, shared scales, honest labels, and fixed gaps between rows of panels."""
import numpy as np
import pytest
import torch

from se_models import ExcitationStats, analyze_image, block_maps
from se_models.plots import figures
from se_models.stats.stored import reference_path

from .conftest import pattern


@pytest.fixture(scope="module")
def ref():
    return ExcitationStats.load(reference_path("se_resnet20_fashion_mnist"))


def test_class_curves_panels_lines_and_hover(ref):
    fig = figures.class_curves(ref, classes=["Bag", "Trouser"])
    titles = [a.text.split("<br>")[0] for a in fig.layout.annotations]
    assert titles == ["SE_2_3", "SE_3_3", "SE_4_1", "SE_4_2", "SE_4_3"]  # Fig. 6's choice of blocks
    lines = [t for t in fig.data if t.mode == "lines"]
    assert len(lines) == 5 * 3 and {t.name for t in lines} == {"Bag", "Trouser", "all"}
    deepest = [t for t in lines if t.xaxis == "x5"]
    assert all(len(t.y) == 50 for t in deepest) and "channel" in deepest[0].hovertemplate
    spread = figures.class_curves(ref, blocks=["SE_4_3"], classes=["Bag"], spread=True)
    assert any(t.fill == "toself" for t in spread.data)  # Fig. 7: mean +/- std band
    assert len(figures.channel_order(ref.block("SE_4_3"), "variable")) == 50


def _series(fig) -> set[str]:
    return {t.name for t in fig.data if t.mode == "lines+markers"}


def test_specificity_labels_follow_the_weights(ref):
    assert _series(figures.specificity_vs_depth(ref)) == {"se_resnet20_fashion_mnist — trained",
                                                         "se_resnet20_fashion_mnist — untrained control"}
    from dataclasses import replace

    rand = replace(ref, weights="random", control=None)
    assert _series(figures.specificity_vs_depth(rand)) == {"se_resnet20_fashion_mnist — untrained"}


def test_depth_chart_draws_chance_intervals_and_verdicts(ref):
    from dataclasses import replace

    fig = figures.specificity_vs_depth(ref)
    div = next(t for t in fig.data if t.name == "se_resnet20_fashion_mnist — trained" and t.xaxis == "x")
    chance = next(t for t in fig.data if "chance" in (t.name or "") and "untrained" not in t.name)
    assert list(chance.y) == [b.divergence_null[1] for b in ref.blocks]
    assert div.error_y.array is not None and len(div.error_y.array) == len(ref.blocks)
    assert list(div.marker.symbol) == ["circle"] * len(ref.blocks)  # every trained block is class-specific
    probe = next(t for t in fig.data if t.name == "se_resnet20_fashion_mnist — trained" and t.xaxis == "x2")
    assert probe.error_y.array is not None
    # a block called not class-specific is drawn with an open marker
    blocks = [replace(b, class_specific=False) if b.name == "SE_2_1" else b for b in ref.blocks]
    div = next(t for t in figures.specificity_vs_depth(replace(ref, blocks=blocks)).data
               if t.name == "se_resnet20_fashion_mnist — trained" and t.xaxis == "x")
    assert div.marker.symbol[0] == "circle-open" and "not distinguishable" in div.customdata[0]


def test_many_rows_of_panels_get_a_fixed_pixel_gap():
    blocks = [f"SE_{s}_{b}" for s in range(2, 6) for b in range(1, 5)]  # 16 blocks: 6 rows of 3
    fig = figures.excitation_profile({b: np.full(8, 0.5) for b in blocks})
    rows = sorted({fig.layout[k].domain for k in fig.layout if k.startswith("yaxis")}, reverse=True)
    plot_h = fig.layout.height - 160
    assert len(rows) == 6
    assert all(abs((upper[0] - lower[1]) * plot_h - 70) < 1 for upper, lower in zip(rows, rows[1:]))
    assert "class mean" not in fig.layout.title.text  # no statistics given: no class line, no claim of one


def test_feature_maps_share_one_colour_scale(tiny):
    a = block_maps(tiny, pattern("circle"), "SE_3_2")
    fig = figures.feature_maps(a.before, a.after, a.excitation, k=3, block="SE_3_2")
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert len(heatmaps) == 12 and {t.coloraxis for t in heatmaps} == {"coloraxis"}
    lim = float(torch.cat([a.before.abs().flatten(), a.after.abs().flatten()]).max())
    assert fig.layout.coloraxis.cmax <= lim + 1e-6 and fig.layout.coloraxis.cmin == -fig.layout.coloraxis.cmax
    up, down = figures.top_channels(a.excitation, 3)
    s = a.excitation
    assert min(s[up]) >= max(s[down])


def test_prediction_bars(tiny):
    a = analyze_image(tiny, pattern("square"))
    bars = figures.prediction_bars(a.probs, tiny.labels, k=2)
    assert list(bars.data[0].y)[-1] == tiny.labels[a.predicted]  # the top class is drawn on top


def test_excitation_profile_titles_give_each_block_its_distance_to_the_class_line():
    from types import SimpleNamespace

    blocks = [SimpleNamespace(name="SE_2_1", class_means={"cat": [0.5, 0.5]}),
              SimpleNamespace(name="SE_3_1", class_means={"cat": [0.1, 0.9]})]
    fig = figures.excitation_profile({"SE_2_1": np.array([0.5, 0.7]), "SE_3_1": np.array([0.9, 0.1])},
                                     SimpleNamespace(blocks=blocks), "cat")
    titles = [a.text for a in fig.layout.annotations]
    assert "SE_2_1<br><sup>mean |s − class mean| = 0.100</sup>" in titles
    assert "SE_3_1<br><sup>mean |s − class mean| = 0.800</sup>" in titles
