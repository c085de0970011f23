"""Findings: every sentence the tool says about data, each computed from the numbers it reads, with a case in the
tests where it comes out the other way.

May import: se_models.stats (the numbers), se_models.hooks (block names), se_models.errors / config. No torch, no
plotting, no Streamlit: a finding is numbers in, typed claim and words out."""
