"""Shared test configuration: integration tests need a Docker engine and fail (not skip) in CI."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from support import IN_CI


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
