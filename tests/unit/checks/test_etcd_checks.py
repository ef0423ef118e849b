"""The etcd subject's checks against a real 3-member etcd and a real Prometheus (local processes)."""

from __future__ import annotations

import base64
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakes.http import FakeServer, Response
from fakes.processes import EtcdCluster, LocalPrometheus
from workbench.checks import CheckContext, run_check
from workbench.model import ClientSummary
from workbench.prometheus import PrometheusClient

SERVER_OPS = (
    'sum(grpc_server_handled_total{job="etcd",grpc_type="unary",grpc_service="etcdserverpb.KV"})'
)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as c:
        yield c


def etcd_ctx(cluster: EtcdCluster, http: httpx.Client, **kw: Any) -> CheckContext:
    urls = ",".join(cluster.client_urls)
    return CheckContext(
        "etcd",
        {"cluster": urls},
        network_endpoints={"cluster": urls},
        http=http,
        **kw,
    )


def put(http: httpx.Client, url: str, i: int) -> None:
    key = base64.b64encode(f"usertable:user{i}".encode()).decode()
    r = http.post(f"{url}/v3/kv/put", json={"key": key, "value": key})
    r.raise_for_status()


# -- cluster_healthy -----------------------------------------------------------------------------


def test_cluster_healthy_passes_with_one_leader(
    etcd_cluster: EtcdCluster, http: httpx.Client
) -> None:
    v = run_check("cluster_healthy", etcd_ctx(etcd_cluster, http), "pre")
    assert v.status == "pass", v.summary
    members = v.evidence["members"]
    assert sorted(m["name"] for m in members) == ["etcd0", "etcd1", "etcd2"]
    ids = {m["id"] for m in members}
    assert all(isinstance(i, int) for i in ids) and len(ids) == 3
    assert v.evidence["leader"]["id"] in ids and v.evidence["leader"]["name"] in v.summary


@pytest.mark.local
def test_stopping_a_member_fails_naming_it(tmp_path: Path, http: httpx.Client) -> None:
    cluster = EtcdCluster(tmp_path)
    try:
        cluster.start()
        cluster.stop(1)
        v = run_check("cluster_healthy", etcd_ctx(cluster, http), "pre")
    finally:
        cluster.close()
    assert v.status == "fail"
    assert f"etcd1 ({cluster.client_urls[1]}) unreachable" in v.summary
    assert [m["reachable"] for m in v.evidence["members"]] == [True, False, True]


def test_unreadable_member_status_is_unknown(etcd_cluster: EtcdCluster, http: httpx.Client) -> None:
    routes = {
        ("POST", "/v3/maintenance/status"): Response(200, {"header": {}, "leader": "x"}),
        ("GET", "/health"): Response(200, {"health": "true"}),
    }
    with FakeServer(routes) as fake:
        urls = ",".join([*etcd_cluster.client_urls[:2], fake.url])
        ctx = CheckContext(
            "etcd", {"cluster": urls}, network_endpoints={"cluster": urls}, http=http
        )
        v = run_check("cluster_healthy", ctx, "pre")
    assert v.status == "unknown" and "unreadable status" in v.summary


def test_member_count_mismatch_fails(etcd_cluster: EtcdCluster, http: httpx.Client) -> None:
    ctx = etcd_ctx(etcd_cluster, http, options={"expected_members": 5})
    v = run_check("cluster_healthy", ctx, "pre")
    assert v.status == "fail" and "3 members, expected 5" in v.summary


# -- prometheus_targets --------------------------------------------------------------------------


def prom_ctx(local_prometheus: LocalPrometheus, http: httpx.Client, **kw: Any) -> CheckContext:
    prom = PrometheusClient(http, local_prometheus.url, retries=1, sleep=lambda s: None)
    return CheckContext(
        "etcd", {"prometheus": local_prometheus.url}, http=http, prometheus=prom, **kw
    )


def test_targets_pass(local_prometheus: LocalPrometheus, http: httpx.Client) -> None:
    v = run_check(
        "prometheus_targets", prom_ctx(local_prometheus, http, expected_targets={"etcd": 3}), "pre"
    )
    assert v.status == "pass" and v.summary.startswith("3/3 targets up"), v.summary


def test_targets_fail_on_a_down_target_and_a_wrong_count(
    local_prometheus: LocalPrometheus, http: httpx.Client
) -> None:
    ctx = prom_ctx(local_prometheus, http, expected_targets={"etcd": 4, "dead": 1})
    v = run_check("prometheus_targets", ctx, "pre")
    assert v.status == "fail"
    assert "job etcd: 3 targets, expected 4" in v.summary
    assert "dead/127.0.0.1:" in v.summary and "connection refused" in v.summary


def test_targets_fail_when_prometheus_is_down(http: httpx.Client) -> None:
    prom = PrometheusClient(http, "http://127.0.0.1:1", retries=0)
    ctx = CheckContext("etcd", {}, http=http, prometheus=prom, expected_targets={"etcd": 3})
    v = run_check("prometheus_targets", ctx, "pre")
    assert v.status == "fail" and "did not answer" in v.summary


