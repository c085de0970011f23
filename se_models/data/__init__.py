"""Data: datasets and the bundled samples, validated images, safe archives.

May import: se_models.errors / config / offline only."""
