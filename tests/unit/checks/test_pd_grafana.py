"""H1 (PD) and H3 (Grafana) against local HTTP servers shaped as the TiKV stack spec says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fakes.http import BIG_ID, FakeServer, Response, grafana_routes, pd_routes
from workbench.checks import CheckContext, run_check
from workbench.model import Verdict


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as c:
        yield c


def pd_verdict(http: httpx.Client, routes: dict[Any, Response], **opts: Any) -> Verdict:
    with FakeServer(routes) as srv:
        ctx = CheckContext("tikv", {"pd": f"{srv.url},http://127.0.0.1:1"}, options=opts, http=http)
        return run_check("pd_healthy", ctx, "pre")


def test_pd_healthy_passes_with_exact_ids_sizes_and_uptime(http: httpx.Client) -> None:
    v = pd_verdict(http, pd_routes())
    assert v.status == "pass", v.summary
    assert v.summary == "3 PD healthy, 3/3 stores Up, cluster initialized"
    ev = v.evidence
    assert [p["member_id"] for p in ev["pd"]] == [BIG_ID, BIG_ID + 1, BIG_ID + 2]
    assert ev["cluster_id"] == BIG_ID - 1 and ev["pd_leader"]["member_id"] == BIG_ID
    s = ev["stores"][0]
    assert s["capacity_bytes"] == 195 * 2**30
    assert s["available_bytes"] == round(183.1 * 2**30)
    assert s["used_size_bytes"] == round(33.11 * 2**20)
    assert s["uptime_s"] == pytest.approx(22518.898123456)
    assert s["last_heartbeat_ns"] == 1769314518898123456


def test_pd_sizes_with_a_space_parse_the_same(http: httpx.Client) -> None:
    a = pd_verdict(http, pd_routes()).evidence["stores"]
    b = pd_verdict(http, pd_routes(spaced_sizes=True)).evidence["stores"]
    assert a == b


@pytest.mark.parametrize(
    ("routes", "needle"),
    [
        (pd_routes(stores=["Up", "Down", "Up"]), "store 2 (tikv1:20160) is Down"),
        (pd_routes(stores=["Up", "Up", "Disconnected"]), "store 3 (tikv2:20160) is Disconnected"),
        (pd_routes(stores=["Up", "Up"]), "2 stores, expected 3"),
        (pd_routes(health_status=500), "HTTP 500: [PD:server:ErrUnhealthy]"),
        (pd_routes(unhealthy_pd="pd2"), "PD pd2 unhealthy"),
        (pd_routes(initialized=False), "cluster is not initialized"),
    ],
)
def test_pd_healthy_fails_naming_the_problem(
    http: httpx.Client, routes: dict[Any, Response], needle: str
) -> None:
    v = pd_verdict(http, routes)
    assert v.status == "fail"
    assert needle in v.summary


def test_pd_unreachable_fails(http: httpx.Client) -> None:
    ctx = CheckContext("tikv", {"pd": "http://127.0.0.1:1"}, http=http)
    v = run_check("pd_healthy", ctx, "pre")
    assert v.status == "fail" and "ConnectError" in v.summary


def test_pd_unreadable_stores_is_unknown(http: httpx.Client) -> None:
    v = pd_verdict(http, pd_routes(stores_body={"count": 3, "stores": [{"status": {}}]}))
    assert v.status == "unknown" and "unreadable PD response" in v.summary


def test_pd_without_an_endpoint_is_unknown(http: httpx.Client) -> None:
    v = run_check("pd_healthy", CheckContext("tikv", {}, http=http), "pre")
    assert v.status == "unknown" and "no 'cluster' endpoint" in v.summary


def test_pd_store_count_is_an_option(http: httpx.Client) -> None:
    assert pd_verdict(http, pd_routes(stores=["Up"]), expected_stores=1).status == "pass"


# -- Grafana -----------------------------------------------------------------------------------


def grafana_verdict(http: httpx.Client, routes: dict[Any, Response], **opts: Any) -> Verdict:
    with FakeServer(routes) as srv:
        ctx = CheckContext(
            "tikv",
            {"grafana": srv.url},
            network_endpoints={"prometheus": "http://prometheus:9090"},
            options=opts,
            http=http,
        )
        return run_check("grafana", ctx, "pre")


def test_grafana_passes(http: httpx.Client) -> None:
    v = grafana_verdict(http, grafana_routes())
    assert v.status == "pass", v.summary
    assert v.evidence["datasource_health"]["status"] == "OK"
    assert v.evidence["datasources"][0]["url"] == "http://prometheus:9090"


@pytest.mark.parametrize(
    ("routes", "needle"),
    [
        (grafana_routes(ds_health="ERROR"), "health ERROR"),
        (grafana_routes(prometheus_url="http://other:9090"), "expected prometheus at"),
        (grafana_routes(default=False), "0 default datasources"),
        (grafana_routes(database="failing"), "database not ok"),
    ],
)
def test_grafana_fails(http: httpx.Client, routes: dict[Any, Response], needle: str) -> None:
    v = grafana_verdict(http, routes)
    assert v.status == "fail"
    assert needle in v.summary


def test_grafana_down_fails(http: httpx.Client) -> None:
    ctx = CheckContext("tikv", {"grafana": "http://127.0.0.1:1"}, http=http)
    assert run_check("grafana", ctx, "pre").status == "fail"


def test_grafana_without_datasource_health_api_is_unknown(http: httpx.Client) -> None:
    v = grafana_verdict(http, grafana_routes(ds_health_route=False))
    assert v.status == "unknown" and "Grafana < 9" in v.summary


def test_grafana_wrong_credentials_is_unknown(http: httpx.Client) -> None:
    v = grafana_verdict(http, grafana_routes(), grafana_password="wrong")
    assert v.status == "unknown" and "401" in v.summary


def test_grafana_is_skipped_when_the_subject_has_none(http: httpx.Client) -> None:
    ctx = CheckContext("etcd", {"cluster": "http://x", "prometheus": "http://y"}, http=http)
    v = run_check("grafana", ctx, "pre")
    assert v.status == "skipped" and "has no Grafana" in v.summary


def test_grafana_tikv_options_uid_dashboard_and_env_credentials(
    http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    routes = grafana_routes(auth=("ops", "s3cret"))
    routes[("GET", "/api/dashboards/uid/wb-tikv")] = Response(
        200, {"dashboard": {"uid": "wb-tikv"}}, auth=("ops", "s3cret")
    )
    monkeypatch.setenv("WB_TEST_GF_USER", "ops")
    monkeypatch.setenv("WB_TEST_GF_PASSWORD", "s3cret")
    opts = {
        "grafana_user_env": "WB_TEST_GF_USER",
        "grafana_password_env": "WB_TEST_GF_PASSWORD",
        "grafana_datasource_uid": "prometheus-wb",
        "grafana_dashboard_uid": "wb-tikv",
    }
    v = grafana_verdict(http, routes, **opts)
    assert v.status == "pass" and "dashboard 'wb-tikv' provisioned" in v.summary, v.summary
    assert "s3cret" not in json.dumps(v.to_dict())

    v = grafana_verdict(http, routes, **{**opts, "grafana_dashboard_uid": "missing"})
    assert v.status == "fail" and "dashboard 'missing' not provisioned: HTTP 404" in v.summary
    v = grafana_verdict(http, routes, **{**opts, "grafana_datasource_uid": "other"})
    assert v.status == "fail" and "expected 'other'" in v.summary
    monkeypatch.setenv("WB_TEST_GF_PASSWORD", "wrong")
    assert grafana_verdict(http, routes, **opts).status == "unknown"
