"""Training the small attention ResNets, resumable, with the model card (and, when asked, statistics per epoch).

May import: every library package below the CLI."""
