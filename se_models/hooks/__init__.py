"""Hooks: finding the channel-attention blocks of a model (SE and the other kinds in kinds.py: ECA, CECA, global
context, gather-excite, CBAM), naming them KIND_stage_block, and the one hook manager that every forward pass with
hooks goes through (recorder, analysis, ablation).

May import: se_models.errors / config. Never a model loader (models import this package, not the reverse)."""
