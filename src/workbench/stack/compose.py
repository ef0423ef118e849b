"""Compose argv and the stack's state files: no lifecycle here (that is `stack.py`).

A project's published ports live in `STACKS_DIR/<project>.env` (the compose env file), so another
process (`workbench down`, salvage, `Stack.attach`) reads them back. Every command is an argv list.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import psutil

from workbench import proc
from workbench.docker import cli as docker
from workbench.manifest import Manifest

STACKS_DIR = (
    Path(os.environ.get("WORKBENCH_STATE_DIR", Path.home() / ".local/state/workbench")) / "stacks"
)
PROJECT_LABEL = docker.PROJECT_LABEL


def env_file(project: str) -> Path:
    return STACKS_DIR / f"{project}.env"


def lock_file(project: str) -> Path:
    return STACKS_DIR / f"{project}.lock"


def write_env(project: str, ports: dict[str, int], subject: str) -> Path:
    STACKS_DIR.mkdir(parents=True, exist_ok=True)
    lines = [f"{k}={v}" for k, v in sorted(ports.items())]
    lines.append(f"WB_SUBJECT={subject}")
    path = env_file(project)
    path.write_text("\n".join(lines) + "\n")
    return path


def owner_file(project: str) -> Path:
    return STACKS_DIR / f"{project}.owner.json"


def claim(project: str, pid: int, run_dir: Path | None) -> None:
    """Record that process `pid` owns the project (for `run_dir`; None: a stack started by hand
    with `workbench up`, which no process holds). A kernel that adopts a prestarted stack adds
    its pid beside the supervisor's."""
    current = owner(project) or {}
    pids = [p for p in current.get("pids", []) if p != pid] + [pid]
    doc = {
        "pids": pids,
        "run_dir": str(run_dir) if run_dir is not None else current.get("run_dir"),
        "manual": run_dir is None and current.get("run_dir") is None,
    }
    STACKS_DIR.mkdir(parents=True, exist_ok=True)
    tmp = owner_file(project).with_suffix(".tmp")
    tmp.write_text(json.dumps(doc))
    tmp.replace(owner_file(project))


def owner(project: str) -> dict[str, Any] | None:
    """Who owns a project: {"pids", "run_dir", "manual"}, or None when nobody recorded it."""
    try:
        data = json.loads(owner_file(project).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def owner_alive(info: dict[str, Any] | None) -> bool:
    """Some process that owns the project still runs (a started-by-hand stack counts as live:
    nothing may call it stale)."""
    if info is None:
        return False
    if info.get("manual"):
        return True
    return any(psutil.pid_exists(int(p)) for p in info.get("pids", []))


def forget(project: str) -> None:
    for path in (env_file(project), lock_file(project), owner_file(project)):
        path.unlink(missing_ok=True)


def read_ports(project: str) -> dict[str, int] | None:
    """The ports a project was started with, or None when it has no state file."""
    path = env_file(project)
    if not path.is_file():
        return None
    ports: dict[str, int] = {}
    for line in path.read_text().splitlines():
        k, _, v = line.partition("=")
        if v.isdigit():
            ports[k] = int(v)
    return ports


def compose_argv(manifest: Manifest, project: str) -> list[str]:
    """`docker compose` with the project's file, env file, name and directory (what
    python-on-whales passes, without importing it)."""
    return docker.compose(
        "--file",
        str(manifest.compose_file),
        "--env-file",
        str(env_file(project)),
        "--project-name",
        project,
        "--project-directory",
        str(manifest.directory),
    )


def running_projects(prefix: str = "wb-") -> dict[str, list[str]]:
    """Workbench compose projects that have containers on this engine: project -> container names."""
    r = proc.run(
        docker.ps(fmt=docker.label_format(PROJECT_LABEL) + "\t{{.Names}}"), check=False, timeout=30
    )
    out: dict[str, list[str]] = {}
    for line in r.stdout.splitlines():
        project, _, name = line.partition("\t")
        if project.startswith(prefix):
            out.setdefault(project, []).append(name)
    return out