def test_targets_not_yet_scraped_is_unknown() -> None:
    from workbench.checks.observability import judge_targets

    obs = {
        "jobs": {"etcd": 1},
        "targets": [
            {"job": "etcd", "instance": "etcd0:2379", "health": "unknown", "last_error": ""}
        ],
    }
    j = judge_targets(obs, {})
    assert j.status == "unknown" and "not scraped yet: etcd/etcd0:2379 unknown" in j.summary


def test_targets_without_expectations_is_unknown(
    local_prometheus: LocalPrometheus, http: httpx.Client
) -> None:
    v = run_check("prometheus_targets", prom_ctx(local_prometheus, http), "pre")
    assert v.status == "unknown" and "no expected Prometheus jobs" in v.summary


# -- probe_connectivity --------------------------------------------------------------------------


def probe_ctx(stdout: str, rc: int = 0) -> CheckContext:
    net = {"cluster": "http://etcd0:2379,http://etcd1:2379", "prometheus": "http://prometheus:9090"}

    def probe() -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(["workbench", "probe"], rc, stdout, "")

    return CheckContext("etcd", {}, network_endpoints=net, probe=probe)


def _probe_doc(failing: str | None = None) -> str:
    import json

    urls = [
        "http://etcd0:2379/health",
        "http://etcd1:2379/health",
        "http://prometheus:9090/-/ready",
    ]
    targets = {
        u: {
            "ok": u != failing,
            "status": 200 if u != failing else None,
            "error": None if u != failing else "ConnectError: [Errno -2] Name does not resolve",
        }
        for u in urls
    }
    return "probing...\n" + json.dumps({"targets": targets}) + "\n"


def test_probe_passes() -> None:
    v = run_check("probe_connectivity", probe_ctx(_probe_doc()), "pre")
    assert v.status == "pass" and v.summary.startswith("3 URLs answered"), v.summary


def test_probe_fails_naming_the_url() -> None:
    v = run_check("probe_connectivity", probe_ctx(_probe_doc("http://etcd1:2379/health"), 1), "pre")
    assert v.status == "fail"
    assert "http://etcd1:2379/health: ConnectError" in v.summary


@pytest.mark.parametrize(
    ("stdout", "needle"),
    [
        ("Error: image workbench/workbench:local not found\n", "probe printed no result"),
        (
            '{"targets": {"http://prometheus:9090/-/ready": {"ok": true, "status": 200}}}',
            "probe did not try: http://etcd0:2379, http://etcd1:2379",
        ),
    ],
)
def test_probe_unknown(stdout: str, needle: str) -> None:
    v = run_check("probe_connectivity", probe_ctx(stdout, 0), "pre")
    assert v.status == "unknown" and needle in v.summary


def test_probe_missing_runner_is_unknown() -> None:
    v = run_check("probe_connectivity", CheckContext("etcd", {}), "pre")
    assert v.status == "unknown" and "no probe runner" in v.summary


# -- ycsb_traffic / counts_agree / scrape_coverage: client counts vs etcd's own counters ----------


def traffic_ctx(
    local_prometheus: LocalPrometheus,
    http: httpx.Client,
    client: ClientSummary | None,
    window: tuple[float, float],
    **opts: Any,
) -> CheckContext:
    options = {"server_ops_query": SERVER_OPS, "settle_s": 2.5, **opts}
    return prom_ctx(
        local_prometheus,
        http,
        client=client,
        window=window,
        options=options,
        expected_targets={"etcd": 3},
    )


@pytest.fixture(scope="module")
def traffic_run(
    etcd_cluster: EtcdCluster, local_prometheus: LocalPrometheus
) -> tuple[int, tuple[float, float]]:
    """400 real puts through the members' gateways inside a measured window."""
    local_prometheus.wait_history(3)
    start = time.time()
    n = 400
    with httpx.Client(timeout=5) as c:
        for i in range(n):
            put(c, etcd_cluster.client_urls[i % 3], i)
    time.sleep(0.2)
    return n, (start, time.time())


def _client(n: int, errors: int = 0, run_s: float = 2.0) -> ClientSummary:
    return ClientSummary({"INSERT": n}, {"INSERT": errors} if errors else {}, run_s, total=n)


def test_traffic_and_counts_agree_pass(
    traffic_run: Any, local_prometheus: LocalPrometheus, http: httpx.Client
) -> None:
    n, window = traffic_run
    ctx = traffic_ctx(local_prometheus, http, _client(n), window)
    t = run_check("ycsb_traffic", ctx, "post")
    assert t.status == "pass", t.summary
    c = run_check("counts_agree", ctx, "post")
    assert c.status == "pass", c.summary
    assert c.evidence["client_ops"] == n and c.evidence["server_ops"] == pytest.approx(n, rel=0.01)


def test_counts_disagree_fails_with_both_numbers(
    traffic_run: Any, local_prometheus: LocalPrometheus, http: httpx.Client
) -> None:
    n, window = traffic_run
    v = run_check(
        "counts_agree", traffic_ctx(local_prometheus, http, _client(2 * n), window), "post"
    )
    assert v.status == "fail"
    assert f"client {2 * n} vs server {n} ops" in v.summary


