"""Session and URL state: typed model keys, the URL as shareable state, the caches, the images a user chose.

May import: dashboard.safety, dashboard.wording, and se_models."""
