"""litmeta's command line (Contract 2 of DESIGN.md): parse arguments, call the library, render with rich.

Data goes to stdout or the ``-o`` file; messages and progress go to stderr.
Exit codes: 0 success, 1 some inputs failed (each named with its reason), 2 bad usage.
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad usage the user can fix: one line on stderr, exit 2."""


def _stderr():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


# ---------------------------------------------------------------------------------------------
# Each command is a pair: ``add_<name>(subparsers)`` registers its arguments and sets
# ``func``; the function returns the exit code. Register new commands in COMMANDS below.
# ---------------------------------------------------------------------------------------------


COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []


def command(register: Callable[[argparse._SubParsersAction], None]):
    COMMANDS.append(register)
    return register


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="litmeta",
        description="Clinical papers to pooled evidence: extract study rows with proof, pool them as metafor does.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in COMMANDS:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its usage line
        return int(exc.code or 0) and EXIT_USAGE
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        _stderr().print(f"litmeta {args.command}: {exc}", markup=False)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


# ---------------------------------------------------------------------------------------------
# Commands (each helper adds its own block here; keep blocks independent)
# ---------------------------------------------------------------------------------------------


if __name__ == "__main__":
    sys.exit(main())
