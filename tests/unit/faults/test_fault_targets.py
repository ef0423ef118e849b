"""Target resolution against captured etcd 3.4.23 status responses and PD's response shapes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest

from fakes.http import pd_routes, pd_store
from workbench.cluster.etcd import leader_of, parse_status
from workbench.cluster.pd import most_leaders, parse_store
from workbench.errors import ClusterError, ConfigError, QueryError
from workbench.faults.targets import FaultsConfig, TargetResolver

CAPTURED = Path(__file__).parents[2] / "fakes" / "captured" / "etcd"
URLS = {f"etcd{i}": f"http://127.0.0.1:1000{i}" for i in range(3)}
ETCD = FaultsConfig.from_table(
    {"targets": list(URLS), "leader": {"kind": "etcd", "members": {s: u for s, u in URLS.items()}}}
)


def _status(name: str) -> dict[str, object]:
    body: dict[str, object] = json.loads((CAPTURED / name).read_text())
    return body


def _etcd_client(files: Mapping[str, str | None]) -> httpx.Client:
    """Member URL -> captured status file (None: the member times out, as when partitioned)."""
    by_url = {URLS[s]: f for s, f in files.items()}

    def handler(req: httpx.Request) -> httpx.Response:
        assert req.method == "POST" and req.url.path == "/v3/maintenance/status"
        f = by_url[f"{req.url.scheme}://{req.url.host}:{req.url.port}"]
        if f is None:
            raise httpx.ReadTimeout("timed out", request=req)
        return httpx.Response(200, json=_status(f))

    return httpx.Client(transport=httpx.MockTransport(handler))


HEALTHY = {s: f"status_{s}.json" for s in URLS}
PARTITIONED = {
    "etcd0": None,
    "etcd1": "partitioned_leader_status_etcd1.json",
    "etcd2": "partitioned_leader_status_etcd2.json",
}


def test_leader_and_follower_from_captured_status() -> None:
    r = TargetResolver(ETCD, URLS, _etcd_client(HEALTHY), seed=7)
    lead = r.resolve("leader")
    assert (lead.service, lead.how) == ("etcd0", "leader")
    assert lead.evidence["leader_id"] == "927417712772823082"
    fol = r.resolve("follower")
    assert fol.service in {"etcd1", "etcd2"} and fol.evidence["leader"] == "etcd0"


def test_new_leader_while_the_old_one_is_cut_off() -> None:
    r = TargetResolver(ETCD, URLS, _etcd_client(PARTITIONED), seed=1)
    lead = r.resolve("leader")
    assert lead.service == "etcd1" and lead.evidence["unreachable"] == ["etcd0"]


def test_no_leader_named() -> None:
    st = _status("status_etcd1.json")
    with pytest.raises(ClusterError, match="no etcd member names a leader"):
        leader_of({"etcd1": parse_status({**st, "leader": "0"}), "etcd0": None})
    with pytest.raises(ClusterError, match="did not answer"):
        leader_of({"etcd1": parse_status(st), "etcd0": None})  # names etcd0, which is silent


def test_random_is_seeded_and_recorded() -> None:
    picks = [
        TargetResolver(ETCD, URLS, _etcd_client(HEALTHY), seed=42).resolve("random")
        for _ in range(3)
    ]
    assert len({p.service for p in picks}) == 1 and picks[0].evidence == {"seed": 42}
    many = TargetResolver(ETCD, URLS, _etcd_client(HEALTHY), seed=42)
    assert {many.resolve("random").service for _ in range(30)} == set(URLS)


def test_service_and_unknown() -> None:
    r = TargetResolver(ETCD, URLS, _etcd_client(HEALTHY), seed=0)
    assert r.resolve("etcd2").service == "etcd2"
    with pytest.raises(ConfigError, match="valid: \\['etcd0'"):
        r.resolve("pd-leader")


PD_URLS = {f"pd{i}": f"http://127.0.0.1:2000{i}" for i in range(3)}
PD = FaultsConfig.from_table(
    {
        "targets": [*PD_URLS, "tikv0", "tikv1", "tikv2"],
        "leader": {"kind": "pd", "members": PD_URLS},
    }
)


def _pd_client(
    stores_body: object | None = None, down: frozenset[str] = frozenset()
) -> httpx.Client:
    routes = pd_routes()
    leader = routes[("GET", "/pd/api/v1/members")].body["leader"]
    bodies = {
        "/pd/api/v1/leader": leader,
        "/pd/api/v1/stores": stores_body or routes[("GET", "/pd/api/v1/stores")].body,
    }

    def handler(req: httpx.Request) -> httpx.Response:
        if req.url.port in {int(PD_URLS[s].rsplit(":", 1)[1]) for s in down}:
            raise httpx.ConnectError("refused", request=req)
        return httpx.Response(200, json=bodies[req.url.path])

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_pd_leader_from_any_member() -> None:
    r = TargetResolver(PD, PD_URLS, _pd_client(down=frozenset({"pd0"})), seed=3)
    lead = r.resolve("pd-leader")
    assert lead.service == "pd0" and lead.evidence["member_id"] == 2**63 + 12345
    fol = r.resolve("pd-follower")
    assert fol.service in {"pd1", "pd2"}


def test_tikv_with_most_leaders() -> None:
    stores = [pd_store(1), pd_store(2), pd_store(3), pd_store(4, "Offline")]
    stores[1]["status"]["leader_count"] = 12
    stores[3]["status"]["leader_count"] = 99  # offline: does not count
    r = TargetResolver(PD, PD_URLS, _pd_client({"count": 4, "stores": stores}), seed=0)
    got = r.resolve("tikv-most-leaders")
    assert got.service == "tikv1" and got.evidence["store_id"] == 2
    # ties: the lowest store id
    tied = [parse_store(pd_store(i)) for i in (2, 1, 3)]
    assert most_leaders(tied)[0].service == "tikv0"
    with pytest.raises(QueryError, match="no Up store"):  # a ClusterError is a QueryError
        most_leaders([parse_store(pd_store(1, "Tombstone"))])


def test_manifest_table_errors() -> None:
    with pytest.raises(ConfigError, match=r"leader\.kind"):
        FaultsConfig.from_table({"targets": ["a"], "leader": {"kind": "zk", "members": {"a": "u"}}})
    with pytest.raises(ConfigError, match="not in targets"):
        FaultsConfig.from_table(
            {"targets": ["a"], "leader": {"kind": "etcd", "members": {"b": "u"}}}
        )
    with pytest.raises(ConfigError, match="surprise"):
        FaultsConfig.from_table({"targets": ["a"], "surprise": 1})
    urls = ETCD.member_urls(lambda u: u.replace("127.0.0.1", "localhost") + "/")
    assert urls["etcd1"] == "http://localhost:10001"


def test_election_in_progress_is_asked_again() -> None:
    """While no member names a leader (etcd answers an error body), the resolver asks again."""
    calls = {"n": 0}
    healthy = {URLS[s]: _status(f) for s, f in HEALTHY.items()}

    def handler(req: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] <= 3:
            return httpx.Response(200, json={"error": "etcdserver: no leader", "code": 14})
        return httpx.Response(200, json=healthy[f"http://{req.url.host}:{req.url.port}"])

    slept: list[float] = []
    r = TargetResolver(
        ETCD, URLS, httpx.Client(transport=httpx.MockTransport(handler)), seed=0, sleep=slept.append
    )
    assert r.resolve("leader").service == "etcd0" and slept == [0.2]
    never = TargetResolver(
        ETCD, URLS, _etcd_client({s: None for s in URLS}), seed=0, retry_s=0.0, sleep=slept.append
    )
    with pytest.raises(QueryError, match="no etcd member names a leader"):
        never.resolve("leader")
