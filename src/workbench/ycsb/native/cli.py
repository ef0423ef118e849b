"""go-ycsb's command line for the native generator: ``load|run <db> -P f -p k=v --threads N``.

Used by ``workbench ycsb load|run`` and by ``python -m workbench.ycsb.native`` (the form a
Compose ``ycsb`` service runs, so the image needs no console script).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

BINDINGS_HELP = "binding: basic (no I/O) or etcd (v3 JSON gateway)"


def add_client_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags go-ycsb's ``load`` and ``run`` take."""
    parser.add_argument("db", help=BINDINGS_HELP)
    parser.add_argument(
        "-P",
        dest="property_files",
        action="append",
        default=[],
        metavar="FILE",
        help="workload property file (repeatable)",
    )
    parser.add_argument(
        "-p",
        dest="props",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="property override (repeatable, later wins)",
    )
    parser.add_argument("--threads", type=int, help="threadcount")
    parser.add_argument("--target", type=int, help="target ops/s over all threads (0: unlimited)")
    parser.add_argument("--interval", type=int, help="status interval in seconds")
    parser.add_argument("--table", help="table name (default usertable)")
    parser.add_argument("--seed", type=int, help="random seed (default: time)")
    parser.add_argument(
        "--start-on-stdin",
        action="store_true",
        help="after the properties banner, wait for a line on stdin before the first operation "
        "(a controller starts the clock: the start-up overlaps what it waits for)",
    )


def resolve_properties(args: argparse.Namespace) -> dict[str, str]:
    """Files, then ``-p``, then the flags (flags win, as in go-ycsb)."""
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench.ycsb.native.props import load_properties

    files = [f for item in args.property_files for f in item.split(",") if f]
    props = load_properties(files, args.props)
    if args.threads is not None:
        props["threadcount"] = str(args.threads)
    if args.target is not None:
        props["target"] = str(args.target)
    if args.interval is not None:
        props["measurement.interval"] = str(args.interval)
    if args.table:
        props["table"] = args.table
    return props


def run_phase(phase: str, args: argparse.Namespace) -> int:
    """Validate everything, run the phase, print go-ycsb output; 2 on bad input."""
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench.errors import ConfigError, WorkloadError
    from workbench.ycsb.native.client import NativeClient, sigint_stops

    try:
        props = resolve_properties(args)
        gate = _stdin_gate if getattr(args, "start_on_stdin", False) else None
        client = NativeClient(
            args.db, props, phase, seed=args.seed, start_gate=gate, default_processes="auto"
        )
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with sigint_stops(client):
        try:
            report = client.run()
        except WorkloadError as exc:  # the start gate closed: no operation was done
            print(f"error: {exc}", file=sys.stderr)
            return 1
    if report.last_error:
        print(f"last operation error: {report.last_error}", file=sys.stderr)
    return 1 if report.stuck_threads else 0


def _stdin_gate() -> None:
    """Block until the controller writes a line; end of input means it went away."""
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench.errors import WorkloadError

    if not sys.stdin.readline():
        raise WorkloadError(["start gate"], None, "stdin closed before the start line")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m workbench.ycsb.native", description="native YCSB core workload"
    )
    sub = parser.add_subparsers(dest="phase", required=True)
    for phase in ("load", "run"):
        add_client_arguments(sub.add_parser(phase, help=f"YCSB {phase} phase"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_phase(args.phase, args)
