"""The command table: every command module registers its `run(args)` with @command; the parser is built from the
table, and main() is the one place where a typed error becomes an `error: ...` line."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass

from se_models.errors import SEExplorerError
from se_models.models.device import DEVICES


@dataclass(frozen=True)
class Command:
    """One subcommand: its name and help, the function that runs it, and the model options the table adds to it."""
    name: str
    help: str
    run: Callable[[argparse.Namespace], int]  # the exit code
    runs_model: bool  # loads a model by name: --model and (unless weights is False) --weights
    weights: bool     # takes --weights (a checkpoint, or 'random')
    device: bool      # takes --device (every command that runs a model, and train)


COMMANDS: dict[str, Command] = {}  # name -> command, in registration order (the order --help lists them)


def command(name: str, *, help: str, runs_model: bool = False, weights: bool = True, device: bool | None = None):
    """Register the decorated `run(args) -> exit code` as subcommand `name`; its module's `add_arguments(parser)`,
    if it has one, adds the command's own options. runs_model: --model, --weights and --device are added here, the
    same for every command (weights=False: no --weights; device: --device for a command that runs no named model)."""
    def register(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        if name in COMMANDS:
            raise ValueError(f"two commands named {name!r}: {COMMANDS[name].run.__module__} and {run.__module__}")
        COMMANDS[name] = Command(name, help, run, runs_model, runs_model and weights,
                                 runs_model if device is None else device)
        return run
    return register


def add_model_arguments(parser: argparse.ArgumentParser, cmd: Command) -> None:
    """--model, --weights and --device, as the command's table entry asks."""
    if cmd.runs_model:
        parser.add_argument("--model", default=None, help="model name (default: the default model)")
    if cmd.weights:
        parser.add_argument("--weights", default=None,
                            help="a local checkpoint, or 'random' for the untrained control")
    if cmd.device:
        parser.add_argument("--device", default="cpu", choices=DEVICES,
                            help="cpu (default) | cuda | mps | auto (the best available)")


def build_parser() -> argparse.ArgumentParser:
    """`python -m se_models COMMAND ...`, one subparser per registered command."""
    parser = argparse.ArgumentParser(prog="python -m se_models",
                                     description=f"The command line: python -m se_models {' | '.join(COMMANDS)}.")
    sub = parser.add_subparsers(dest="command", required=True)
    for cmd in COMMANDS.values():
        sp = sub.add_parser(cmd.name, help=cmd.help)
        add_model_arguments(sp, cmd)
        own = getattr(sys.modules[cmd.run.__module__], "add_arguments", None)
        if own is not None:
            own(sp)
        sp.set_defaults(run=cmd.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` (default: the process's arguments) and run the command; its exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (SEExplorerError, OSError) as err:  # the user's input (or an unwritable --out); anything else is a bug
        print(f"error: {err}", file=sys.stderr)
        return 2
