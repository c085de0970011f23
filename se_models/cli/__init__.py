"""The command line: `python -m se_models COMMAND`, one module per command.

May import: the whole library; nothing imports the CLI."""
