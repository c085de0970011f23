"""Plotly figure of the deletion / insertion curves (pure function: Faithfulness in, go.Figure out)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from se_models.explain.lenses import METHODS
from se_models.plots.figures import FONT, PALETTE


def faithfulness_curves(f, label: str = "") -> go.Figure:
    """Deletion (left) and insertion (right): each method's curve, the random maps as a grey band (min..max)."""
    fig = make_subplots(1, 2, subplot_titles=["Deletion: most important pixels removed first (lower is better)",
                                              "Insertion: most important pixels revealed first (higher is better)"],
                        horizontal_spacing=0.08)
    for col, which in ((1, "deletion"), (2, "insertion")):
        x = f.random[0].fractions
        r = np.array([getattr(c, which) for c in f.random])  # (n_random, S)
        fig.add_trace(go.Scatter(x=np.r_[x, x[::-1]], y=np.r_[r.max(0), r.min(0)[::-1]], fill="toself",
                                 fillcolor="rgba(120,120,120,0.25)", line=dict(width=0), hoverinfo="skip",
                                 name=f"random maps ({len(f.random)})", showlegend=col == 1), 1, col)
        for i, (m, c) in enumerate(f.curves.items()):
            auc = getattr(c, f"{which}_auc")
            fig.add_trace(go.Scatter(x=c.fractions, y=getattr(c, which), mode="lines+markers", marker_size=4,
                                     line=dict(color=PALETTE[i], width=2.5), name=METHODS[m], showlegend=col == 1,
                                     hovertemplate=f"{METHODS[m]}<br>%{{x:.0%}} of pixels: p = %{{y:.3f}}"
                                                   f"<br>AUC {auc:.3f}<extra></extra>"), 1, col)
        fig.update_xaxes(title_text="fraction of pixels", tickformat=".0%", row=1, col=col)
    fig.update_yaxes(title_text=f"probability of {label}" if label else "class probability", range=[0, 1.02],
                     row=1, col=1)
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    fig.update_layout(height=380, margin=dict(l=60, r=20, t=50, b=50), font=FONT, template="plotly_white",
                      legend=dict(orientation="h", y=-0.22, x=0.5, xanchor="center"))
    fig.update_annotations(font_size=14)
    return fig