def test_traffic_fails_on_client_errors(
    traffic_run: Any, local_prometheus: LocalPrometheus, http: httpx.Client
) -> None:
    n, window = traffic_run
    v = run_check(
        "ycsb_traffic", traffic_ctx(local_prometheus, http, _client(n, 3), window), "post"
    )
    assert v.status == "fail" and "3 client errors" in v.summary


def test_traffic_fails_when_the_server_saw_nothing(
    traffic_run: Any, local_prometheus: LocalPrometheus, http: httpx.Client
) -> None:
    _, (_start, end) = traffic_run
    idle = (end + 3.0, end + 5.0)  # after the puts, nobody writes
    v = run_check("ycsb_traffic", traffic_ctx(local_prometheus, http, _client(100), idle), "post")
    assert v.status == "fail" and "did not move" in v.summary, v.summary


def test_traffic_unknown_without_query_or_client(
    traffic_run: Any, local_prometheus: LocalPrometheus, http: httpx.Client
) -> None:
    n, window = traffic_run
    ctx = traffic_ctx(local_prometheus, http, _client(n), window, server_ops_query="")
    v = run_check("ycsb_traffic", ctx, "post")
    assert v.status == "unknown" and "server_ops_query" in v.summary
    for name in ("ycsb_traffic", "counts_agree"):
        v = run_check(name, traffic_ctx(local_prometheus, http, None, window), "post")
        assert v.status == "unknown" and "no YCSB result" in v.summary


def test_counts_unknown_when_the_counter_has_no_samples(
    local_prometheus: LocalPrometheus, http: httpx.Client
) -> None:
    now = time.time()
    ctx = traffic_ctx(
        local_prometheus,
        http,
        _client(10),
        (now - 3, now - 2),
        server_ops_query='sum(no_such_counter_total{job="etcd"})',
    )
    v = run_check("counts_agree", ctx, "post")
    assert v.status == "unknown" and "no samples" in v.summary


def test_scrape_coverage_passes_over_the_run(
    traffic_run: Any, local_prometheus: LocalPrometheus, http: httpx.Client
) -> None:
    local_prometheus.wait_history(8)
    now = time.time()
    ctx = traffic_ctx(local_prometheus, http, None, (now - 6, now - 0.5))
    v = run_check("scrape_coverage", ctx, "post")
    assert v.status == "pass", v.summary
    assert len(v.evidence["coverage"]) == 3 and v.evidence["scrape_interval_s"] == 1.0


def test_scrape_coverage_of_a_down_target_is_unknown(
    local_prometheus: LocalPrometheus, http: httpx.Client
) -> None:
    local_prometheus.wait_history(5)
    now = time.time()
    ctx = traffic_ctx(local_prometheus, http, None, (now - 4, now - 0.5))
    ctx.expected_targets = {"etcd": 3, "dead": 1}
    v = run_check("scrape_coverage", ctx, "post")
    assert v.status == "unknown" and "dead/127.0.0.1:" in v.summary and " 0%" in v.summary


def test_scrape_coverage_fails_loudly_never_passes_on_a_short_window(
    local_prometheus: LocalPrometheus, http: httpx.Client
) -> None:
    now = time.time()
    ctx = traffic_ctx(local_prometheus, http, None, (now - 0.5, now))
    v = run_check("scrape_coverage", ctx, "post")
    assert v.status == "unknown" and "shorter than one scrape" in v.summary


def test_counts_agree_with_a_measured_settle(
    etcd_cluster: EtcdCluster, local_prometheus: LocalPrometheus, http: httpx.Client
) -> None:
    """No fixed settle: the check waits until Prometheus scraped every member after the window
    and no longer (1 s interval here), and the counts still agree. Last in the module: its puts
    would fall into the idle window of the tests above."""
    local_prometheus.wait_history(3)
    start, n = time.time(), 150
    with httpx.Client(timeout=5) as c:
        for i in range(n):
            put(c, etcd_cluster.client_urls[i % 3], 1000 + i)
    ended = time.time()
    # The window may close before the client's last operation (it leaves out the tool's exit);
    # the counters are read after a scrape past `traffic_ended`, so nothing is missed.
    ctx = traffic_ctx(local_prometheus, http, _client(n), (start, start + 0.01))
    ctx.traffic_ended = ended
    ctx.options.pop("settle_s")
    c = run_check("counts_agree", ctx, "post")
    assert c.status == "pass", c.summary
    server = c.evidence.get("server") or c.evidence
    assert c.evidence["server_ops"] == pytest.approx(n, rel=0.01)
    settle = next(v for k, v in _walk(c.evidence) if k == "settle_s")
    assert 0.0 < settle - (ended - start - 0.01) < 2.5, server


def _walk(d: Any) -> Any:
    if isinstance(d, dict):
        for k, v in d.items():
            yield k, v
            yield from _walk(v)
