"""Plotly figure builders (pure functions: data in, go.Figure out)."""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from se_models.explain.analysis import class_distances
from se_models.findings import numbers as num
from se_models.findings.image import extreme_channels
from se_models.findings.readings import LEGEND, verdict_words
from se_models.hooks.naming import block_position, kinds_of, last_of_each_stage, stage_index

PALETTE = qualitative.D3 + qualitative.Set2  # 18 distinct colours; classes keep theirs across panels
ALL_STYLE = dict(color="black", width=2.5, dash="dash")
FONT = dict(family="Inter, Helvetica, Arial, sans-serif", size=14)


def _color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def class_colors(classes: list[str], labels: list[str] | None = None) -> dict[str, str]:
    """One colour per class name, fixed across data sources and class subsets: a class's place in the model's
    label list (`labels`) picks its colour, so Fashion-MNIST's reference statistics (label order) and its bundled
    samples (folder order) draw Bag in the same colour. Labels beyond the palette (ImageNet's 1000) would collide,
    so there the classes shown are ranked by their label index instead."""
    order = list(labels or classes)
    known = [c for c in classes if c in order]
    if len(order) <= len(PALETTE):
        colors = {c: _color(order.index(c)) for c in known}
    else:
        colors = {c: _color(i) for i, c in enumerate(sorted(known, key=order.index))}
    extra = [c for c in classes if c not in colors]
    return {**colors, **{c: _color(len(order) + i) for i, c in enumerate(extra)}}


def default_blocks(names: list[str]) -> list[str]:
    """The paper's Fig. 6 choice: the last SE block of every stage plus every block of the deepest stage."""
    stages = [stage_index(n) for n in names]
    if not all(stages):
        return names
    deepest = max(s[0] for s in stages)
    chosen = set(last_of_each_stage(names)) | {n for n, s in zip(names, stages) if s[0] == deepest}
    return [n for n in names if n in chosen]  # shallow to deep


def _grid(n: int, cols: int = 3) -> tuple[int, int]:
    cols = min(cols, n)
    return math.ceil(n / cols), cols


def _row_gap(rows: int, plot_height: float, gap_px: float) -> float:
    """make_subplots' vertical_spacing for a fixed gap in pixels (it is a fraction of the plot area, so a
    constant fraction wastes most of a 6-row figure's height)."""
    return 0.0 if rows < 2 else min(gap_px / plot_height, 0.5 / (rows - 1))


def channel_order(block, mode: str = "sampled") -> list[int]:
    """Channels to plot: the paper's uniform sample, all, or the 50 whose class means vary most."""
    if mode == "all":
        return list(range(block.channels))
    if mode == "variable":
        mu = np.array(list(block.class_means.values()))  # (K, C)
        return sorted(np.argsort(-mu.var(0))[: len(block.sampled_channels)].tolist())
    return block.sampled_channels


