"""The ablation tables as a chart: accuracy change per stage for each mode (pure: tables in, go.Figure out)."""
from __future__ import annotations

import plotly.graph_objects as go

from se_models.stats.tables import MODE_LABELS, drop_pp, noise_pp, summary_rows

MODE_COLORS = {"identity": "#d62728", "mean": "#1f77b4", "shuffle": "#ff7f0e"}


def ablation_chart(tables: dict, title: str = "") -> go.Figure:
    """Grouped bars: top-1 change (points) per stage and for all blocks, one colour per mode, ±2 SE whiskers."""
    fig = go.Figure()
    for mode, t in tables.items():
        rows = summary_rows(t)
        fig.add_bar(x=[r.label for r in rows], y=[-drop_pp(t, r) for r in rows], name=MODE_LABELS.get(mode, mode),
                    marker_color=MODE_COLORS.get(mode), error_y=dict(type="data", array=[noise_pp(t, r) for r in rows],
                                                                      thickness=1.2, width=3),
                    customdata=[[r.top1 * 100, r.changed * 100] for r in rows],
                    hovertemplate="%{x}: %{y:+.1f} points (top-1 %{customdata[0]:.1f} %, "
                                  "%{customdata[1]:.0f} % of predictions changed)<extra>" + mode + "</extra>")
    any_t = next(iter(tables.values()))
    fig.update_layout(barmode="group", height=380, margin=dict(l=60, r=20, t=60, b=40),
                      title=dict(text=title or f"Top-1 change when SE is switched off (baseline "
                                 f"{any_t.baseline['top1']:.1%}, {any_t.images} images)", font=dict(size=15)),
                      yaxis_title="change in top-1 (points)", legend=dict(orientation="h", y=-0.15),
                      font=dict(family="Inter, Helvetica, Arial, sans-serif", size=13))
    fig.add_hline(y=0, line_color="black", line_width=1)
    return fig
