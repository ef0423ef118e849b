"""Shared test configuration: the three tiers and the Docker engine.

Tiers by marker: pure unit tests (no marker: no processes, seconds), `local` (real etcd,
Prometheus, a YCSB tool or other processes on loopback) and `integration` (a Docker engine,
real stacks; they fail, not skip, in CI when the engine is missing). A test that uses a
process fixture is marked `local` here, so no test can start etcd and still count as pure:

    pytest -m "not local and not integration"    # the pure unit tier
    pytest -m local                               # real local processes
    pytest -m integration                         # Docker
"""

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


# fixtures that start real processes (tests/fakes/fixtures.py, tests/unit/ycsb/conftest.py)
PROCESS_FIXTURES = frozenset({"etcd_cluster", "local_prometheus", "etcd_one"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in item.path.parts:  # the folder is the tier (Docker)
            item.add_marker(pytest.mark.integration)
        elif PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.local)


class _NoProcess(subprocess.Popen):  # type: ignore[type-arg]
    def __init__(self, args: object, *a: object, **kw: object) -> None:
        raise AssertionError(
            f"a pure unit test started a process: {args!r} (mark it `local`, or fake the call)"
        )


@pytest.fixture(autouse=True)
def _pure_means_no_process(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pure tier starts no process: any attempt fails the test, naming the argv."""
    if request.node.get_closest_marker("local") or request.node.get_closest_marker("integration"):
        return
    monkeypatch.setattr(subprocess, "Popen", _NoProcess)
