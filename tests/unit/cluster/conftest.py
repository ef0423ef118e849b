from __future__ import annotations

from fakes.fixtures import etcd_cluster

__all__ = ["etcd_cluster"]
