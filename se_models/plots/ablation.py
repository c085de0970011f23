"""The ablation tables as charts: accuracy change per stage for each mode, and the gate transplant's moved share
against its control (pure: tables in, go.Figure out)."""
from __future__ import annotations

import plotly.graph_objects as go

from se_models.stats.tables import CONTROL_SUFFIX, MODE_LABELS, accuracy_tables, drop_pp, noise_pp, summary_rows

MODE_COLORS = {"identity": "#d62728", "mean": "#1f77b4", "shuffle": "#ff7f0e"}
FONT = dict(family="Inter, Helvetica, Arial, sans-serif", size=13)


def ablation_chart(tables: dict, title: str = "") -> go.Figure:
    """Grouped bars: top-1 change (points) per stage and for all blocks, one colour per mode, ±2 SE whiskers (the
    accuracy modes only: the transplant has its own chart)."""
    tables = accuracy_tables(tables)
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
                      font=FONT)
    fig.add_hline(y=0, line_color="black", line_width=1)
    return fig


def _ci_bars(values, cis) -> dict:
    """Asymmetric whiskers (percent) from [low, high] intervals."""
    return dict(type="data", symmetric=False, array=[(hi - v) * 100 for v, (_, hi) in zip(values, cis)],
                arrayminus=[(v - lo) * 100 for v, (lo, _) in zip(values, cis)], thickness=1.2, width=3)


def transplant_chart(tables: dict, title: str = "") -> go.Figure:
    """Grouped bars per row (stage, all blocks): the share of (image, class) pairs moved to the donor class, the
    same with the image's own class mean (the control), and, when stored, the untrained network's moved share;
    95 % Wilson whiskers."""
    t = tables["transplant"]
    rows = summary_rows(t)
    series = [("another class's gates: moved to it", "#d62728", [r.moved for r in rows], [r.moved_ci for r in rows]),
              ("own class's gates (control)", "#7f7f7f", [r.moved_control for r in rows],
               [r.moved_control_ci for r in rows])]
    ctrl = tables.get("transplant" + CONTROL_SUFFIX)
    if ctrl is not None:
        crows = [ctrl.row(r.label) for r in rows]
        series.append(("untrained network: moved", "#c5b0d5", [r.moved for r in crows], [r.moved_ci for r in crows]))
    fig = go.Figure()
    for name, colour, values, cis in series:
        fig.add_bar(x=[r.label for r in rows], y=[v * 100 for v in values], name=name, marker_color=colour,
                    error_y=_ci_bars(values, cis), hovertemplate="%{x}: %{y:.2f} %<extra>" + name + "</extra>")
    fig.update_layout(barmode="group", height=360, margin=dict(l=60, r=20, t=60, b=40), font=FONT,
                      title=dict(text=title or f"Predictions moved to the donor class ({t.images} images × "
                                 f"{t.donors} donor classes)", font=dict(size=15)),
                      yaxis_title="moved to the donor (%)", legend=dict(orientation="h", y=-0.15))
    return fig
