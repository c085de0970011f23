"""Figure builders: the right panels, shared scales, honest labels, and fixed gaps between rows of panels."""
from dataclasses import replace

import numpy as np
import pytest
import torch

from se_models import ExcitationStats, analyze_image, block_maps
from se_models.plots import figures
from se_models.stats.stored import reference_path
from tests.fakes import pattern


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
    assert list(div.marker.symbol) == ["circle"] * len(ref.blocks)  # every trained block is learned
    probe = next(t for t in fig.data if t.name == "se_resnet20_fashion_mnist — trained" and t.xaxis == "x2")
    assert probe.error_y.array is not None
    # the control is never learned: open at every depth, although each of its blocks is above chance
    ctrl = next(t for t in fig.data if t.name == "se_resnet20_fashion_mnist — untrained control" and t.xaxis == "x")
    assert all(b.above_chance for b in ref.control)
    assert list(ctrl.marker.symbol) == ["circle-open"] * len(ref.control)
    assert all(w == "above chance (random weights)" for w in ctrl.customdata)
    # a block whose p-value is above the threshold is not learned: drawn open, and the hover says why
    blocks = [replace(b, divergence_p=0.2) if b.name == "SE_2_1" else b for b in ref.blocks]
    div = next(t for t in figures.specificity_vs_depth(replace(ref, blocks=blocks).judged()).data
               if t.name == "se_resnet20_fashion_mnist — trained" and t.xaxis == "x")
    assert div.marker.symbol[0] == "circle-open" and "not distinguishable" in div.customdata[0]
    assert list(div.marker.symbol[1:]) == ["circle"] * (len(ref.blocks) - 1)
    # a block above chance whose interval reaches into the control's: above chance, not learned
    blocks = [replace(b, divergence_ci=[0.0, b.divergence_ci[1]]) if b.name == "SE_4_3" else b for b in ref.blocks]
    div = next(t for t in figures.specificity_vs_depth(replace(ref, blocks=blocks).judged()).data
               if t.name == "se_resnet20_fashion_mnist — trained" and t.xaxis == "x")
    assert div.marker.symbol[-1] == "circle-open" and div.customdata[-1] == "above chance, not learned"
    # the untrained network on its own: open everywhere, and the legend says what filled means
    rand = figures.specificity_vs_depth(ref.control_only())
    assert all(s == "circle-open" for t in rand.data if t.mode == "lines+markers" for s in t.marker.symbol)
    assert "filled = class-specific (learned" in rand.layout.title.text


def test_class_colours_are_fixed_per_class_across_sources_and_subsets(ref):
    labels = ref.classes  # the model's label order
    def colours(fig):
        return {t.name: t.line.color for t in fig.data if t.mode == "lines" and t.name != "all"}
    full = colours(figures.class_curves(ref, blocks=["SE_4_3"], labels=labels))
    sub = colours(figures.class_curves(ref.subset(["Sneaker", "Bag"]), blocks=["SE_4_3"], labels=labels))
    assert sub == {c: full[c] for c in ("Sneaker", "Bag")}
    # the bundled samples list their classes in folder (alphabetical) order: the colours stay the label's
    folder_order = replace(ref, classes=sorted(ref.classes))
    assert colours(figures.class_curves(folder_order, blocks=["SE_4_3"], labels=labels)) == full
    # without the model's labels the colours follow the data's own order, and differ: the labels are what fix them
    assert colours(figures.class_curves(folder_order, blocks=["SE_4_3"])) != full
    assert len(set(full.values())) == len(full)


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
    from se_models.findings.image import extreme_channels

    up, down = extreme_channels(a.excitation, 3)
    s = a.excitation
    assert min(s[up]) >= max(s[down])


def test_gate_labels_never_round_to_one_or_zero():
    s = np.array([0.9996, 0.5, 0.0004, 0.3])
    maps = np.ones((4, 2, 2))
    fig = figures.feature_maps(maps, maps * s[:, None, None], s, k=1, block="SE_x")
    titles = [a.text for a in fig.layout.annotations if "ch " in a.text]
    assert titles == ["▲ ch 0<br>s > 0.999", "▼ ch 2<br>s < 0.001"]
    assert not any("1.00" in t or "= 0.00" in t for t in titles)


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
