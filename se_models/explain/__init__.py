"""Explaining one image: the one-pass analysis (probabilities, z, s, Grad-CAM at every stage), overlays, the other
lenses, the sanity check and faithfulness.

May import: se_models.models, se_models.hooks, se_models.data, se_models.errors / config."""
