"""Command line: a thin layer that parses arguments and calls one library function per command.

Each command module exposes `register(subparsers)`; handlers are `func(args) -> int`.
Heavy libraries are imported inside handlers so that `workbench --help`, the probe and the native
YCSB generator start fast (and run in the slim workbench image).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from workbench import __version__
from workbench.errors import WorkbenchError

# The exit-code contract (README: Exit codes): 0 passed, 1 a check failed, 2 unknown (none failed,
# some could not be verified), 3 an error of the workbench or its input, 130/143 interrupted by
# SIGINT/SIGTERM, so a shell loop stops.
EXIT_ERROR = 3
EXIT_BROKEN_PIPE = 141  # what a shell reports for a command a closed pipe stopped (128 + SIGPIPE)

COMMAND_MODULES = [
    "workbench.cli.stack_cmds",
    "workbench.cli.ycsb_cmds",
    "workbench.cli.verify_cmds",
    "workbench.cli.run_cmds",
    "workbench.cli.campaign_cmds",
    "workbench.cli.history_cmds",
    "workbench.cli.operator_cmds",
    "workbench.cli.kube_cmds",
    "workbench.cli.findmax_cmds",
]


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on a bad argument; here 2 means "unknown": bad input is 3."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="workbench",
        description="Benchmark workbench for distributed key-value stores.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_ERROR
    try:
        code = int(func(args))
        sys.stdout.flush()  # a reader gone away (`| head`) shows here, not at interpreter exit
        return code
    except BrokenPipeError:  # the reader of the output went away: no traceback, as with SIGPIPE
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except WorkbenchError as exc:  # the workbench or its input: 3, never a verdict's code
        print(f"workbench: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
