"""Session fixtures: a real 3-member etcd and a Prometheus scraping it (local processes).

Import into a conftest: `from fakes.fixtures import etcd_cluster, local_prometheus`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakes.processes import EtcdCluster, LocalPrometheus, free_port


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
    # job `dead` points at a port nobody listens on: a target that is always down
    jobs = {"etcd": etcd_cluster.metrics_targets, "dead": [f"127.0.0.1:{free_port()}"]}
    prom = LocalPrometheus(tmp_path_factory.mktemp("prom"), jobs)
    try:
        prom.start()
        prom.wait_targets_up(4)
        yield prom
    finally:
        prom.close()
