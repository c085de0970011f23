"""Plots: plotly figure builders, pure functions from numbers to go.Figure.

May import: se_models.stats, se_models.findings, se_models.hooks (block names), se_models.errors / config."""
