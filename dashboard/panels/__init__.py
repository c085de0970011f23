"""Panels shared by several pages: the sidebar, statistics downloads, the ablation and teaching panels.

May import: dashboard.state, dashboard.safety, dashboard.ui / exports / wording, and se_models."""
