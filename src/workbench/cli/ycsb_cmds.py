"""`workbench ycsb load|run|parse`: the native YCSB generator and the YCSB output parser."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench.ycsb.native.cli import add_client_arguments

    ycsb = sub.add_parser("ycsb", help="native YCSB generator (go-ycsb command line) and parser")
    ysub = ycsb.add_subparsers(dest="ycsb_command", metavar="SUBCOMMAND", required=True)
    for phase in ("load", "run"):
        p = ysub.add_parser(
            phase,
            help=f"YCSB {phase} phase: <db> -P file -p key=value --threads N --target OPS",
        )
        add_client_arguments(p)
        p.set_defaults(func=cmd_load if phase == "load" else cmd_run)
    p = ysub.add_parser("parse", help="parse YCSB output (go-ycsb any style, Java YCSB, raw CSV)")
    p.add_argument("file", help="log file, or - for stdin")
    p.add_argument("--json", action="store_true", help="print {final, intervals, run_seconds}")
    p.add_argument("--interval", type=float, help="status interval in seconds (default: from log)")
    p.set_defaults(func=cmd_parse)


def cmd_load(args: argparse.Namespace) -> int:
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench.ycsb.native.cli import run_phase

    return run_phase("load", args)


def cmd_run(args: argparse.Namespace) -> int:
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench.ycsb.native.cli import run_phase

    return run_phase("run", args)


def cmd_parse(args: argparse.Namespace) -> int:
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench.errors import ConfigError
    from workbench.ycsb.parser import parse

    if args.file == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(args.file).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise ConfigError(f"cannot read {args.file}: {exc}") from exc
    result = parse(text, interval_s=args.interval)
    if not (result.final or result.status_blocks or result.styles):
        raise ConfigError(f"{args.file}: no YCSB output recognised (go-ycsb, Java YCSB or raw)")
    if args.json:
        print(json.dumps(result.to_json_dict(), indent=2))
        return 0
    _print_human(result)
    return 0


def _print_human(result: Any) -> None:
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    import pandas as pd

    styles = ", ".join(result.styles) or "none recognised"
    print(f"styles: {styles}; final block: {'yes' if result.complete else 'no (truncated?)'}")
    if result.run_seconds is not None:
        print(f"run_seconds: {result.run_seconds:.3f}")
    with pd.option_context("display.max_columns", None, "display.width", 200):
        if result.final:
            print(result.final_frame().to_string(index=False))
        if result.intervals:
            print(f"\nintervals ({len(result.intervals)} rows):")
            print(result.intervals_frame().to_string(index=False))
    if result.target is not None:
        t = result.target
        print(
            f"\ntarget: {t.target_ops} ops/s, achieved {t.achieved_ops} ops/s,"
            f" behind {t.behind_pct}%, max lag {t.max_lag_ms} ms"
        )
    if result.unknown_lines:
        print(f"\n{len(result.unknown_lines)} unrecognised line(s) kept")
