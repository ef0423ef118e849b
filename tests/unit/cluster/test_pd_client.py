"""The PD client against PD's answers as captured in tests/fakes/http.py (a loopback server)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from fakes.http import BIG_ID, FakeServer, pd_routes, pd_store
from workbench.cluster.pd import PDClient, PDCluster, most_leaders, parse_store
from workbench.errors import ClusterAnswerError, ClusterError, ClusterUnreadable


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as c:
        yield c


def test_health_leader_members_stores_status_typed(http: httpx.Client) -> None:
    with FakeServer(pd_routes(spaced_sizes=True)) as pd:
        c = PDClient(http, pd.url)
        health = c.health()
        leader = c.leader()
        members = c.members()
        stores = c.stores()
        status = c.cluster_status()
    assert [m.name for m in health] == ["pd0", "pd1", "pd2"] and all(m.health for m in health)
    assert leader.name == "pd0" and leader.member_id == BIG_ID  # exact above 2^53
    assert members.cluster_id == BIG_ID - 1 and members.leader == members.members[0]
    s = stores[0]
    assert (s.id, s.service, s.state_name, s.capacity_bytes, s.leader_count) == (
        1, "tikv0", "Up", 195 * 2**30, 7,
    )  # fmt: skip
    assert s.uptime_s == pytest.approx(6 * 3600 + 15 * 60 + 18.898123456)
    assert s.last_heartbeat_ns == 1769314518898123456
    assert status.is_initialized is True


def test_errors_of_pd(http: httpx.Client) -> None:
    with FakeServer(pd_routes(health_status=500)) as pd:
        with pytest.raises(ClusterAnswerError, match="HTTP 500") as info:
            PDClient(http, pd.url).health()
        assert info.value.status == 500
    bad = pd_routes(stores_body={"count": 3, "stores": [{"status": {}}]})
    with FakeServer(bad) as pd, pytest.raises(ClusterUnreadable):
        PDClient(http, pd.url).stores()


def test_any_member_speaks_for_the_cluster(http: httpx.Client) -> None:
    with FakeServer(pd_routes()) as pd:
        urls = {"pd0": "http://127.0.0.1:1", "pd1": pd.url}
        assert PDCluster(http, urls).any(lambda c: c.leader()).name == "pd0"
    with pytest.raises(ClusterError, match="no PD member answered"):
        PDCluster(http, {"pd0": "http://127.0.0.1:1"}).any(lambda c: c.leader())


def test_most_leaders_counts_up_stores_only() -> None:
    raw = [pd_store(1), pd_store(2), pd_store(3, "Offline")]
    raw[2]["status"]["leader_count"] = 99
    store, ev = most_leaders([parse_store(s) for s in raw])
    assert store.id == 1 and ev["leader_counts"] == {"tikv0:20160": 7, "tikv1:20160": 7}
