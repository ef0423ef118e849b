from __future__ import annotations

from fakes.fixtures import etcd_cluster, local_prometheus

__all__ = ["etcd_cluster", "local_prometheus"]
