"""Layout touch-ups of se_models figures for a projector (pure: figure in, same figure out)."""
from __future__ import annotations


def profile(fig):
    """Excitation profile: the legend goes under the panels, where it cannot cover the title."""
    fig.update_layout(legend=dict(orientation="h", x=0.5, xanchor="center", y=-0.03, yanchor="top"),
                      margin=dict(b=70))
    return fig


def feature_maps(fig, block: str, k: int):
    """Feature maps: a title that fits, larger channel labels, the row labels on the left where reading starts."""
    fig.update_layout(title=dict(text=f"{block}: the {k} most amplified (▲) and {k} most suppressed (▼) channels"),
                      margin=dict(l=90, t=110), height=420)
    for ann in fig.layout.annotations:
        if ann.text in ("before: U", "after: s·U"):
            ann.update(x=-0.01, xanchor="right", textangle=-90, font=dict(size=14))
        else:  # "▲ ch 15 · s=0.87" on two lines: on one they run into each other at k = 4
            ann.update(text=ann.text.replace(" · ", "<br>"), font=dict(size=13))
    return fig


def class_curves(fig, legend_below: bool = False):
    """Fig. 6: panel titles on two lines (they overlap on narrow panels), a short legend title."""
    for ann in fig.layout.annotations:
        if "divergence" in ann.text:
            ann.update(text=ann.text.replace("  ·  ", "<br>"), font=dict(size=14))
    fig.update_layout(legend_title_text="class<br><sup>click: hide · double-click: isolate</sup>",
                      margin=dict(t=110))
    # x-axis titles only under the bottom row: elsewhere they collide with the next row's panel titles
    for name in fig.layout:
        if name.startswith("xaxis"):
            axis = fig.layout[name]
            y = fig.layout["yaxis" + axis.anchor[1:]]
            if y.domain and y.domain[0] > 0.01:
                axis.title.text = ""
    if legend_below:
        fig.update_layout(legend=dict(orientation="h", x=0, y=-0.22, yanchor="top", title_text=""),
                          height=fig.layout.height + 90, margin=dict(b=40))
    return fig


def depth(fig):
    """Specificity vs depth: block names at 45 degrees, so nine of them fit under each panel."""
    fig.update_xaxes(tickangle=-45, tickfont=dict(size=12))
    fig.update_layout(legend=dict(y=-0.3), height=460)
    # statistics of an untrained model computed live are its main series: say so instead of "trained"
    fig.for_each_trace(lambda t: t.update(name=t.name.replace(" (untrained) — trained", " — untrained"),
                                          hovertemplate=t.hovertemplate.replace(" (untrained) — trained",
                                                                                " — untrained")))
    return fig
