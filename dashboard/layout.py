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
                      margin=dict(l=90))
    for ann in fig.layout.annotations:
        if ann.text in ("before: U", "after: s·U"):
            ann.update(x=-0.01, xanchor="right", textangle=-90, font=dict(size=14))
        else:
            ann.font.size = 13
    return fig
