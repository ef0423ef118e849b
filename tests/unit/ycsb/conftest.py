from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakes.processes import EtcdCluster


@pytest.fixture(scope="module")
def etcd_one(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdCluster]:
    """A private single-member etcd on loopback (skips locally without etcd, fails in CI)."""
    cluster = EtcdCluster(tmp_path_factory.mktemp("ycsb-etcd"), n=1)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.close()
