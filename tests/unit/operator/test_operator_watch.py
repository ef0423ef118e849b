"""What the run sees of the cluster while an operator works: membership rounds from the cluster's
API (etcd members and PD stores), the read-back of every loaded key, the cluster's own container
events, the operator parameters refused before anything starts, and integrity at the end."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from fakes.http import pd_store
from workbench.cluster.etcd import EtcdCluster
from workbench.cluster.pd import PDCluster
from workbench.docker.events import Event
from workbench.errors import ParameterError
from workbench.manifest import load_manifest
from workbench.operator import plan
from workbench.operator.contract import MembershipSample
from workbench.operator.membership import MembershipSampler, etcd_round, pd_round
from workbench.operator.scoring import integrity
from workbench.params import RunParams, validate_run
from workbench.run.operating import cluster_events, expected_keys, membership_frame, read_back
from workbench.ycsb.native.generators import build_key_name

URLS = {f"etcd{i}": f"http://etcd{i}:2379" for i in range(3)}
IDS = {"etcd0": "11", "etcd1": "12", "etcd2": "13"}


def etcd_transport(
    *, down: set[str] = frozenset(), listed: set[str] | None = None, learner: str = ""
) -> httpx.MockTransport:
    """Three members; `down` answer nothing; `listed`: who is in the member list."""
    names = listed if listed is not None else set(URLS)

    def handle(req: httpx.Request) -> httpx.Response:
        host = req.url.host
        if host in down:
            raise httpx.ConnectError("refused", request=req)
        if req.url.path == "/health":
            return httpx.Response(200, json={"health": "true"})
        if req.url.path == "/v3/maintenance/status":
            header = {"cluster_id": "1", "member_id": IDS[host]}
            return httpx.Response(200, json={"header": header, "leader": IDS["etcd1"]})
        if req.url.path == "/v3/cluster/member/list":
            members = [
                {"ID": IDS[n], "name": n, "isLearner": n == learner, "clientURLs": [URLS[n]]}
                for n in sorted(names)
            ]
            return httpx.Response(200, json={"header": {}, "members": members})
        return httpx.Response(404)

    return httpx.MockTransport(handle)


def etcd_cluster(**kw: Any) -> EtcdCluster:
    return EtcdCluster(httpx.Client(transport=etcd_transport(**kw)), URLS, timeout=1.0)


def test_an_etcd_round_sees_health_membership_votes_and_the_leader() -> None:
    got = {s.member: s for s in etcd_round(etcd_cluster(down={"etcd0"}))(100.0)}
    assert not got["etcd0"].healthy and got["etcd0"].in_cluster  # killed, still a member
    assert got["etcd1"].healthy and got["etcd1"].is_leader and not got["etcd2"].is_leader
    assert {s.t for s in got.values()} == {100.0}


def test_a_removed_member_is_out_of_the_cluster_and_a_learner_does_not_vote() -> None:
    got = {s.member: s for s in etcd_round(etcd_cluster(listed={"etcd0", "etcd1"}))(1.0)}
    assert not got["etcd2"].in_cluster and not got["etcd2"].voting
    got = {s.member: s for s in etcd_round(etcd_cluster(learner="etcd0"))(1.0)}
    assert got["etcd0"].in_cluster and not got["etcd0"].voting


def test_nobody_answering_is_not_whole() -> None:
    got = etcd_round(etcd_cluster(down=set(URLS)))(1.0)
    assert all(not s.healthy and not s.in_cluster and s.error for s in got)


def pd_cluster(states: list[str], body: Any = None) -> PDCluster:
    stores = [pd_store(i, st) for i, st in enumerate(states, start=1)]  # ids from 1: tikv0..

    def handle(req: httpx.Request) -> httpx.Response:
        if req.url.path == "/pd/api/v1/stores":
            return httpx.Response(200, json=body or {"count": len(stores), "stores": stores})
        return httpx.Response(404)

    http = httpx.Client(transport=httpx.MockTransport(handle))
    return PDCluster(http, {"pd0": "http://pd0:2379"}, timeout=1.0)


def test_a_pd_round_reads_the_stores_a_client_reads() -> None:
    rnd = pd_round(pd_cluster(["Up", "Down", "Tombstone"]), ["tikv0", "tikv1", "tikv2"])
    got = {s.member: s for s in rnd(5.0)}
    assert got["tikv0"].healthy and not got["tikv1"].healthy and got["tikv1"].in_cluster
    assert not got["tikv2"].in_cluster and not got["tikv2"].voting


def test_a_store_pd_forgot_is_out_of_the_cluster() -> None:
    rnd = pd_round(pd_cluster(["Up", "Up"]), ["tikv0", "tikv1", "tikv2"])
    got = {s.member: s for s in rnd(5.0)}
    assert not got["tikv2"].in_cluster and not got["tikv2"].healthy


def test_the_sampler_takes_a_last_round_at_stop_and_survives_a_failing_round() -> None:
    calls: list[float] = []

    def rnd(t: float) -> list[MembershipSample]:
        calls.append(t)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return [MembershipSample(t=t, member="etcd0", healthy=True)]

    ticks = iter(range(100))
    sampler = MembershipSampler(rnd, every_s=3600, clock=lambda: float(next(ticks)))
    sampler.start()
    samples = sampler.stop()
    assert sampler.errors == 1 and "boom" in (sampler.last_error or "")
    assert len(samples) == 1 and samples[0].t == calls[-1]  # the last round, at the stop
    frame = membership_frame(samples)
    assert list(frame["member"]) == ["etcd0"] and bool(frame["healthy"].iloc[0])


def rounds(*states: dict[str, bool]) -> list[MembershipSample]:
    return [
        MembershipSample(t=float(i), member=m, healthy=up)
        for i, st in enumerate(states)
        for m, up in st.items()
    ]


ALL_UP = {"etcd0": True, "etcd1": True, "etcd2": True}


def test_an_operator_that_stops_a_healthy_member_fails_integrity() -> None:
    got = integrity(rounds(ALL_UP, {**ALL_UP, "etcd2": False}), (10, 10))
    assert got.ok is False and got.down_end == ["etcd2"]
    assert "etcd2" in " ".join(got.reasons)


def test_the_target_a_persistent_fault_left_down_is_recoverys_business() -> None:
    got = integrity(rounds(ALL_UP, {**ALL_UP, "etcd0": False}), (10, 10), excused={"etcd0"})
    assert got.ok is True and got.down_end == []


def test_lost_keys_fail_integrity() -> None:
    got = integrity(rounds(ALL_UP, ALL_UP), (10, 9))
    assert got.ok is False and "1 loaded key(s) unreadable" in got.reasons


# --- the read-back ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator rule asks the engine for an image only when it answers: here it does not."""
    monkeypatch.setattr(plan, "engine_answers", lambda: False)


