"""Plotly figures of the guided lesson, sized for one 1280×720 projector screen (pure: numbers in, go.Figure out)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from se_models.findings.numbers import gate_eq, units
from se_models.plots.figures import FONT, PALETTE

BIG = dict(FONT, size=16)  # read from the back of a classroom
HIGH, LOW, REST = "#d62728", "#1f77b4", "#8c8c8c"


def se_block(z, s, before, after, channels: list[int], block: str, height: int = 400) -> go.Figure:
    """Squeeze (z per channel), excitation (s per channel) and scale (U and s·U of `channels`), left to right.

    z, s: (C,); before, after: (C, h, w) U and s·U; channels: [the most kept, the least kept]."""
    z, s = np.asarray(z, dtype=float), np.asarray(s, dtype=float)
    before, after = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    colors = [HIGH if c == channels[0] else LOW if c == channels[-1] else REST for c in range(len(s))]
    n = len(channels)
    titles = ["1 · squeeze: z", "2 · excitation: s", f"3 · scale: U<sub>{channels[0]}</sub>",
              f"s·U ({gate_eq(s[channels[0]])})"]
    titles += sum(([f"U<sub>{c}</sub>", f"s·U ({gate_eq(s[c])})"] for c in channels[1:]), [])
    fig = make_subplots(n, 4, specs=[[{"rowspan": n}, {"rowspan": n}, {}, {}]] + [[None, None, {}, {}]] * (n - 1),
                        column_widths=[0.3, 0.3, 0.2, 0.2], horizontal_spacing=0.06, vertical_spacing=0.14,
                        subplot_titles=titles)
    x = list(range(len(s)))
    for col, values, what in ((1, z, "z"), (2, s, "s")):
        fig.add_bar(x=x, y=values, marker_color=colors, row=1, col=col, showlegend=False,
                    hovertemplate=f"channel %{{x}}: {what} = %{{y:.3f}}<extra></extra>")
        # with 100+ channels a bar is a hairline: a large marker shows where the two picked channels are
        fig.add_scatter(x=channels, y=values[channels], mode="markers", showlegend=False, row=1, col=col,
                        marker=dict(size=13, color=[HIGH] + [LOW] * (n - 1), line=dict(color="white", width=1.5)),
                        hovertemplate=f"channel %{{x}}: {what} = %{{y:.3f}}<extra></extra>")
    lim = float(np.abs(np.concatenate([before[channels].ravel(), after[channels].ravel()])).max()) or 1.0
    for r, c in enumerate(channels, 1):
        for col, maps, what in ((3, before, "U"), (4, after, "s·U")):
            fig.add_trace(go.Heatmap(z=maps[c][::-1], coloraxis="coloraxis",
                                     hovertemplate=f"ch {c} ({what}) %{{z:.3f}}<extra></extra>"), r, col)
            anchor = fig.get_subplot(r, col).xaxis.plotly_name.replace("axis", "")  # "xaxis5" -> "x5"
            fig.update_xaxes(visible=False, row=r, col=col)
            fig.update_yaxes(visible=False, scaleanchor=anchor, constrain="domain", row=r, col=col)
    for ann in fig.layout.annotations:
        ann.font.size = 15
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    for col in (1, 2):  # a few upright ticks: 2048 channels would otherwise get rotated labels that eat height
        fig.update_xaxes(title_text="channel", nticks=4, tickangle=0, row=1, col=col)
    bar = dict(title="value", len=0.8, thickness=14)
    fig.update_layout(coloraxis=dict(colorscale="RdBu_r", cmin=-lim, cmax=lim, colorbar=bar),
                      title=dict(text=f"{block}: red = the channel kept most, blue = the channel kept least",
                                 font=dict(size=17)),
                      height=height, font=BIG, template="plotly_white", bargap=0.1,
                      margin=dict(l=50, r=10, t=70, b=45))
    return fig


def gate_pair(gates: dict[str, tuple], names: tuple[str, str], distances: dict[str, float],
              height: int = 400, same: dict[str, tuple] | None = None,
              same_names: tuple[str, str] | None = None) -> go.Figure:
    """Per block (shallow, deep) two images' gates per channel, with their distance in the panel title; with
    `same`, a second row for two images of one class (the baseline the first row's ratio needs).

    gates, same: block -> (s of image A (C,), s of image B (C,))."""
    blocks = list(gates)
    rows = [(gates, names)] + ([(same, same_names)] if same else [])
    titles = []
    for g, _ in rows:
        kind = "two classes" if g is gates else "one class"
        titles += [f"{b}, {kind}: mean |s_A − s_B| = {units(float(np.abs(np.subtract(*g[b])).mean()))}"
                   for b in blocks]
    fig = make_subplots(len(rows), len(blocks), horizontal_spacing=0.06, vertical_spacing=0.2, shared_yaxes=True,
                        subplot_titles=titles)
    for r, (g, tags) in enumerate(rows, 1):
        for col, b in enumerate(blocks, 1):
            for i, (s, name) in enumerate(zip(g[b], tags)):
                color = PALETTE[i + 2 * (r - 1)]
                fig.add_trace(go.Scatter(x=list(range(len(s))), y=np.asarray(s, dtype=float), mode="lines",
                                         name=name, legendgroup=f"{r}{name}", showlegend=col == 1,
                                         line=dict(color=color, width=2),
                                         hovertemplate=f"{name}<br>{b} channel %{{x}}: s = %{{y:.3f}}<extra></extra>"),
                              r, col)
            fig.update_xaxes(title_text="channel" if r == len(rows) else None, row=r, col=col)
        fig.update_yaxes(range=[0, 1.02], title_text="gate s", row=r, col=1)
    for ann in fig.layout.annotations:
        ann.font.size = 15 if same else 17
    fig.update_layout(height=height, font=BIG, template="plotly_white", margin=dict(l=60, r=10, t=50, b=50),
                      legend=dict(orientation="h", x=0, y=1.12 if same else 1.18, yanchor="bottom"))
    return fig


def projector(fig: go.Figure, height: int = 400) -> go.Figure:
    """An existing figure made to fit one projector screen: a fixed height (the app stretches it to the screen),
    larger type, and the legend in one row below the plot, where no entry is cut or scrolled away."""
    fig = go.Figure(fig)  # a copy: the cached original stays as the other views draw it
    # the legend sits on the figure's bottom edge (container coordinates): below the axis titles whatever height
    # the screen stretches the figure to
    fig.update_layout(height=height, font=BIG, legend=dict(font=dict(size=14), orientation="h", x=0, yref="container",
                                                           y=0, yanchor="bottom", title_text="", tracegroupgap=1),
                      margin=dict(b=110))
    return fig


def _bar_pct(v: float) -> str:
    """A bar's label as the lesson's sentence writes the share: never 0 % for 0.03 % or 100 % for 99.97 %."""
    return "<0.1%" if v < 0.001 else ">99.9%" if v > 0.999 else f"{v:.1%}"


def transplant_bars(probs: dict[str, dict[str, float]], source: str, donor: str, height: int = 400) -> go.Figure:
    """The lesson's gate transplant: per condition (as trained, the donor's gates in the deep stage, in every block)
    the probability of the image's class, of the donor class, and of all the others together.

    probs: condition -> class -> probability (every class)."""
    conditions = list(probs)
    fig = go.Figure()
    for name, colour, values in (
            (source, LOW, [p[source] for p in probs.values()]),
            (donor, HIGH, [p[donor] for p in probs.values()]),
            ("every other class", REST, [max(0.0, 1 - p[source] - p[donor]) for p in probs.values()])):
        fig.add_bar(x=conditions, y=values, name=name, marker_color=colour, text=[_bar_pct(v) for v in values],
                    textposition="outside", hovertemplate=f"{name}: %{{y:.1%}}<extra>%{{x}}</extra>")
    fig.update_layout(barmode="group", height=height, font=BIG, template="plotly_white",
                      yaxis=dict(range=[0, 1.12], title_text="probability", tickformat=".0%"),
                      margin=dict(l=60, r=10, t=30, b=40), legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"))
    return fig
