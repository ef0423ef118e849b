"""`workbench setup|doctor|up|down|status|logs|probe`: provisioning and stack lifecycle."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any


def _progress(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _subject_arg(p: argparse.ArgumentParser) -> None:
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench.manifest import DEFAULT_SUBJECT

    p.add_argument(
        "--subject",
        default=DEFAULT_SUBJECT,
        help="subject name or directory (default: %(default)s)",
    )


def register(sub: Any) -> None:
    p = sub.add_parser("setup", help="install/start what stacks need (engine, Compose, images)")
    p.add_argument(
        "--subject",
        action="append",
        help="subject whose images to build (repeatable; default etcd)",
    )
    p.add_argument(
        "--tool",
        action="append",
        help="YCSB tool to provision (repeatable): go-ycsb is built from the Go module proxy",
    )
    p.add_argument("--no-images", action="store_true", help="engine and Compose only")
    p.set_defaults(func=cmd_setup)

    p = sub.add_parser("doctor", help="list prerequisites with ok/missing and the fix")
    _subject_arg(p)
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("up", help="start a subject's stack and wait until it is healthy")
    _subject_arg(p)
    p.add_argument("--project", help="compose project name (default: unique)")
    p.add_argument("--timeout", type=float, help="health timeout in seconds")
    p.set_defaults(func=cmd_up)

    p = sub.add_parser(
        "down", help="capture logs and remove a stack (containers, networks, volumes)"
    )
    _subject_arg(p)
    p.add_argument("--project", help="project to remove (default: the only stack of the subject)")
    p.add_argument("--logs", type=Path, help="directory for the captured container logs")
    p.add_argument(
        "--stale",
        action="store_true",
        help="remove the stacks of runs whose processes died (kill -9), and close their records",
    )
    p.add_argument("--all", action="store_true", help="every stack of the subject not in use")
    p.add_argument(
        "--force", action="store_true", help="also a stack a live `workbench run` is using"
    )
    p.set_defaults(func=cmd_down)

    p = sub.add_parser("status", help="running workbench stacks and their services' health")
    _subject_arg(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("logs", help="capture a running stack's container logs to files")
    _subject_arg(p)
    p.add_argument("--project", help="project (default: the only running one)")
    p.add_argument(
        "--dest", type=Path, help="directory (default: results/logs/<project>-<UTC time>)"
    )
    p.set_defaults(func=cmd_logs)

    p = sub.add_parser(
        "probe", help="(inside the network) GET each URL and print JSON; exit 0 if all answer"
    )
    p.add_argument(
        "urls",
        nargs="*",
        help="URLs (default: $WB_CLUSTER_URL, $WB_PROMETHEUS_URL, $WB_PROBE_URLS)",
    )
    p.add_argument("--timeout", type=float, default=5.0)
    p.set_defaults(func=cmd_probe)


def cmd_setup(args: argparse.Namespace) -> int:
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench import provision
    from workbench.manifest import DEFAULT_SUBJECT, load_manifest

    t0 = time.monotonic()
    manifests = (
        [] if args.no_images else [load_manifest(s) for s in (args.subject or [DEFAULT_SUBJECT])]
    )
    provision.setup(manifests, _progress, tools=() if args.no_images else (args.tool or ()))
    _progress(f"setup done in {time.monotonic() - t0:.1f}s")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench import provision
    from workbench.manifest import load_manifest

    items = provision.doctor(load_manifest(args.subject))
    width = max(len(i.name) for i in items)
    for i in items:
        mark = "ok     " if i.ok else "note   " if i.optional else "MISSING"
        detail = f"{i.detail} (optional: only with --tool)" if i.optional and not i.ok else i.detail
        line = f"{mark} {i.name:<{width}}  {detail}"
        if i.fix:
            line += f"\n        fix: {i.fix}"
        print(line)
    from workbench.faults.actions import ACTIONS, supported_actions

    for name, why in supported_actions().items():  # optional: never fails doctor
        mark = "ok     " if why is None else "no     "
        print(f"{mark} {'fault ' + name:<{width}}  {why or ACTIONS[name].description}")
    print(_operator_note(args.subject, width))  # optional: never fails doctor
    return 0 if all(i.ok or i.optional for i in items) else 1


def _operator_note(subject: str, width: int) -> str:
    """What `--operator-docker` means on this host: the socket is root on it."""
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench.docker.cli import DOCKER_SOCKET

    there = os.path.exists(DOCKER_SOCKET)
    return (
        f"{'note   ' if there else 'no     '} {'operator docker':<{width}}  "
        f"--operator-docker mounts {DOCKER_SOCKET} into the operator under test: that is root "
        "on this host; give it only to an operator you trust"
        + ("" if there else " (no socket here: start the engine with `workbench setup`)")
    )


def _projects(subject: str, project: str | None) -> list[str]:
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench.manifest import load_manifest
    from workbench.stack import running_projects

    if project:
        return [project]
    prefix = load_manifest(subject).project_prefix + "-"
    return sorted(running_projects(prefix))


def cmd_up(args: argparse.Namespace) -> int:
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench import provision
    from workbench.manifest import load_manifest
    from workbench.stack import Stack

    m = load_manifest(args.subject)
    provision.setup([m], _progress)
    st = Stack(m, project=args.project, progress=_progress, health_timeout_s=args.timeout)
    try:
        st.up()
    except BaseException:
        st.run_dir = Path("results") / "failed-up" / st.project
        st.down()
        _progress(f"container logs saved in {st.run_dir / 'logs'}")
        raise
    print(
        json.dumps(
            {
                "project": st.project,
                "ports": st.ports,
                "endpoints": {n: st.endpoint(n) for n in m.endpoints},
            },
            indent=2,
        )
    )
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench.errors import StackError
    from workbench.manifest import load_manifest
    from workbench.run import supervisor
    from workbench.stack import Stack, compose

    m = load_manifest(args.subject)
    if args.stale:
        for line in supervisor.reap_stale(m, progress=_progress):
            print(line)
        return 0
    projects = _projects(args.subject, args.project)
    if not projects:
        _progress(f"no running {m.name} stack")
        return 0
    stacks = {p: Stack.attach(m, p, progress=_progress) for p in projects}
    in_use = {p: compose.owner(p, st.state_dir) for p, st in stacks.items()}
    live = [p for p, o in in_use.items() if o and not o.get("manual") and compose.owner_alive(o)]
    if live and not args.force:
        runs = ", ".join(f"{p} (run {in_use[p].get('run_dir')})" for p in live)  # type: ignore[union-attr]
        raise StackError(f"in use by a live workbench run: {runs}; stop that run (or --force)")
    if len(projects) > 1 and not (args.project or args.all):
        raise StackError(
            f"{len(projects)} {m.name} stacks are up: {', '.join(projects)}; "
            "name one with --project, or --all"
        )
    for project, st in stacks.items():
        st.run_dir = args.logs / project if args.logs else None
        st.down()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench.manifest import load_manifest
    from workbench.stack import Stack

    m = load_manifest(args.subject)
    report: dict[str, dict[str, Any]] = {}
    for project in _projects(args.subject, None):
        st = Stack.attach(m, project)
        report[project] = {"services": st.services_health(), "ports": st.ports}
    if args.json:
        print(json.dumps(report, indent=2))
    elif not report:
        print(f"no running {m.name} stack")
    for project, info in report.items() if not args.json else ():
        print(project)
        for service, health in sorted(info["services"].items()):
            print(f"  {service:<12} {health}")
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench.errors import StackError
    from workbench.manifest import load_manifest
    from workbench.stack import Stack

    projects = _projects(args.subject, args.project)
    if len(projects) != 1:
        raise StackError(
            f"expected exactly one running stack, found {projects or 'none'}: pass --project"
        )
    st = Stack.attach(load_manifest(args.subject), projects[0])
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    dest = args.dest or Path("results") / "logs" / f"{st.project}-{stamp}"
    for path in st.capture_logs(dest):
        print(path)
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    import httpx

    urls = list(args.urls)
    if not urls:
        for var in ("WB_CLUSTER_URL", "WB_PROMETHEUS_URL", "WB_PROBE_URLS"):
            urls += [u for u in os.environ.get(var, "").split(",") if u]
    if not urls:
        print(json.dumps({"error": "no URL given"}))
        return 3
    results: dict[str, dict[str, Any]] = {}
    with httpx.Client(timeout=args.timeout) as client:
        for url in urls:
            try:
                r = client.get(url)
                results[url] = {"ok": r.status_code < 400, "status": r.status_code, "error": None}
            except httpx.HTTPError as exc:
                results[url] = {
                    "ok": False,
                    "status": None,
                    "error": f"{type(exc).__name__}: {exc}",
                }
    print(json.dumps({"targets": results}))
    return 0 if all(r["ok"] for r in results.values()) else 1
