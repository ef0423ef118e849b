"""Typed argv builders for the plain `docker` commands the workbench runs, and the few helpers
that run them through `workbench.proc`.

A builder only builds: `kill("wb-x-etcd0-1", "INT")` is
`["docker", "kill", "--signal", "INT", "wb-x-etcd0-1"]`. Who runs it decides the timeout and
whether a failure is an error (a fault action checks, a teardown sweep does not). The argv's
first word is `docker`, found on PATH when it runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from workbench import proc
from workbench.errors import CommandError

DOCKER = "docker"
DOCKER_SOCKET = "/var/run/docker.sock"  # the engine's Unix socket (`workbench.docker.engine`)
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
ONEOFF_LABEL = "com.docker.compose.oneoff"
SERVER_VERSION = "{{.Server.Version}}"
IMAGE_ID = "{{.Id}}"


def compose_labels(
    project: str, service: str | None = None, oneoff: bool | None = None
) -> dict[str, str]:
    """The labels Compose puts on a project's containers, as a ps/event filter."""
    out = {PROJECT_LABEL: project}
    if service is not None:
        out[SERVICE_LABEL] = service
    if oneoff is not None:
        out[ONEOFF_LABEL] = "True" if oneoff else "False"
    return out


def label_format(label: str) -> str:
    """A Go template printing one label of a container (`ps --format`)."""
    return '{{.Label "' + label + '"}}'


# --- the engine and the Compose plugin ----------------------------------------------------------


def version(fmt: str = SERVER_VERSION) -> list[str]:
    """`docker version`: with the default format it prints the engine's version, and fails when
    no engine answers."""
    return [DOCKER, "version", "--format", fmt]


def info(fmt: str = "{{.ServerVersion}}") -> list[str]:
    """`docker info` (`docker --version` answers without any engine behind it; this does not)."""
    return [DOCKER, "info", "--format", fmt]


def compose(*args: str) -> list[str]:
    """`docker compose ...` (the project's own argv prefix lives in `workbench.stack.compose`)."""
    return [DOCKER, "compose", *args]


def compose_version(short: bool = False) -> list[str]:
    return compose("version", *(["--short"] if short else []))


# --- containers ---------------------------------------------------------------------------------


def kill(container: str, signal: str = "KILL") -> list[str]:
    return [DOCKER, "kill", "--signal", signal, container]


def stop(container: str, timeout_s: int) -> list[str]:
    """SIGTERM, then SIGKILL after `timeout_s`."""
    return [DOCKER, "stop", "--time", str(timeout_s), container]


def restart(container: str, timeout_s: int) -> list[str]:
    return [DOCKER, "restart", "--time", str(timeout_s), container]


def start(container: str) -> list[str]:
    return [DOCKER, "start", container]


def pause(container: str) -> list[str]:
    return [DOCKER, "pause", container]


def unpause(container: str) -> list[str]:
    return [DOCKER, "unpause", container]


def rm(*containers: str, volumes: bool = False) -> list[str]:
    """Remove containers, running or not (`--force`), with their anonymous volumes if asked."""
    if not containers:
        raise ValueError("docker rm needs at least one container")
    return [DOCKER, "rm", "--force", *(["--volumes"] if volumes else []), *containers]


def ps(
    *,
    labels: Mapping[str, str] | None = None,
    all: bool = True,
    quiet: bool = False,
    fmt: str | None = None,
) -> list[str]:
    """`docker ps` filtered by labels (every one must match), all states by default; `quiet`
    prints ids, `fmt` a Go template per container."""
    argv = [DOCKER, "ps", *(["-a"] if all else []), *(["-q"] if quiet else [])]
    for key, value in (labels or {}).items():
        argv += ["--filter", f"label={key}={value}"]
    return [*argv, *(["--format", fmt] if fmt is not None else [])]


def inspect(container: str, fmt: str) -> list[str]:
    return [DOCKER, "inspect", "--format", fmt, container]


def inspect_state(container: str) -> list[str]:
    """`.State` of a container as JSON (Running, Paused, Pid, Status, ExitCode, StartedAt...)."""
    return inspect(container, "{{json .State}}")


def logs(container: str, tail: int | None = None, timestamps: bool = False) -> list[str]:
    """A container's output (stdout and stderr), the last `tail` lines when given."""
    argv = [DOCKER, "logs", *(["--timestamps"] if timestamps else [])]
    return [*argv, *(["--tail", str(tail)] if tail is not None else []), container]


def nsenter(pid: int, argv: Sequence[str]) -> list[str]:
    """Run argv from the host inside the network namespace of process `pid` (a container's main
    process, from `inspect_state`), so the image needs neither iptables nor tc."""
    return ["nsenter", "-t", str(pid), "-n", *argv]


# --- images -------------------------------------------------------------------------------------


def image_inspect(tag: str, fmt: str = IMAGE_ID) -> list[str]:
    return [DOCKER, "image", "inspect", "--format", fmt, tag]


def build(
    tag: str,
    context: Path | str,
    *,
    dockerfile: Path | str | None = None,
    labels: Mapping[str, str] | None = None,
) -> list[str]:
    argv = [DOCKER, "build"]
    for key, value in (labels or {}).items():
        argv += ["--label", f"{key}={value}"]
    argv += ["-t", tag]
    if dockerfile is not None:
        argv += ["-f", str(dockerfile)]
    return [*argv, str(context)]


def import_image(tag: str, *, changes: Iterable[str] = (), source: str = "-") -> list[str]:
    """`docker import` a root filesystem tarball (`-`: from stdin) as `tag`."""
    argv = [DOCKER, "import"]
    for change in changes:
        argv += ["--change", change]
    return [*argv, source, tag]


def pull(image: str) -> list[str]:
    return [DOCKER, "pull", image]


# --- helpers that run a builder -----------------------------------------------------------------


def output(argv: Sequence[str], timeout: float = 30) -> str | None:
    """stdout of argv, stripped, or None when it fails or cannot run (a probe, never raises)."""
    try:
        r = proc.run(argv, timeout=timeout, check=False)
    except CommandError:
        return None
    return r.stdout.strip() if r.returncode == 0 else None


def engine_answers(timeout: float = 15) -> bool:
    """An engine answers `docker info` (the CLI's view; `engine.engine_answers` is the socket's)."""
    return proc.ok(info(), timeout=timeout)


def server_version() -> str | None:
    return output(version(), timeout=20)


def compose_version_short() -> str | None:
    return output(compose_version(short=True), timeout=20)


def image_id(tag: str) -> str:
    """The image's id, '' when it does not exist."""
    return output(image_inspect(tag)) or ""


def image_label(tag: str, label: str) -> str | None:
    """One label of an image ('' when unlabelled), or None when the image does not exist."""
    out = output(image_inspect(tag, "{{ index .Config.Labels " + f'"{label}"' + " }}"))
    return None if out is None else out.replace("<no value>", "")


def container_names(labels: Mapping[str, str], timeout: float = 30) -> list[str]:
    """Names of the containers (any state) carrying every label; raises when ps fails."""
    return proc.run(ps(labels=labels, fmt="{{.Names}}"), timeout=timeout).stdout.split()


def container_ids(labels: Mapping[str, str], timeout: float = 30) -> list[str]:
    """Ids of the containers (any state) carrying every label; [] when ps fails."""
    return (output(ps(labels=labels, quiet=True), timeout=timeout) or "").split()


def parse_state(text: str) -> dict[str, Any]:
    """The JSON `inspect_state` prints."""
    state = json.loads(text)
    if not isinstance(state, dict):
        raise ValueError(f"container state is not an object: {text[:200]!r}")
    return state
