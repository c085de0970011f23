"""What a browser user may reach and spend: allowed roots, uploads, budgets, the hidden self-check.

May import: se_models only."""
