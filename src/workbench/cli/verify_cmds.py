"""`workbench verify`: run a subject's pre checks against a live stack and record the verdicts.

Attaches to a running project of the subject (the only one, or `--project`), or with `--up` brings
one up and tears it down afterwards (logs captured into the run directory). Prints a table, writes
`checks.json`, and exits 0 when every check passed or was skipped, 1 when any failed, 2 when none
failed but some are unknown.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.manifest import Manifest
    from workbench.model import Verdict
    from workbench.stack import Stack


def _progress(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def register(sub: Any) -> None:
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench.manifest import DEFAULT_SUBJECT

    p = sub.add_parser(
        "verify",
        help="run a subject's pre checks against a live stack; write checks.json",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--subject", default=DEFAULT_SUBJECT, help="subject (default: %(default)s)")
    p.add_argument(
        "--run-dir",
        type=Path,
        help="where checks.json (and, with --up, logs/) go (default: results/verify-<subject>-<time>)",
    )
    p.add_argument("--up", action="store_true", help="bring a stack up, verify, tear it down")
    p.add_argument("--project", help="compose project to attach to (default: the only running one)")
    p.set_defaults(func=cmd_verify)


def find_project(manifest: Manifest, project: str | None) -> str:
    """The project to attach to: the one given, or the only running one of this subject."""
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench.errors import StackError
    from workbench.stack import running_projects

    if project:
        return project
    running = sorted(running_projects(f"{manifest.project_prefix}-"))
    if len(running) == 1:
        return running[0]
    if not running:
        raise StackError(
            f"no running {manifest.name} stack: start one with `workbench up --subject "
            f"{manifest.name}` or pass --up"
        )
    raise StackError(
        f"several {manifest.name} stacks are running, pick one with --project: "
        + ", ".join(running)
    )


def verify_stack(st: Stack, phase: str = "pre") -> list[Verdict]:
    """Run the manifest's checks of `phase` against a live stack (the probe runs in-network)."""
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench.run import observe

    return observe.checks(st, st.manifest, phase, list(st.manifest.checks.get(phase, ())))


def cmd_verify(args: argparse.Namespace) -> int:
    # imported here: a command loads only what it uses (`workbench --help` and the slim image start fast)
    from workbench.artifacts import write_verdicts
    from workbench.checks import exit_code, format_table, validate_check_names
    from workbench.manifest import load_manifest
    from workbench.stack import Stack

    m = load_manifest(args.subject)
    validate_check_names(m.checks.get("pre", ()))
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    run_dir: Path = args.run_dir or Path("results") / f"verify-{m.name}-{stamp}"
    if not args.up:  # find the stack first: no empty verify folder when there is none
        project = find_project(m, args.project)
    run_dir.mkdir(parents=True, exist_ok=True)
    if args.up:
        from workbench import provision

        provision.setup([m], _progress)
        with Stack(m, run_dir=run_dir, project=args.project, progress=_progress) as st:
            _progress(f"stack {st.project} healthy; running {'pre'} checks")
            verdicts = verify_stack(st, "pre")
    else:
        _progress(f"attaching to {project}; running {'pre'} checks")
        verdicts = verify_stack(Stack.attach(m, project, _progress), "pre")
    path = write_verdicts(run_dir, verdicts)
    print(format_table(verdicts))
    code = exit_code(verdicts)
    verdict = {0: "all passed or skipped", 1: "FAILED", 2: "some unknown"}[code]
    print(f"\n{verdict}; verdicts written to {path}")
    return code
