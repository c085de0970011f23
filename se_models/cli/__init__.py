"""The command line: `python -m se_models COMMAND`, one module per command, each registering itself in the table of
se_models.cli.registry; `main(argv)` runs one, `build_parser()` is the parser built from the table.

May import: the whole library; nothing imports the CLI."""
# isort: off
# imported to register themselves: the order here is the order --help lists the commands
from se_models.cli import models, predict, gradcam, explain, sanity, faithfulness  # noqa: F401
from se_models.cli import stats, channel, epochs, train, samples, reference, download, ablate, kinds  # noqa: F401
# isort: on
from se_models.cli.registry import build_parser, main

__all__ = ["build_parser", "main"]
