"""The availability probe: open loop (a hanging attempt never delays the next tick), the
cluster target's failover within one deadline, and a real etcd served lease grant and revoke."""

from __future__ import annotations

import itertools
import json
import threading
import time

import httpx
import pytest

from fakes.processes import EtcdCluster
from workbench.cluster import gateway
from workbench.cluster.probe import (
    CLUSTER,
    AvailabilityProbe,
    EtcdProber,
    OpResult,
    PDProber,
    probe_http,
    prober_for,
)


class Hanging:
    """A prober whose `slow` target hangs 0.4 s on every attempt; the others answer at once."""

    scope = "test"

    def __init__(self) -> None:
        self.starts: dict[str, list[float]] = {"slow": [], "fast": []}
        self.lock = threading.Lock()

    def targets(self) -> list[str]:
        return ["slow", "fast"]

    def attempt(self, target: str, seq: int) -> list[OpResult]:
        with self.lock:
            self.starts[target].append(time.monotonic())
        if target == "slow":
            time.sleep(0.4)
            return [("write", False, "timeout", 0.4)]
        return [("write", True, None, 0.001)]


def test_the_loop_is_open_a_hanging_attempt_never_delays_the_next_tick() -> None:
    prober = Hanging()
    probe = AvailabilityProbe(prober, every_s=0.05, deadline_s=0.4)
    probe.start()
    time.sleep(1.0)
    samples = probe.stop()
    slow = prober.starts["slow"]
    assert len(slow) >= 15  # ~20 ticks in 1 s although each slow attempt takes 0.4 s
    gaps = [b - a for a, b in itertools.pairwise(slow)]
    assert max(gaps) < 0.2
    assert {s.target for s in samples} == {"slow", "fast"}
    assert all(not s.ok and s.error == "timeout" for s in samples if s.target == "slow")
    assert probe.ticks == len(slow)


def _gateway(down: set[int], no_leader: set[int]) -> tuple[httpx.Client, list[int]]:
    seen: list[int] = []

    def handler(r: httpx.Request) -> httpx.Response:
        port = int(r.url.port or 0)
        seen.append(port)
        if port in down:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=r)
        if port in no_leader:
            return httpx.Response(503, json={"error": "etcdserver: no leader", "code": 14})
        if r.url.path == gateway.LEASE_GRANT:
            assert json.loads(r.content) == {"TTL": 5}
            return httpx.Response(200, json={"header": {}, "ID": "7587899324596811269"})
        assert r.url.path == gateway.LEASE_REVOKE
        assert json.loads(r.content) == {"ID": "7587899324596811269"}
        return httpx.Response(200, json={"header": {}})

    return httpx.Client(transport=httpx.MockTransport(handler)), seen


URLS = {f"etcd{i}": f"http://127.0.0.1:1000{i}" for i in range(3)}


def test_cluster_target_fails_over_a_refused_member_and_sticks() -> None:
    http, seen = _gateway(down={10000}, no_leader=set())
    p = EtcdProber(http, URLS)
    assert [r[:3] for r in p.attempt(CLUSTER, 1)] == [("grant", True, None), ("revoke", True, None)]
    assert seen == [10000, 10001, 10001]
    seen.clear()
    p.attempt(CLUSTER, 2)  # sticky: starts at the member that answered
    assert seen == [10001, 10001]
    assert p.attempt("etcd0", 3)[0][:3] == ("grant", False, "refused")


def test_an_answer_is_final_a_no_leader_error_is_not_failed_over() -> None:
    http, seen = _gateway(down=set(), no_leader={10000})
    (only,) = EtcdProber(http, URLS).attempt(CLUSTER, 1)
    assert only[:3] == ("grant", False, "http") and seen == [10000]


def test_pd_prober_asks_the_leader_api() -> None:
    def handler(r: httpx.Request) -> httpx.Response:
        assert r.url.path == "/pd/api/v1/leader"
        if r.url.port == 20000:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=r)
        return httpx.Response(200, json={"name": "pd1", "member_id": 2**63 + 1})

    urls = {f"pd{i}": f"http://127.0.0.1:2000{i}" for i in range(3)}
    p = prober_for("pd", httpx.Client(transport=httpx.MockTransport(handler)), urls)
    assert isinstance(p, PDProber) and "gRPC" in p.scope
    assert p.attempt(CLUSTER, 0)[0][:3] == ("leader", True, None)
    assert p.attempt("pd0", 0)[0][:3] == ("leader", False, "refused")
    with pytest.raises(ValueError, match="valid: \\['etcd', 'pd'\\]"):
        prober_for("zk", httpx.Client(), urls)


def test_a_real_etcd_serves_the_probe(etcd_cluster: EtcdCluster) -> None:
    urls = {f"etcd{i}": u for i, u in enumerate(etcd_cluster.client_urls)}
    with probe_http(4) as http:
        probe = AvailabilityProbe(EtcdProber(http, urls), every_s=0.1)
        probe.start()
        time.sleep(0.6)
        samples = probe.stop()
    targets = {s.target for s in samples}
    assert targets == {"etcd0", "etcd1", "etcd2", CLUSTER}
    assert all(s.ok for s in samples), [s for s in samples if not s.ok]
    assert {s.op for s in samples} == {"grant", "revoke"}
    assert max(s.latency_s for s in samples) < 0.5