def params(**kw: Any) -> RunParams:
    return validate_run({"subject": "etcd", "workload": "a", "recordcount": 5, **kw})


def test_the_keys_loaded_are_the_generators_own() -> None:
    prefix, keys = expected_keys(params(), load_manifest("etcd"))
    assert prefix == b"usertable:" and len(keys) == 5
    assert keys[0] == b"usertable:" + build_key_name(0).encode()
    assert keys[0] == b"usertable:user6284781860667377211"  # go-ycsb's key 0
    _, ordered = expected_keys(params(props={"insertorder": "ordered"}), load_manifest("etcd"))
    assert ordered[:2] == [b"usertable:user0", b"usertable:user1"]


def range_transport(stored: list[bytes], page_calls: list[dict[str, Any]]) -> httpx.MockTransport:
    """An etcd whose ranges answer 2 keys at a time (`more` while some are left)."""

    def handle(req: httpx.Request) -> httpx.Response:
        body = json.loads(req.content)
        page_calls.append(body)
        start, limit = base64.b64decode(body["key"]), body["limit"]
        assert body["keys_only"] is True
        rest = sorted(k for k in stored if k >= start)
        kvs = [{"key": base64.b64encode(k).decode()} for k in rest[:2]]
        return httpx.Response(200, json={"kvs": kvs, "more": len(rest) > 2, "count": limit})

    return httpx.MockTransport(handle)


def test_the_read_back_pages_through_every_key_and_counts_the_lost_ones() -> None:
    p = params()
    _, keys = expected_keys(p, load_manifest("etcd"))
    calls: list[dict[str, Any]] = []
    http = httpx.Client(transport=range_transport(keys[1:], calls))
    got = read_back(p, load_manifest("etcd"), URLS, http)
    assert not isinstance(got, str)
    assert (got.loaded, got.found) == (5, 4) and len(calls) == 2


def test_no_load_phase_no_read_back() -> None:
    got = read_back(params(phases="run"), load_manifest("etcd"), URLS, httpx.Client())
    assert isinstance(got, str) and "no load phase" in got


# --- whose events ------------------------------------------------------------------------------


def test_only_the_clusters_own_containers_count_as_actions() -> None:
    evs = [
        Event(time_ns=1, action="create", id="a", service="ycsb", name="wb-x-ycsb-run"),
        Event(time_ns=2, action="start", id="b", service="etcd1", name="wb-x-etcd1-1"),
        Event(time_ns=3, action="start", id="c", service="operator", name="wb-x-operator"),
        Event(time_ns=4, action="restart", id="d", service="prometheus", name="wb-x-prom-1"),
    ]
    got = cluster_events(evs, load_manifest("etcd"))
    assert [e.service for e in got] == ["etcd1", "prometheus"]


# --- the parameters -------------------------------------------------------------------------------


def test_a_bad_operator_is_refused_with_the_choices() -> None:
    with pytest.raises(ParameterError, match="none, reference or an image"):
        params(operator="Not An Image!")
    with pytest.raises(ParameterError, match="no operator runs"):
        params(operator_docker=True)
    assert params(operator="reference", operator_docker=True).operator == "reference"


def test_a_missing_image_and_a_missing_socket_are_refused_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(plan, "engine_answers", lambda: True)
    monkeypatch.setattr(plan.docker, "image_label", lambda tag, label: None)
    monkeypatch.setattr(plan, "DOCKER_SOCKET", "/nonexistent/docker.sock")
    with pytest.raises(ParameterError) as err:
        params(operator="example/op:1.0", operator_docker=True)
    text = str(err.value)
    assert "example/op:1.0" in text and "docker build" in text and "docker load" in text
    assert "no Docker socket" in text
    monkeypatch.setattr(plan.docker, "image_label", lambda tag, label: "")
    monkeypatch.setattr(plan, "DOCKER_SOCKET", __file__)  # exists
    assert params(operator="example/op:1.0", operator_docker=True).operator == "example/op:1.0"
