"""Compose argv and the stack's state files: no lifecycle here (that is `stack.py`).

A project's published ports live in `STACKS_DIR/<project>.env` (the compose env file), so another
process (`workbench down`, salvage, `Stack.attach`) reads them back. Every command is an argv list.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from workbench import proc
from workbench.manifest import Manifest

STACKS_DIR = (
    Path(os.environ.get("WORKBENCH_STATE_DIR", Path.home() / ".local/state/workbench")) / "stacks"
)
PROJECT_LABEL = "com.docker.compose.project"


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
    return [
        shutil.which("docker") or "docker",
        "compose",
        "--file",
        str(manifest.compose_file),
        "--env-file",
        str(env_file(project)),
        "--project-name",
        project,
        "--project-directory",
        str(manifest.directory),
    ]


def running_projects(prefix: str = "wb-") -> dict[str, list[str]]:
    """Workbench compose projects that have containers on this engine: project -> container names."""
    r = proc.run(
        ["docker", "ps", "-a", "--format", '{{.Label "' + PROJECT_LABEL + '"}}\t{{.Names}}'],
        check=False,
        timeout=30,
    )
    out: dict[str, list[str]] = {}
    for line in r.stdout.splitlines():
        project, _, name = line.partition("\t")
        if project.startswith(prefix):
            out.setdefault(project, []).append(name)
    return out
