"""Shared test configuration: integration tests need a Docker engine and fail (not skip) in CI."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _engine_ok() -> bool:
    if shutil.which("docker") is None:
        return False
    r = subprocess.run(["docker", "info"], capture_output=True, check=False, timeout=20)
    return r.returncode == 0


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """Skip integration tests on a developer machine without an engine; fail them in CI."""
    if not _engine_ok():
        msg = "no Docker engine answers `docker info` (run `workbench setup`)"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)


def require_binary(name: str) -> str:
    """Path of a host binary a test needs: skip locally when absent, fail in CI."""
    path = shutil.which(name)
    if path is None:
        msg = f"{name} is not installed (scripts/test installs it)"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return path
