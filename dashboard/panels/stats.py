"""Statistics shown in more than one view (Classes, Compare): channel choices, a control shown on its own, downloads."""
from __future__ import annotations

import streamlit as st

from dashboard import exports
from se_models.stats.excitation import ExcitationStats

CHANNELS = {"sampled": "50 uniform (paper)", "variable": "50 most class-dependent", "all": "all"}


def stats_for(stats: ExcitationStats, control: bool) -> ExcitationStats | None:
    """Reference statistics as shown for a model key: the control's blocks become the main ones."""
    return stats.control_only() if control else stats


def stats_downloads(stats: ExcitationStats, key: str, label: str) -> None:
    """CSV (block metrics, class means) and JSON of one ExcitationStats; `label` (the model as shown) names
    the files."""
    stem = exports.slug(f"{label}_{stats.data}")
    with st.container(horizontal=True):
        st.download_button("Metrics per block (CSV)", lambda: stats.metrics_csv(), f"{stem}_metrics.csv",
                           "text/csv", key=f"{key}_metrics", icon=":material/download:", on_click="ignore")
        st.download_button("Class means per channel (CSV)", lambda: stats.class_means_csv(),
                           f"{stem}_class_means.csv", "text/csv", key=f"{key}_means", icon=":material/download:",
                           on_click="ignore")
        st.download_button("All statistics (JSON)", lambda: stats.to_json(), f"{stem}.json",
                           "application/json", key=f"{key}_json", icon=":material/download:", on_click="ignore")
