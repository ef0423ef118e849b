"""Command line: a thin layer that parses arguments and calls one library function per command.

Each command module exposes `register(subparsers)`; handlers are `func(args) -> int`.
Heavy libraries are imported inside handlers so that `workbench --help`, the probe and the native
YCSB generator start fast (and run in the slim workbench image).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from workbench import __version__
from workbench.errors import WorkbenchError

COMMAND_MODULES = [
    "workbench.cli.stack_cmds",
    "workbench.cli.ycsb_cmds",
    "workbench.cli.verify_cmds",
    "workbench.cli.run_cmds",
    "workbench.cli.campaign_cmds",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
        return 2
    try:
        return int(func(args))
    except WorkbenchError as exc:
        print(f"workbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
