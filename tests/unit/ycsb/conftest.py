from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# tests/ on the path so the shared fakes import as `fakes`
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from fakes.processes import EtcdCluster

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def etcd_one(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdCluster]:
    """A private single-member etcd on loopback (skips locally without etcd, fails in CI)."""
    cluster = EtcdCluster(tmp_path_factory.mktemp("ycsb-etcd"), n=1)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.close()
