"""Integration fixtures: real etcd stacks on a real engine, and a guard that none is left behind."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import IN_CI
from workbench import provision
from workbench.manifest import Manifest, load_manifest
from workbench.stack import Stack, running_projects

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _default_sigint() -> Iterator[None]:
    """Each test starts with Python's own SIGINT handling: in the full tier three interrupt
    tests saw SIGINT ignored (an interrupt_main that raised nothing, a child that ran to its
    end: SIG_IGN is inherited) after earlier tests, while each passes alone; which earlier test
    leaves it so is not yet found, so no test's signal state may leak into the next."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _engine(docker_engine: None) -> None:
    """Every test in this folder needs the engine."""


@pytest.fixture(scope="session")
def etcd_manifest(docker_engine: None) -> Manifest:
    m = load_manifest("etcd")
    provision.setup([m], print)
    return m


@pytest.fixture(scope="module")
def etcd_stack(
    etcd_manifest: Manifest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """One healthy etcd stack shared by a module's tests that do not break it. Per module, not
    per session: an idle stack left up costs the host ~0.5 cores (healthcheck execs, 250 ms
    scrapes), which every later benchmark's host_contention check rightly reports."""
    run_dir = tmp_path_factory.mktemp("etcd-stack")
    with Stack(etcd_manifest, run_dir=run_dir) as st:
        yield st


@pytest.fixture(scope="session", autouse=True)
def _no_containers_left(docker_engine: None) -> Iterator[None]:
    before = set(running_projects("wb-"))
    yield
    # Ours: every project this process created; in CI (nothing else runs) also any new one,
    # e.g. from the CLI subprocesses the tests start.
    left = {
        p: c
        for p, c in running_projects("wb-").items()
        if p in Stack.created or (IN_CI and p not in before)
    }
    assert not left, f"workbench containers left behind after the integration tests: {left}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)
