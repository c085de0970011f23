"""Findings: every sentence the tool says about data, each computed from the numbers it reads, with a case in the
tests where it comes out the other way (tests/test_truth.py).

core: Finding (claim, holds, numbers, sentence; plain or Markdown); numbers: how every number is written;
readings: the statistics (above chance? learned? how much? the paper's pattern across depth, Compare, the table);
lesson: the guided lesson's steps; ablation: what switching gates off costs; image: one image (gates, profile,
true class, Grad-CAM); methods: the randomisation check and faithfulness.

May import: se_models.stats.significance / tables (the numbers' rules), se_models.hooks.naming (block names),
numpy. No torch, no plotting, no Streamlit: a finding is numbers in, typed claim and words out."""
from se_models.findings.core import Finding, em, pick, render

__all__ = ["Finding", "em", "pick", "render"]
