"""How the gates learned, as figures: class divergence over (epoch, block) as a heat map with each cell's verdict
marked, and the test accuracy above it (pure: an EpochHistory in, go.Figure out)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from se_models.findings import numbers as num
from se_models.findings.epochs import became_learned, starts_at_control
from se_models.findings.readings import verdict_words
from se_models.plots.figures import FONT


def divergence_heatmap(history, selected: int | None = None, height: int = 520, title: str | None = None,
                       accuracy: bool = True) -> go.Figure:
    """Blocks (shallow at the bottom, deep at the top) x epochs, coloured by class divergence; ● = learned (above
    chance and above the untrained control), ○ = above chance only, nothing = not distinguishable from chance.
    The epoch `selected` (the slider's) is outlined. With test accuracies (and accuracy=True), a line above the
    map."""
    blocks = history.blocks()
    epochs = history.numbers
    stats = [history.at(e) for e in epochs]
    z = np.array([[b.divergence for b in s.blocks] for s in stats]).T  # (blocks, epochs)
    words = [[verdict_words(b, s.untrained) for b in s.blocks] for s in stats]
    ci = [[num.interval(b.divergence_ci) or "" for b in s.blocks] for s in stats]
    chance = [[num.units(b.divergence_null[1]) if b.divergence_null else "–" for b in s.blocks] for s in stats]
    text = [["●" if b.learned else "○" if b.above_chance else "" for b in s.blocks] for s in stats]  # (epochs, blocks)
    hover = np.array([[f"{blocks[j]} · epoch {e}<br>divergence {num.units(z[j, i])}{ci[i][j]}<br>chance (99th pct of "
                       f"shuffles) {chance[i][j]}<br>{words[i][j]}" for i, e in enumerate(epochs)]
                      for j in range(len(blocks))])
    history_accuracy = [e.test_accuracy for e in history.epochs]
    with_acc = accuracy and any(a is not None for a in history_accuracy)
    fig = make_subplots(2 if with_acc else 1, 1, shared_xaxes=True, row_heights=[0.18, 0.82] if with_acc else None,
                        vertical_spacing=0.03)
    row = 2 if with_acc else 1
    fig.add_trace(go.Heatmap(
        x=epochs, y=blocks, z=z, colorscale="Viridis", zmin=0, customdata=hover,
        hovertemplate="%{customdata}<extra></extra>", showlegend=False,
        colorbar=dict(title=dict(text="divergence<br>(gate units)", side="right"), len=0.8 if with_acc else 1,
                      y=0.41 if with_acc else 0.5, thickness=14), xgap=1, ygap=1), row, 1)
    # each cell's verdict as a mark over it, white on dark cells and black on bright ones (Viridis turns light
    # above about 60 % of its range)
    cells = [(e, b, text[i][j], z[j, i]) for i, e in enumerate(epochs) for j, b in enumerate(blocks) if text[i][j]]
    top = float(z.max()) or 1.0
    fig.add_trace(go.Scatter(x=[c[0] for c in cells], y=[c[1] for c in cells], text=[c[2] for c in cells],
                             mode="text", hoverinfo="skip", showlegend=False,
                             textfont=dict(size=15, color=["black" if c[3] > 0.6 * top else "white" for c in cells])),
                  row, 1)
    if with_acc:
        fig.add_trace(go.Scatter(x=epochs, y=[None if a is None else 100 * a for a in history_accuracy],
                                 mode="lines+markers",
                                 line=dict(color="#444", width=2), marker=dict(size=6), showlegend=False,
                                 hovertemplate="epoch %{x}: test accuracy %{y:.2f} %<extra></extra>"), 1, 1)
        fig.update_yaxes(title_text="test acc. %", row=1, col=1, title_font=dict(size=12))
    if selected is not None and selected in epochs:
        fig.add_vrect(x0=selected - 0.5, x1=selected + 0.5, line=dict(color="#d62728", width=3), row=row, col=1)
    when = became_learned(history)
    fig.update_yaxes(tickvals=blocks, ticktext=[f"{b}  (from {when[b]})" if when.get(b) is not None else b
                                                for b in blocks], row=row, col=1)
    start = "the initialisation, the untrained control itself" if starts_at_control(history) else "the start"
    fig.update_xaxes(title_text=f"epoch ({epochs[0]} = {start})", tickvals=epochs, row=row, col=1,
                     range=[epochs[0] - 0.5, epochs[-1] + 0.5])
    fig.update_layout(title=dict(text=(title or f"How the gates learned — {history.model}") + "<br><sup>class "
                                 "divergence per block and epoch · ● learned · ○ above chance only · (from e): "
                                 "learned from epoch e on</sup>"),
                      height=height, font=FONT, template="plotly_white", margin=dict(l=150, r=20, t=80, b=40))
    return fig
