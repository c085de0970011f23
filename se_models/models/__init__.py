"""Models: the small attention ResNets, the registry (names -> cards -> LoadedModel), timm's zoo, checkpoints, devices.

May import: se_models.hooks, se_models.data, se_models.errors / config / offline."""
