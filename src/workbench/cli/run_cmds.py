"""`workbench run | report | ls | lab`: the main job, its reports, the list of runs, JupyterLab.

Argument parsing and one library call per command: `run` validates every parameter before
anything starts and hands the run to `workbench.run.supervisor` (papermill kernel, prestart,
signals, salvage, exit code).
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from workbench.manifest import DEFAULT_SUBJECT

REPO = Path(__file__).resolve().parents[3]
NOTEBOOKS = REPO / "notebooks"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="the main job: run benchmark.ipynb on a subject, write a run directory and report",
    )
    p.add_argument(
        "--subject",
        default=DEFAULT_SUBJECT,
        help=f"subject name or directory (default: {DEFAULT_SUBJECT})",
    )
    p.add_argument(
        "--workload",
        default="a",
        help="YCSB workload (the subject's workloads/ folder): a 50%% read 50%% update, b 95%% "
        "read 5%% update, c read only, d read latest 5%% insert, e 95%% scan 5%% insert, "
        "f 50%% read 50%% read-modify-write (default: %(default)s)",
    )
    p.add_argument(
        "--tool", help="YCSB tool the subject accepts (native, go-ycsb; default: the subject's)"
    )
    p.add_argument(
        "-p",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a run parameter (threads=8, keep_stack=true) or a YCSB property in YCSB's own "
        "names (recordcount=10000, requestdistribution=zipfian); repeatable",
    )
    p.add_argument("--duration", type=float, help="run phase seconds (default 20)")
    p.add_argument("--threads", type=int, help="client threads per generator (default 4)")
    p.add_argument(
        "--generators",
        type=int,
        help="generator containers sharing the load, started together, results merged (default 1)",
    )
    p.add_argument("--target", type=int, help="target ops/s (default 0 = unthrottled)")
    p.add_argument(
        "--fault",
        dest="faults",
        action="append",
        metavar="ACTION:TARGET@START+DURATION",
        help="a fault in the run phase (kill:leader@10+5, pause:follower@25+3, "
        "partition:etcd1@5+4, loss:20:etcd2@5+3); seconds from the run's start; repeatable",
    )
    p.add_argument("--fault-repeat", type=int, help="inject each --fault N times")
    p.add_argument("--fault-every", type=float, help="seconds between repeats of a --fault")
    p.add_argument(
        "--operator",
        metavar="none|reference|IMAGE[:TAG]",
        help="the operator under test, run beside the cluster from before the load phase: "
        "none (default), reference (the workbench's own) or a local image",
    )
    p.add_argument(
        "--operator-docker",
        action="store_true",
        default=None,
        help="mount the Docker socket into the operator (it is root on this host: only for an "
        "operator you trust); the reference operator needs it to act",
    )
    p.add_argument(
        "--label",
        dest="labels",
        action="append",
        metavar="KEY=VALUE",
        help="a label of the run (commit=abc123, branch=main), kept in run.json; repeatable",
    )
    p.add_argument(
        "--history",
        action="store_true",
        help="after the run, print its verdict against its series (`workbench history`); a "
        "regression makes a passed run exit 1",
    )
    p.add_argument("--results", help="results folder (default: ./results)")
    p.add_argument("--run-id", help="run id (default: UTC time, subject, workload, random)")
    p.add_argument("--keep-stack", action="store_true", default=None, help="leave the stack up")
    p.add_argument("--quiet", action="store_true", help="print only the run directory")
    p.add_argument(
        "--platform",
        default="compose",
        help="compose (default) | kubernetes: checked before anything starts (Kubernetes runs "
        "through `workbench render --apply`)",
    )
    p.add_argument(
        "--no-setup",
        action="store_true",
        help="skip provisioning (engine, Compose, images); by default `workbench setup` runs "
        "first, which is quick when nothing is missing",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("report", help="re-render report.html of a run directory (no stack needed)")
    p.add_argument("run_dir", type=Path, help="a run directory (holds run.json)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "ls", help="list runs: subject, workload, verdict, throughput, service and intended p99"
    )
    p.add_argument("--results", type=Path, default=Path("results"), help="results folder")
    p.add_argument("--index", action="store_true", help="also rewrite results/index.html")
    p.set_defaults(func=cmd_ls)

    p = sub.add_parser("lab", help="start JupyterLab on the notebooks (bound to 127.0.0.1)")
    p.add_argument(
        "--port",
        type=int,
        default=8888,
        help="port on 127.0.0.1 to serve on (default: %(default)s)",
    )
    p.add_argument(
        "--notebooks", type=Path, default=NOTEBOOKS, help="folder to open (default: notebooks/)"
    )
    p.set_defaults(func=cmd_lab)


def cmd_run(args: argparse.Namespace) -> int:
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench.manifest import load_manifest
    from workbench.params import run_params_from_cli
    from workbench.run import supervisor
    from workbench.stack import platforms

    platforms.require_run(args.platform)  # before parameters, setup or any stack
    params = run_params_from_cli(
        args.assignments,
        subject=args.subject,
        workload=args.workload,
        tool=args.tool,
        duration=args.duration,
        threads=args.threads,
        generators=args.generators,
        target=args.target,
        results_dir=args.results,
        run_id=args.run_id,
        keep_stack=args.keep_stack,
        faults=args.faults,
        fault_repeat=args.fault_repeat,
        fault_every=args.fault_every,
        operator=args.operator,
        operator_docker=args.operator_docker,
        labels=args.labels,
    )
    supervisor.check_results_dir(Path(params.results_dir))  # before anything is installed
    if not args.no_setup:  # a fresh machine: engine, Compose, base and subject images
        from workbench import provision

        say = (lambda _m: None) if args.quiet else (lambda m: print(f"setup: {m}", flush=True))
        manifest = load_manifest(params.subject)
        tool = params.tool or (manifest.ycsb.tool if manifest.ycsb else "")
        provision.setup([manifest], say, tools=[tool] if tool else [])
    code = supervisor.run(params, quiet=args.quiet)
    if args.history:  # the newest run against its series; only a regression changes a pass
        from workbench.cli.history_cmds import print_newest_verdict

        verdict = print_newest_verdict(Path(params.results_dir))
        return 1 if code == 0 and verdict == 1 else code
    return code


def cmd_report(args: argparse.Namespace) -> int:
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench import report

    out = report.render(args.run_dir)
    report.render_index(args.run_dir.resolve().parent)
    print(out)
    return 0


def cmd_ls(args: argparse.Namespace) -> int:
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench import report

    runs = report.list_runs(args.results)
    if args.index:
        report.render_index(args.results)
    if not runs:
        print(f"no runs in {args.results}")
        return 0
    print(report.format_runs(runs))
    return 0


def cmd_lab(args: argparse.Namespace) -> int:
    """JupyterLab on 127.0.0.1 with a fresh token (printed in the URL); as root (containers, CI
    machines) Jupyter refuses to start unless told, so it is told."""
    token = secrets.token_hex(24)
    argv = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={args.port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={args.notebooks}",
        f"--IdentityProvider.token={token}",
        "--no-browser",
        # no news feed and no update check fetched: nothing leaves the machine
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if os.geteuid() == 0:
        argv.append("--allow-root")
    print(f"JupyterLab on http://127.0.0.1:{args.port}/lab?token={token}", flush=True)
    print(f"(notebooks in {args.notebooks}; Ctrl-C stops it)", flush=True)
    return serve(argv, cwd=REPO)


def serve(argv: list[str], cwd: Path, grace_s: float = 10.0) -> int:
    """Run a server child until it ends; Ctrl-C or SIGTERM (`kill <pid>` of this process) stops
    it with its own children (SIGTERM, then SIGKILL after `grace_s`), so none is left serving."""

    def terminated(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    child = subprocess.Popen(argv, cwd=cwd)
    old = signal.signal(signal.SIGTERM, terminated)
    try:
        return child.wait()
    except KeyboardInterrupt:
        child.terminate()
        try:
            child.wait(grace_s)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        return 0
    finally:
        signal.signal(signal.SIGTERM, old)
