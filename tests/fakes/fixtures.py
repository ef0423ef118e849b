"""Session fixtures: a real 3-member etcd and a Prometheus scraping it (local processes).

Import into a conftest: `from fakes.fixtures import etcd_cluster, local_prometheus`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakes.processes import EtcdCluster, LocalPrometheus


@pytest.fixture(scope="session")
def etcd_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdCluster]:
    cluster = EtcdCluster(tmp_path_factory.mktemp("etcd"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(scope="session")
def local_prometheus(
    tmp_path_factory: pytest.TempPathFactory, etcd_cluster: EtcdCluster
) -> Iterator[LocalPrometheus]:
    prom = LocalPrometheus(tmp_path_factory.mktemp("prom"), {"etcd": etcd_cluster.metrics_targets})
    try:
        prom.start()
        prom.wait_targets_up(4)
        yield prom
    finally:
        prom.close()
