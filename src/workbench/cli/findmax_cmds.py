"""`workbench findmax`: the highest throughput a target sustains under a latency objective, as an
interval (`workbench.run.findmax`; the search itself is `workbench.capacity`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "findmax",
        help="capacity search: the highest sustained ops/s with a latency percentile under a bound",
    )
    p.add_argument("--slo", required=True, help="objective on intended-time latency: p99=50ms, "
                   "READ:p99.9<=20ms (any percentile in (0, 100), TOTAL or one operation)")  # fmt: skip
    p.add_argument("--subject", default="etcd", help="subject (default etcd; with --binding: "
                   "where the workload files come from)")  # fmt: skip
    p.add_argument("--workload", default="a", help="YCSB workload letter (default a)")
    p.add_argument("--binding", default="", choices=["", "basic"],
                   help="basic: the native generator's basic binding, no stack")  # fmt: skip
    p.add_argument("-p", dest="props", action="append", default=[], metavar="KEY=VALUE",
                   help="a YCSB property (basicdb.simulatedelay=10); repeatable")  # fmt: skip
    p.add_argument("--threads", type=int, default=8, help="client threads (default 8)")
    p.add_argument("--recordcount", type=int, default=1000, help="records loaded (default 1000)")
    p.add_argument("--max-errors", type=float, default=0.0,
                   help="share of operations allowed to fail per probe (default 0)")  # fmt: skip
    p.add_argument("--probe-duration", type=float, default=10.0, help="seconds per probe (10)")
    p.add_argument("--start", type=float, help="first rate, ops/s (default: half of an "
                   "unthrottled probe's rate, measured twice: the noise)")  # fmt: skip
    p.add_argument("--precision", type=float, default=0.05,
                   help="stop when the bracket is narrower than this share (default 0.05)")  # fmt: skip
    p.add_argument("--repeats", type=int, default=3, help="re-runs of the final bracket (3)")
    p.add_argument("--max-probes", type=int, default=30, help="at most this many probes (30)")
    p.add_argument("--tolerate-host", action="store_true", help="judge probes on a busy "
                   "(shared) host instead of calling them unknown; recorded in capacity.json")  # fmt: skip
    p.add_argument("--results", type=Path, default=Path("results"), help="results folder")
    p.add_argument("--resume", action="store_true", help="continue the unfinished search")
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    p.add_argument("--no-setup", action="store_true", help="skip provisioning")
    p.set_defaults(func=cmd_findmax)


def cmd_findmax(args: argparse.Namespace) -> int:
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench.run import findmax

    params = findmax.build_params(
        slo=args.slo, subject=args.subject, workload=args.workload, binding=args.binding,
        props=args.props, threads=args.threads, recordcount=args.recordcount,
        max_errors=args.max_errors, probe_duration=args.probe_duration, start=args.start,
        precision=args.precision, repeats=args.repeats, max_probes=args.max_probes,
        tolerate_host=args.tolerate_host, results_dir=args.results, resume=args.resume,
    )  # fmt: skip
    manifest = findmax.check_params(params)  # every problem before anything starts
    if not args.no_setup and not params.binding:
        from workbench import provision

        provision.setup([manifest], lambda m: None if args.json else print(f"setup: {m}"))
    say = (lambda _m: None) if args.json else (lambda m: print(m, flush=True))
    path, doc = findmax.findmax(params, progress=say)
    if args.json:
        print(json.dumps(doc.as_json(), indent=2))
    else:
        print(doc.headline())
        for note in doc.notes:
            print(f"  note: {note}")
        print(path / "report.html")
    return doc.exit_code()
