"""Statistics over many images: streaming class-wise sums, chance baselines and intervals, merging across processes,
and the ablation tables.

May import: se_models.hooks, se_models.data, se_models.errors / config; models only as types (statistics never load
a model themselves)."""
