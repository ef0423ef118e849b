"""A cluster's own API, typed: etcd (`etcd.py`: status, health, members, leader, put/get over
the v3 JSON gateway) and PD (`pd.py`: health, leader, members, stores, cluster status), each over
an injected `httpx.Client`, every failure a `workbench.errors.ClusterError` translated once in
`http.py`. `gateway.py` holds the etcd gateway's wire pieces (stdlib only, shared with the native
YCSB binding). `probe.py` is the independent availability probe of a faulted run.

Names are resolved on first use (workbench.lazy) so importing `workbench.cluster.gateway` from the
native generator loads no httpx."""

from __future__ import annotations

from workbench.lazy import exports

_WHERE = {
    "EtcdClient": "workbench.cluster.etcd",
    "EtcdCluster": "workbench.cluster.etcd",
    "EtcdHealth": "workbench.cluster.etcd",
    "EtcdLeader": "workbench.cluster.etcd",
    "EtcdMember": "workbench.cluster.etcd",
    "EtcdStatus": "workbench.cluster.etcd",
    "leader_of": "workbench.cluster.etcd",
    "PDClient": "workbench.cluster.pd",
    "PDCluster": "workbench.cluster.pd",
    "PDClusterStatus": "workbench.cluster.pd",
    "PDMember": "workbench.cluster.pd",
    "PDMembers": "workbench.cluster.pd",
    "Store": "workbench.cluster.pd",
    "most_leaders": "workbench.cluster.pd",
}
__all__ = sorted(_WHERE)
__getattr__ = exports(__name__, _WHERE, globals())
