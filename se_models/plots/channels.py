"""From a gate to its images, as figures: the gate's histogram per class, and a gallery of the images with the
highest or lowest gates (each image, U and s·U of the channel, Grad-CAM) (pure: numbers and pictures in, go.Figure
out)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from se_models.findings import numbers as num
from se_models.plots.figures import FONT


def gate_histogram(ranking, height: int | None = None) -> go.Figure:
    """One row per class (sorted by mean gate, highest at the top): the share of its images in each gate bin as
    colour, the class mean as a marker; the gate's histogram per class on one axis."""
    order = sorted(ranking.classes, key=lambda c: ranking.class_means[c])  # bottom to top
    edges = np.asarray(ranking.edges)
    centres = (edges[:-1] + edges[1:]) / 2
    counts = np.array([ranking.histogram[c] for c in order], dtype=float)  # (K, BINS)
    share = counts / counts.sum(1, keepdims=True).clip(1)
    fig = go.Figure(go.Heatmap(
        x=centres, y=order, z=share, colorscale="Blues", zmin=0, customdata=counts, showscale=False,
        hovertemplate="%{y}: %{customdata:.0f} images with s in this bin (%{z:.0%} of the class)<extra></extra>",
        xgap=1, ygap=1))
    means = [ranking.class_means[c] for c in order]
    fig.add_trace(go.Scatter(x=means, y=order, mode="markers", name="class mean",
                             marker=dict(symbol="diamond", size=10, color="#d62728", line=dict(color="white",
                                                                                               width=1)),
                             hovertemplate="%{y}: mean s = %{x:.3f}<extra></extra>"))
    fig.update_xaxes(range=[0, 1], title_text=f"gate s of {ranking.block} channel {ranking.channel}")
    fig.update_layout(title=dict(text=f"The gate per class<br><sup>{sum(ranking.counts.values())} images · ◆ class "
                                      "mean</sup>"),
                      height=height or 140 + 26 * len(order), font=dict(FONT, size=13), template="plotly_white",
                      showlegend=False, margin=dict(l=10, r=10, t=70, b=50))
    return fig


@dataclass
class Tile:
    """One image of a gallery: the model's view, its Grad-CAM overlay, and the channel's maps and gate."""
    view: np.ndarray     # (h, w, 3) uint8, the image as the model saw it
    overlay: np.ndarray  # (h', w', 3) uint8, Grad-CAM over it
    u: np.ndarray        # (h, w) U_c
    su: np.ndarray       # (h, w) s_c * U_c
    gate: float
    cls: str             # its true class
    predicted: str       # the class Grad-CAM explains
    name: str            # its file or index


def channel_gallery(tiles: list[Tile], title: str, height: int = 470) -> go.Figure:
    """Columns of images (the highest or lowest gates): the image, U_c, s·U_c (one colour scale for every map, so
    a faded s·U is a gate that turned the channel down) and Grad-CAM for the predicted class."""
    n = max(1, len(tiles))
    # a class name longer than a narrow column would run into its neighbour's: cut, the whole name on hover
    titles = [f"{num.gate_eq(t.gate)}<br>{t.cls if len(t.cls) <= 9 else t.cls[:8] + '…'}" for t in tiles]
    titles += [""] * (3 * n)
    fig = make_subplots(4, n, horizontal_spacing=0.012, vertical_spacing=0.035, subplot_titles=titles[:4 * n])
    lim = max([float(np.abs(np.concatenate([t.u.ravel(), t.su.ravel()])).max()) for t in tiles] or [1.0]) or 1.0
    for i, t in enumerate(tiles, 1):
        fig.add_trace(go.Image(z=t.view, hovertemplate=f"{t.name}<br>true class {t.cls}<br>s = {t.gate:.5f}"
                                                        "<extra></extra>"), 1, i)
        for row, maps, what in ((2, t.u, "U"), (3, t.su, "s·U")):
            fig.add_trace(go.Heatmap(z=maps[::-1], coloraxis="coloraxis",
                                     hovertemplate=f"{t.name} ({what})<br>value %{{z:.3f}}<extra></extra>"), row, i)
        fig.add_trace(go.Image(z=t.overlay, hovertemplate=f"Grad-CAM for “{t.predicted}”<extra></extra>"), 4, i)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, constrain="domain")
    for row in range(1, 5):  # square pixels in every panel: each y axis keeps the scale of its own x axis
        for col in range(1, n + 1):
            x = fig.get_subplot(row, col).xaxis.plotly_name.replace("axis", "")
            fig.update_yaxes(scaleanchor=x, row=row, col=col)
    for row, label in ((1, "image"), (2, "U"), (3, "s·U"), (4, "Grad-CAM")):
        y = fig.get_subplot(row, 1).yaxis.domain
        fig.add_annotation(text=label, x=-0.005, xanchor="right", y=sum(y) / 2, xref="paper", yref="paper",
                           textangle=-90, showarrow=False, font=dict(size=13))
    fig.update_layout(title=title, height=height, font=dict(FONT, size=12), template="plotly_white",
                      coloraxis=dict(colorscale="RdBu_r", cmin=-lim, cmax=lim,
                                     colorbar=dict(title="U, s·U", thickness=10, len=0.5)),
                      margin=dict(l=40, r=10, t=80, b=10))
    for ann in fig.layout.annotations[:len(tiles)]:
        ann.font.size = 12
    return fig
