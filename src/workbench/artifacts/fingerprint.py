"""The environment a run happened in: enough to tell two runs' set-ups apart (library versions,
git commit, host CPU and memory by psutil, engine and image ids given by the caller). Reads only
the local machine; the engine is asked by the caller (telemetry)."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

import psutil
from pydantic import BaseModel, ConfigDict, Field

KEY_LIBRARIES = (
    "pandas",
    "pyarrow",
    "matplotlib",
    "numpy",
    "httpx",
    "papermill",
    "nbclient",
    "python-on-whales",
    "hdrhistogram",
)


class HostInfo(BaseModel):
    """CPU, memory and kernel of the machine a run happened on (missing values stay None)."""

    model_config = ConfigDict(extra="allow")  # keys an older run.json had are kept
    hostname: str | None = None
    cpu_model: str | None = None
    cpu_count: int | None = None
    cpu_physical: int | None = None
    memory_bytes: int | None = None
    kernel: str | None = None
    os: str | None = None
    distro: str | None = None
    machine: str | None = None


class Fingerprint(BaseModel):
    """run.json's `fingerprint`: enough to tell two runs' set-ups apart. Every field is optional
    (an old run.json may have `{}`); unknown keys of older fingerprints are kept (extra)."""

    model_config = ConfigDict(extra="allow")
    workbench_version: str | None = None
    git_sha: str | None = None
    git_dirty: bool | None = None
    python: str | None = None
    python_implementation: str | None = None
    libraries: dict[str, str | None] = Field(default_factory=dict)
    engine: dict[str, str | None] = Field(default_factory=dict)
    images: dict[str, str] = Field(default_factory=dict)
    compose_file: str | None = None
    compose_sha256: str | None = None
    host: HostInfo = Field(default_factory=HostInfo)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def host_fingerprint() -> HostInfo:
    """CPU, memory and kernel of this machine (missing values stay None)."""
    cpu_model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    u = os.uname()  # not platform.platform(): it forks `uname -p` for a field it leaves unused
    libc, libc_version = platform.libc_ver()
    os_name = f"{u.sysname}-{u.release}-{u.machine}" + (
        f"-with-{libc}{libc_version}" if libc else ""
    )
    try:
        distro = platform.freedesktop_os_release().get("PRETTY_NAME")
    except OSError:
        distro = None
    return HostInfo(
        hostname=u.nodename,
        cpu_model=cpu_model,
        cpu_count=psutil.cpu_count(logical=True),
        cpu_physical=psutil.cpu_count(logical=False),
        memory_bytes=psutil.virtual_memory().total,
        kernel=u.release,
        os=os_name,
        distro=distro,
        machine=u.machine,
    )


def fingerprint(
    *,
    compose_file: Path | None = None,
    engine: Mapping[str, str | None] | None = None,
    images: Mapping[str, str] | None = None,
    repo: Path | None = None,
) -> Fingerprint:
    """The environment a run happened in: enough to tell two runs' set-ups apart.

    `engine` (engine and Compose versions) and `images` (service → image id) come from the caller,
    who can talk to the engine; this function only reads the local machine.
    """
    repo = repo or Path(__file__).resolve().parents[3]
    libs: dict[str, str | None] = {}
    for name in KEY_LIBRARIES:
        try:
            libs[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            libs[name] = None
    sha = _git(["rev-parse", "HEAD"], repo)
    status = _git(["status", "--porcelain", "--untracked-files=no"], repo)
    return Fingerprint(
        workbench_version=_version(),
        git_sha=sha,
        git_dirty=None if status is None else bool(status),
        python=platform.python_version(),
        python_implementation=platform.python_implementation(),
        libraries=libs,
        engine=dict(engine or {}),
        images=dict(images or {}),
        compose_file=str(compose_file) if compose_file else None,
        compose_sha256=sha256_file(compose_file)
        if compose_file and compose_file.is_file()
        else None,
        host=host_fingerprint(),
    )


def _version() -> str | None:
    try:
        return metadata.version("workbench")
    except metadata.PackageNotFoundError:
        return None
