"""`workbench campaign FILE` and `workbench compare A B ...`: repeated runs and their statistics.

Each run of a campaign goes through the same supervisor as `workbench run` (a papermill kernel,
its own run directory and report), or, with `stack = "per-campaign"`, runs in this process
attached to one stack held for the campaign (`run.attached.HeldStack`); the statistics and the campaign report are `workbench.campaign`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("campaign", help="run a campaign file: repeated, ordered runs + statistics")
    p.add_argument("file", type=Path, help="the campaign TOML file")
    p.add_argument("--results", type=Path, default=Path("results"), help="results folder")
    p.add_argument("--resume", action="store_true", help="continue the unfinished campaign")
    p.add_argument("--no-setup", action="store_true", help="skip provisioning")
    p.set_defaults(func=cmd_campaign)

    p = sub.add_parser("compare", help="compare run or campaign directories (benchstat style)")
    p.add_argument("dirs", nargs="+", type=Path, help="run directories or campaign directories")
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    p.set_defaults(func=cmd_compare)


def cmd_campaign(args: argparse.Namespace) -> int:
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench.campaign import compare, session
    from workbench.campaign.runner import run_campaign
    from workbench.run import supervisor

    store = session.open_campaign(args.file, args.results, resume=args.resume)
    if not args.no_setup:
        from workbench import provision
        from workbench.manifest import load_manifest

        provision.setup([load_manifest(store.file.subject)], lambda m: print(f"setup: {m}"))
    if store.file.stack == "per-campaign":  # one stack, every run attached to it
        from workbench.manifest import load_manifest
        from workbench.run.attached import HeldStack

        with HeldStack(load_manifest(store.file.subject), store.path, progress=print) as held:
            table = run_campaign(store, held.execute, progress=print)
    else:
        table = run_campaign(store, supervisor.execute_run, progress=print)
    print(compare.format_table(table))
    print(store.path / "report.html")
    if store.record.rerun_summary():
        print(store.record.rerun_summary())
    left = compare.unknown(table)
    for line in left:  # too few runs for a verdict: the campaign could not tell (exit 2)
        print(f"unknown: {line}")
    return 2 if left else 0


def cmd_compare(args: argparse.Namespace) -> int:
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench.campaign import compare

    table = compare.compare(list(args.dirs))
    print(json.dumps(table.to_json(), indent=2) if args.json else compare.format_table(table))
    return 0
