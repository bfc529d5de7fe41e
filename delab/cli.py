"""`delab`: the one command line of the course (data, doctor, and the grader's commands)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__


def build_parser() -> argparse.ArgumentParser:
    """The `delab` parser with every subcommand registered."""
    parser = argparse.ArgumentParser(prog="delab", description="Tools of the data-engineering course.")
    parser.add_argument("--version", action="version", version=f"delab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from delab_data.cli import add_commands as data_commands

    from .doctor import add_commands as doctor_commands
    from .services.cli import add_commands as services_commands

    data_commands(sub)
    doctor_commands(sub)
    services_commands(sub)
    _grader_commands(sub)
    return parser


def _grader_commands(sub: argparse._SubParsersAction) -> None:
    try:
        from delab_grader.cli import add_commands
    except ImportError:  # the grader is optional for the data tools
        return
    add_commands(sub)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted: nothing half-written was kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
