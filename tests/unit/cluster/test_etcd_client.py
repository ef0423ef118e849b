"""The etcd client against captured etcd 3.4.23 answers (MockTransport) and a real local etcd."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from fakes.processes import EtcdCluster
from workbench.cluster import gateway
from workbench.cluster.etcd import EtcdClient, leader_of, parse_status
from workbench.cluster.etcd import EtcdCluster as Cluster
from workbench.errors import (
    ClusterAnswerError,
    ClusterError,
    ClusterUnreachable,
    ClusterUnreadable,
    QueryError,
)

CAPTURED = Path(__file__).parents[2] / "fakes" / "captured" / "etcd"


def captured(name: str) -> dict[str, object]:
    body: dict[str, object] = json.loads((CAPTURED / name).read_text())
    return body


def mock(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


def test_status_from_a_captured_answer_keeps_64_bit_ids_exact() -> None:
    body = captured("status_etcd0.json")
    st = EtcdClient(mock(lambda r: httpx.Response(200, json=body)), "http://m0/").status()
    assert st.member_id == 927417712772823082 and st.leader_id == st.member_id and st.is_leader
    assert (st.cluster_id, st.version, st.raft_term, st.raft_index, st.db_size) == (
        4069697529269140245, "3.4.23", 2, 83, 20480,
    )  # fmt: skip
    assert st.endpoint == "http://m0"
    follower = parse_status(captured("status_etcd1.json"))
    assert not follower.is_leader and follower.leader_id == st.member_id


def test_leader_of_captured_statuses_healthy_and_partitioned() -> None:
    healthy = {f"etcd{i}": parse_status(captured(f"status_etcd{i}.json")) for i in range(3)}
    got = leader_of(healthy)
    assert got.service == "etcd0" and got.votes == {"927417712772823082": 3}
    cut = {
        "etcd0": None,
        "etcd1": parse_status(captured("partitioned_leader_status_etcd1.json")),
        "etcd2": parse_status(captured("partitioned_leader_status_etcd2.json")),
    }
    got = leader_of(cut)
    assert got.service == "etcd1" and got.unreachable == ("etcd0",)
    assert got.evidence()["leader_id"] == "6248893434477394606"


@pytest.mark.parametrize(
    ("respond", "error", "cls"),
    [
        (lambda r: httpx.Response(200, json={"error": "etcdserver: no leader", "code": 14}),
         ClusterAnswerError, "server"),
        (lambda r: httpx.Response(503, json={"error": "etcdserver: request timed out", "code": 14}),
         ClusterAnswerError, "http"),
        (lambda r: httpx.Response(200, json={"header": {}}), ClusterUnreadable, "unreadable"),
        (lambda r: httpx.Response(200, text="<html>"), ClusterUnreadable, "unreadable"),
    ],
)  # fmt: skip
def test_errors_are_translated_once_into_the_tree(
    respond: Callable[[httpx.Request], httpx.Response], error: type[ClusterError], cls: str
) -> None:
    with pytest.raises(error) as info:
        EtcdClient(mock(respond), "http://m0").status()
    assert info.value.error_class == cls and isinstance(info.value, QueryError)


def test_transport_errors_are_classed() -> None:
    def timeout(r: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=r)

    def refused(r: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=r)

    for handler, cls in ((timeout, "timeout"), (refused, "refused")):
        with pytest.raises(ClusterUnreachable) as info:
            EtcdClient(mock(handler), "http://m0").put(b"k", b"v")
        assert info.value.error_class == cls


def test_put_and_get_speak_the_gateway() -> None:
    seen: list[tuple[str, dict[str, object]]] = []

    def handler(r: httpx.Request) -> httpx.Response:
        body = json.loads(r.content)
        seen.append((r.url.path, body))
        if r.url.path == gateway.KV_PUT:
            return httpx.Response(200, json={"header": {"revision": "7"}})
        return httpx.Response(200, json={"header": {}, "kvs": [{"value": gateway.b64(b"v1")}]})

    c = EtcdClient(mock(handler), "http://m0")
    assert c.put(b"wb/probe", b"v1") == 7 and c.get(b"wb/probe") == b"v1"
    assert seen == [
        ("/v3/kv/put", {"key": "d2IvcHJvYmU=", "value": "djE="}),
        ("/v3/kv/range", {"key": "d2IvcHJvYmU="}),
    ]
    assert (
        gateway.prefix_end(b"usertable:") == b"usertable;"
        and gateway.prefix_end(b"\xff") == b"\x00"
    )


def test_health_503_is_an_answer_not_an_error() -> None:
    c = EtcdClient(mock(lambda r: httpx.Response(503, json={"health": "false"})), "http://m0")
    h = c.health()
    assert (h.healthy, h.status, h.body) == (False, 503, {"health": "false"})


def test_a_real_cluster_answers_typed(etcd_cluster: EtcdCluster) -> None:
    urls = {f"etcd{i}": u for i, u in enumerate(etcd_cluster.client_urls)}
    with httpx.Client(timeout=5) as http:
        cluster = Cluster(http, urls)
        lead = cluster.leader()
        members = cluster.member_list()
        assert sorted(m.name for m in members) == ["etcd0", "etcd1", "etcd2"]
        assert lead.leader_id in {m.id for m in members}
        one = cluster.members["etcd1"]
        assert one.health().healthy
        rev = one.put(b"wb/test/room", b"hello")
        assert rev > 0 and cluster.members["etcd2"].get(b"wb/test/room") == b"hello"
        assert one.get(b"wb/test/absent") is None