def class_curves(stats, blocks: list[str] | None = None, classes: list[str] | None = None,
                 channels: str = "sampled", spread: bool = False, control: bool = False, cols: int = 3,
                 legend_below: bool = False, title: str | None = None, labels: list[str] | None = None,
                 panel_px: int = 300, selectable: bool = False) -> go.Figure:
    """Paper Fig. 6: per SE block, the mean excitation of each class over the plotted channels, plus "all".

    spread=True draws mean +/- std within each class as a band (paper Fig. 7). title names the model (default
    stats.model). labels: the model's class list, which fixes each class's colour (class_colors); panel_px: the
    height of one row of panels. selectable: every point of a line gets an invisible marker, since plotly selects
    a clicked point only on traces with markers (the Classes view's click on a channel)."""
    source = stats.control if control else stats.blocks
    by_name = {b.name: b for b in source}
    blocks = blocks or default_blocks(list(by_name))
    classes = classes or stats.classes
    rows, ncols = _grid(len(blocks), cols)
    # a click selects the point under it; the markers stay invisible, selected or not. Plotly draws each marker as
    # an SVG node, one per point of every line: most of the Classes view's drawing time (docs/performance.md).
    # maxdisplayed=1 draws one a line, while hover and click still find every point (they read the data)
    clear = "rgba(0,0,0,0)"  # transparent, in the legend too (an opacity of 0 still draws the legend's marker)
    points = dict(mode="lines+markers", marker=dict(size=7, color=clear, maxdisplayed=1),
                  selected=dict(marker=dict(color=clear)),
                  unselected=dict(marker=dict(color=clear, opacity=0))) if selectable else dict(mode="lines")
    titles = [f"{n}<br>divergence {num.units(by_name[n].divergence)}" for n in blocks]
    colors = class_colors(list(stats.classes), labels)
    height = panel_px * rows + 130 + (90 if legend_below else 0)
    fig = make_subplots(rows, ncols, subplot_titles=titles, shared_yaxes=True, horizontal_spacing=0.04,
                        vertical_spacing=_row_gap(rows, height - 160, 90))
    for p, name in enumerate(blocks):
        b = by_name[name]
        row, col = p // ncols + 1, p % ncols + 1
        ch = channel_order(b, channels)
        x = list(range(len(ch)))
        for cls in classes:
            if cls not in b.class_means:
                continue
            mu = np.asarray(b.class_means[cls])[ch]
            color = colors[cls]
            if spread:
                sd = np.asarray(b.class_stds[cls])[ch]
                fig.add_trace(go.Scatter(x=x + x[::-1], y=np.r_[mu + sd, (mu - sd)[::-1]], fill="toself",
                                         fillcolor=color, opacity=0.15, line=dict(width=0), hoverinfo="skip",
                                         legendgroup=cls, showlegend=False), row, col)
            fig.add_trace(go.Scatter(
                x=x, y=mu, **points, name=cls, legendgroup=cls, showlegend=p == 0,
                line=dict(color=color, width=1.6), customdata=ch, meta=name,  # a click reads block and channel
                hovertemplate=f"<b>{cls}</b><br>{name} channel %{{customdata}}<br>"
                              "mean s = %{y:.3f}<extra></extra>"), row, col)
        fig.add_trace(go.Scatter(
            x=x, y=np.asarray(b.all_mean)[ch], **points, name="all", legendgroup="all", showlegend=p == 0,
            line=ALL_STYLE, customdata=ch, meta=name,
            hovertemplate=f"<b>all classes</b><br>{name} channel %{{customdata}}<br>"
                          "mean s = %{y:.3f}<extra></extra>"),
            row, col)
    fig.update_yaxes(range=[0, 1], title_text="", showgrid=True)
    for r in range(1, rows + 1):
        fig.update_yaxes(title_text="activation", row=r, col=1)
    fig.update_xaxes(showgrid=False)
    if selectable:  # markers widen the automatic range: keep the lines' own
        for p, name in enumerate(blocks):
            fig.update_xaxes(range=[0, len(channel_order(by_name[name], channels)) - 1], row=p // ncols + 1,
                             col=p % ncols + 1)
    for p in range(len(blocks)):  # x titles under the bottom panel of each column only: elsewhere they collide
        if p + ncols >= len(blocks):  # with the panel titles of the next row
            fig.update_xaxes(title_text="channel index", row=p // ncols + 1, col=p % ncols + 1)
    what = "untrained control" if control else (title or stats.model)
    # small entries, so ten classes and "all" fit beside two short rows of panels without a scrollbar
    legend = dict(title="class<br><sup>click: hide · double-click: isolate</sup>", font=dict(size=12),
                  tracegroupgap=0, itemsizing="constant")
    if legend_below:
        legend = dict(orientation="h", x=0, y=-0.12 - 0.1 / rows, yanchor="top")
    fig.update_layout(title=f"Excitation per channel and class — {what}", height=height, font=FONT, legend=legend,
                      margin=dict(l=60, r=20, t=100, b=50), template="plotly_white")
    return fig


def _error_y(blocks, value: str, interval: str) -> dict | None:
    """Plotly error bars from [lo, hi] intervals (None when the statistics carry none)."""
    cis = [getattr(b, interval) for b in blocks]
    if not all(cis):
        return None
    vals = [getattr(b, value) for b in blocks]
    return dict(type="data", symmetric=False, array=[max(0.0, ci[1] - v) for ci, v in zip(cis, vals)],
                arrayminus=[max(0.0, v - ci[0]) for ci, v in zip(cis, vals)], thickness=1.5, width=4)


def specificity_vs_depth(stats, others: dict | None = None, label: str | None = None) -> go.Figure:
    """Class divergence (95 % interval, and the chance level of label shuffles), probe accuracy (95 % interval,
    chance) and eta^2 per SE block: trained (solid) vs untrained control (dashed). A filled marker is a learned
    block (findings.readings.LEGEND); the untrained network and its control are drawn open at every depth, since
    nothing in them is learned.

    others: extra {label: ExcitationStats} drawn on the same axes (to compare models); label names `stats`
    (default stats.model). Models of different kinds of attention (SE_4_3 beside ECA_4_3) share the axis by
    position (4_3)."""
    series = {label or stats.model: stats, **(others or {})}
    mixed = len(kinds_of([b.name for st in series.values() for b in st.blocks])) > 1
    fig = make_subplots(1, 3, subplot_titles=("class divergence (activation units)",
                                              "linear-probe accuracy", "η² (mean over channels)"),
                        horizontal_spacing=0.07)
    for si, (label, st) in enumerate(series.items()):
        for ctrl in (False, True):
            blocks = st.control if ctrl else st.blocks
            if not blocks:
                continue
            names = [block_position(b.name) if mixed else b.name for b in blocks]
            style = dict(color=_color(si), dash="dash" if ctrl else "solid", width=2.5)
            random = ctrl or st.untrained
            kind = "untrained control" if ctrl else ("untrained" if st.untrained else "trained")
            tag = f"{label} — {kind}"
            symbols = ["circle" if b.learned and not random else "circle-open" for b in blocks]
            words = [verdict_words(b, random) for b in blocks]
            for col, key, interval in ((1, "divergence", "divergence_ci"), (2, "probe_accuracy", "probe_ci"),
                                       (3, "eta_squared", None)):
                fig.add_trace(go.Scatter(
                    x=names, y=[getattr(b, key) for b in blocks], mode="lines+markers", name=tag, legendgroup=tag,
                    showlegend=col == 1, line=style, marker=dict(symbol=symbols, size=9, line=dict(width=2)),
                    error_y=_error_y(blocks, key, interval) if interval else None, customdata=words,
                    hovertemplate=f"{tag}<br>%{{x}}: {key.replace('_', ' ')} = %{{y:.4f}}"
                                  + ("<br>%{customdata}" if col == 1 else "") + "<extra></extra>"), 1, col)
            if all(b.divergence_null for b in blocks):  # what label shuffles reach: the chance level per block
                fig.add_trace(go.Scatter(
                    x=names, y=[b.divergence_null[1] for b in blocks], mode="lines", legendgroup=tag,
                    name=f"{tag}: chance (99th pct of shuffles)", showlegend=si == 0 and not ctrl,
                    line=dict(color=_color(si), dash="dot", width=1.5),
                    hovertemplate=f"{tag}<br>%{{x}}: label shuffles reach %{{y:.4f}} (99th percentile)"
                                  "<extra></extra>"), 1, 1)
    chance = stats.blocks[0].chance
    fig.add_hline(y=chance, line=dict(color="grey", dash="dot"), row=1, col=2,
                  annotation_text=f"chance {chance:.2f}", annotation_position="bottom right")
    fig.update_yaxes(rangemode="tozero")
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    fig.update_yaxes(range=[0, 1.02], row=1, col=3)
    fig.update_xaxes(tickangle=-45, tickfont=dict(size=12), title_text="block (stage_block)" if mixed else None)
    # title and key on two lines, the key short enough for the 820 px main column at 1280 px with the sidebar open
    fig.update_layout(title=f"Class-specificity vs depth (shallow → deep)<br><sup>{LEGEND} · bars: 95 % intervals · "
                            "dotted: chance</sup>", height=480, font=FONT,
                      template="plotly_white", legend=dict(orientation="h", y=-0.3),
                      margin=dict(l=50, r=20, t=95, b=40))
    return fig


def excitation_profile(excitation: dict, stats=None, class_name: str | None = None,
                       blocks: list[str] | None = None, cols: int = 3) -> go.Figure:
    """One image's excitation s in each SE block (bars) against its class's average (line) when stats are given."""
    blocks = blocks or list(excitation)
    rows, ncols = _grid(len(blocks), cols)
    height = 260 * rows + 130
    titles = list(blocks)
    if stats is not None and class_name is not None:  # each panel says how far the bars lie from the line
        means = {b.name: {class_name: b.class_means[class_name]} for b in stats.blocks if class_name in b.class_means}
        far = class_distances(excitation, means)
        titles = [f"{n}<br><sup>mean |s − class mean| = {num.units(far[n][class_name])}</sup>" if n in far else n
                  for n in blocks]
    fig = make_subplots(rows, ncols, subplot_titles=titles, shared_yaxes=True, horizontal_spacing=0.04,
                        vertical_spacing=_row_gap(rows, height - 160, 70))
    for p, name in enumerate(blocks):
        row, col = p // ncols + 1, p % ncols + 1
        s = np.asarray(excitation[name], dtype=float)
        fig.add_trace(go.Bar(x=np.arange(len(s)), y=s, name="this image", marker_color="#1f77b4",
                             legendgroup="image", showlegend=p == 0,
                             hovertemplate=f"{name} channel %{{x}}<br>s = %{{y:.3f}}<extra>this image</extra>"),
                      row, col)
        block = next((b for b in stats.blocks if b.name == name), None) if stats else None
        if block is not None and class_name in block.class_means:
            fig.add_trace(go.Scatter(x=np.arange(len(s)), y=block.class_means[class_name], mode="lines",
                                     name=f"mean of class {class_name}", legendgroup="class", showlegend=p == 0,
                                     line=dict(color="#d62728", width=2),
                                     hovertemplate=f"{name} channel %{{x}}<br>class mean = %{{y:.3f}}<extra></extra>"),
                          row, col)
    fig.update_yaxes(range=[0, 1])
    compared = stats is not None and class_name is not None
    fig.update_layout(title="This image's excitation in every SE block" + (f" vs the class mean ({class_name})"
                                                                           if compared else ""),
                      height=height, font=FONT, template="plotly_white", bargap=0.1,
                      legend=dict(orientation="h", x=0.5, xanchor="center", y=-0.03, yanchor="top"),
                      margin=dict(l=50, r=20, t=90, b=70))
    return fig


def feature_maps(before, after, excitation, k: int = 4, block: str = "") -> go.Figure:
    """U (top row) and s*U (bottom row) for the k channels with the highest and the k with the lowest gates, one
    colour scale (a gate s < 1 only scales down: "highest" means least scaled down)."""
    before, after, s = np.asarray(before), np.asarray(after), np.asarray(excitation, dtype=float)
    up, down = extreme_channels(s, k)
    chans = up + down
    shown = np.concatenate([before[chans].ravel(), after[chans].ravel()])
    lim = float(np.abs(shown).max()) or 1.0
    # up to 4 each way: one row pair (U over s·U) of 2k panels; more: a row pair for ▲ above one for ▼, k panels
    # wide, so 16 channels do not shrink to ~50 px tiles in a wide, short figure
    wrap = k > 4
    cols = k if wrap else len(chans)
    where = [((i // k) * 2 if wrap else 0, i % k if wrap else i) for i in range(len(chans))]  # (row pair, column)
    titles = [""] * (cols * (4 if wrap else 2))
    for i, c in enumerate(chans):
        pair, col = where[i]
        titles[pair * cols + col] = f"{'▲' if i < k else '▼'} ch {c}<br>{num.gate_eq(s[c])}"
    fig = make_subplots(4 if wrap else 2, cols, subplot_titles=titles, horizontal_spacing=0.01,
                        vertical_spacing=0.05 if wrap else 0.06)
    for i, c in enumerate(chans):
        pair, col = where[i]
        for row, maps in ((1, before), (2, after)):
            fig.add_trace(go.Heatmap(z=maps[c][::-1], coloraxis="coloraxis",
                                     hovertemplate=f"ch {c} ({'U' if row == 1 else 's·U'})<br>value %{{z:.3f}}"
                                                   "<extra></extra>"), pair + row, col + 1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", constrain="domain")
    fig.update_layout(coloraxis=dict(colorscale="RdBu_r", cmin=-lim, cmax=lim, colorbar=dict(title="value")),
                      title=f"{block}: the {k} highest gates (▲ least scaled down) and the {k} lowest (▼)",
                      height=760 if wrap else 420, font=dict(FONT, size=12), template="plotly_white",
                      margin=dict(l=90, r=20, t=110, b=10))
    for ann in fig.layout.annotations:
        ann.font.size = 13
    labels = ((1, "before: U"), (2, "after: s·U")) + (((3, "before: U"), (4, "after: s·U")) if wrap else ())
    for row, text in labels:  # row labels on the left, where reading starts
        y = fig.get_subplot(row, 1).yaxis.domain
        fig.add_annotation(text=text, x=-0.01, xanchor="right", y=sum(y) / 2, xref="paper", yref="paper",
                           textangle=-90, showarrow=False, font=dict(size=14))
    return fig


def prediction_bars(probs, labels: list[str], k: int = 5) -> go.Figure:
    """Top-k class probabilities as horizontal bars."""
    p = np.asarray(probs, dtype=float)
    top = np.argsort(-p)[:k][::-1]
    # every bar carries its value: inside a long bar (white), just right of a short one; plotly's "auto" drops a
    # label that fits neither inside nor outside, e.g. a 70 % bar in a narrow column
    inside = p[top] >= 0.5
    fig = go.Figure(go.Bar(x=p[top], y=[labels[i] for i in top], orientation="h", marker_color="#1f77b4",
                           text=[f"{p[i]:.1%}" if p[i] >= 0.001 else "< 0.1%" for i in top],  # never "0.0%"
                           textposition=np.where(inside, "inside", "outside"),
                           insidetextanchor="end", textfont=dict(color=np.where(inside, "white", "#1a1d23")),
                           cliponaxis=False, hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    fig.update_layout(uniformtext=dict(minsize=11, mode="show"))
    fig.update_xaxes(range=[0, 1], title_text="probability")
    fig.update_layout(height=60 + 36 * len(top), margin=dict(l=10, r=10, t=30, b=40), font=FONT,
                      template="plotly_white", title=f"Top-{k} prediction")
    return fig


def spatial_gate(gate, block: str = "", height: int = 420) -> go.Figure:
    """CBAM's spatial gate (h, w) in (0, 1): one value per position, multiplying every channel of s·U after the
    channel gate; drawn on the gate's own 0..1 scale."""
    g = np.asarray(gate, dtype=float)
    fig = go.Figure(go.Heatmap(z=g[::-1], zmin=0, zmax=1, colorscale="Viridis", colorbar=dict(title="gate", len=0.8),
                               hovertemplate="row %{y}, column %{x}: %{z:.3f}<extra></extra>"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", constrain="domain")
    fig.update_layout(title=dict(text=f"{block}: spatial gate", font=dict(size=14)), height=height,
                      font=dict(FONT, size=12), template="plotly_white", margin=dict(l=10, r=10, t=110, b=10))
    return fig
