"""Compose argv and the stack's state files: no lifecycle here (that is `stack.py`).

A project's published ports live in `STACKS_DIR/<project>.env` (the compose env file), so another
process (`workbench down`, salvage, `Stack.attach`) reads them back. A project started from another
checkout or with another `WORKBENCH_STATE_DIR` keeps its state files where Compose recorded them
(a label on its containers): `locate` finds them there, and when they are gone the project is still
reached without an env file (its ports read from the engine). Every command is an argv list.
"""

from __future__ import annotations

import json
import os
import re
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
#: the env file(s) a project was started with, as Compose records them on each container
ENV_FILE_LABEL = "com.docker.compose.project.environment_file"


def env_file(project: str, directory: Path | None = None) -> Path:
    return (directory or STACKS_DIR) / f"{project}.env"


def lock_file(project: str) -> Path:
    return STACKS_DIR / f"{project}.lock"


def recorded_env_file(project: str) -> Path | None:
    """The env file Compose recorded on the project's containers (None: no container, or none
    recorded)."""
    r = proc.run(
        docker.ps(labels=docker.compose_labels(project), fmt=docker.label_format(ENV_FILE_LABEL)),
        check=False,
        timeout=30,
    )
    for line in r.stdout.splitlines():
        first = line.strip().split(",")[0]
        if first:
            return Path(first)
    return None


def locate(project: str) -> Path | None:
    """The state directory of a running project: this process's `STACKS_DIR` when its env file is
    there, else the directory of the env file Compose recorded when that file still exists (a
    stack started from another checkout or state folder), else None (its state files are gone)."""
    if env_file(project).is_file():
        return STACKS_DIR
    recorded = recorded_env_file(project)
    if recorded is not None and recorded.is_file():
        return recorded.parent
    return None


def published_ports(manifest: Manifest, project: str) -> dict[str, int]:
    """The host ports a running project's containers publish, per the manifest's variables (for a
    project whose env file is gone); a port not published is left out."""
    fmt = docker.label_format(docker.SERVICE_LABEL) + "\t{{.Ports}}"
    r = proc.run(docker.ps(labels=docker.compose_labels(project), fmt=fmt), check=False, timeout=30)
    published: dict[tuple[str, int], int] = {}
    for line in r.stdout.splitlines():
        service, _, ports = line.partition("\t")
        for item in ports.split(","):  # "127.0.0.1:42493->2379/tcp"
            host, arrow, inside = item.strip().partition("->")
            port, _, _proto = inside.partition("/")
            if arrow and port.isdigit() and host.rpartition(":")[2].isdigit():
                published[(service, int(port))] = int(host.rpartition(":")[2])
    return {
        p.env: published[(p.service, p.container_port)]
        for p in manifest.ports
        if (p.service, p.container_port) in published
    }


def write_env(project: str, ports: dict[str, int], subject: str) -> Path:
    STACKS_DIR.mkdir(parents=True, exist_ok=True)
    lines = [f"{k}={v}" for k, v in sorted(ports.items())]
    lines.append(f"WB_SUBJECT={subject}")
    path = env_file(project)
    path.write_text("\n".join(lines) + "\n")
    return path


def owner_file(project: str, directory: Path | None = None) -> Path:
    return (directory or STACKS_DIR) / f"{project}.owner.json"


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


def owner(project: str, directory: Path | None = None) -> dict[str, Any] | None:
    """Who owns a project: {"pids", "run_dir", "manual"}, or None when nobody recorded it
    (`directory`: the project's state directory, default `STACKS_DIR`)."""
    try:
        data = json.loads(owner_file(project, directory).read_text())
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


def forget(project: str, directory: Path | None = None) -> None:
    d = directory or STACKS_DIR
    for path in (env_file(project, d), d / f"{project}.lock", owner_file(project, d)):
        path.unlink(missing_ok=True)


def read_ports(project: str, directory: Path | None = None) -> dict[str, int] | None:
    """The ports a project was started with, or None when it has no state file."""
    path = env_file(project, directory)
    if not path.is_file():
        return None
    ports: dict[str, int] = {}
    for line in path.read_text().splitlines():
        k, _, v = line.partition("=")
        if v.isdigit():
            ports[k] = int(v)
    return ports


# "listen tcp4 127.0.0.1:46413: bind: address already in use" (docker-proxy) and
# "Bind for 127.0.0.1:46413 failed: port is already allocated" (the engine's own bookkeeping)
_BIND_CONFLICT = re.compile(
    r"(\d{1,3}(?:\.\d{1,3}){3}:\d+)(?::? ?bind: address already in use| failed: port is already allocated)"
)


def bind_conflict(output: str) -> str | None:
    """The host address `compose up` could not publish because another process holds it, from
    its output; None when the output names no such conflict."""
    m = _BIND_CONFLICT.search(output)
    return m.group(1) if m else None


def compose_argv(manifest: Manifest, project: str, env: Path | None = None) -> list[str]:
    """`docker compose` with the project's file, env file, name and directory (what
    python-on-whales passes, without importing it). `env`: the env file (default: the project's
    in `STACKS_DIR`); a file that does not exist is not passed (Compose refuses it)."""
    path = env or env_file(project)
    return docker.compose(
        "--file",
        str(manifest.compose_file),
        *(["--env-file", str(path)] if path.is_file() else []),
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
