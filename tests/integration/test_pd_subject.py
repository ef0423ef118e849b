"""The PD subject live: 3 PD v8.5.5 members + Prometheus, the TiKV subject's PD half for real.

Needs workbench/pd:v8.5.5, which `workbench setup --subject pd` builds from the Go module proxy
(workbench.provision.gobuild). Where the proxy refuses github.com/tikv/pd the image cannot exist
and these tests skip, naming the refusal (doctor's text); they never pass without a live PD.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from workbench import provision
from workbench.checks import CheckContext, run_check
from workbench.cli.verify_cmds import verify_stack
from workbench.errors import PrerequisiteError
from workbench.manifest import Manifest, load_manifest
from workbench.prometheus import PrometheusClient
from workbench.provision import gobuild
from workbench.stack import Stack

pytestmark = pytest.mark.integration

CAPTURED = Path(__file__).parents[1] / "fakes" / "captured" / "pd"


@pytest.fixture(scope="module")
def pd_manifest(docker_engine: None) -> Manifest:
    m = load_manifest("pd")
    try:
        gobuild.ensure_go_image(gobuild.PD, print)
    except PrerequisiteError as exc:
        pytest.skip(f"workbench/pd:v8.5.5 cannot be built here: {exc}")
    provision.setup([m], print)
    return m


@pytest.fixture(scope="module")
def pd_stack(pd_manifest: Manifest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(pd_manifest, run_dir=tmp_path_factory.mktemp("pd-stack")) as st:
        yield st


def _context(st: Stack, http: httpx.Client) -> CheckContext:
    prom = PrometheusClient(http, st.endpoint("prometheus"))
    return CheckContext.from_manifest(st.manifest, st.ports, http=http, prometheus=prom)


def test_pd_healthy_passes_against_live_pd(pd_stack: Stack) -> None:
    with httpx.Client(timeout=5) as http:
        verdict = run_check("pd_healthy", _context(pd_stack, http), "pre")
    assert verdict.status == "pass", verdict.summary
    ev = verdict.evidence
    assert len(ev["pd"]) == 3 and all(m["health"] is True for m in ev["pd"])
    assert {m["name"] for m in ev["pd"]} == {"pd0", "pd1", "pd2"}
    assert ev["stores"] == [] and ev["expected_stores"] == 0
    assert ev["cluster_id"] > 2**53  # parsed as an integer, never through a float
    assert ev["pd_leader"]["name"] in {"pd0", "pd1", "pd2"}
    assert ev["pd_leader"]["member_id"] in {m["member_id"] for m in ev["pd"]}


def test_members_agree_on_one_leader(pd_stack: Stack) -> None:
    leaders = set()
    with httpx.Client(timeout=5) as http:
        for url in pd_stack.endpoint("cluster").split(","):
            body = http.get(url + "/pd/api/v1/leader").raise_for_status().json()
            leaders.add((body["name"], body["member_id"]))
    assert len(leaders) == 1, leaders


def test_verify_runs_every_pre_check(pd_stack: Stack) -> None:
    verdicts = verify_stack(pd_stack)
    assert {v.name: v.status for v in verdicts} == {
        "pd_healthy": "pass",
        "prometheus_targets": "pass",
        "probe_connectivity": "pass",
    }, [v.summary for v in verdicts]


def test_manifest_queries_return_data(pd_stack: Stack) -> None:
    """Every query returns series, except `stores_up` while no TiKV has bootstrapped the cluster:
    PD's store statistics (pd_cluster_status) are collected by the running Raft cluster only, so
    an absent series must then come with /stores answering ErrNotBootstrapped."""
    time.sleep(25)  # the [20s] rate windows need 4+ scrapes at 5 s
    empty: dict[str, str] = {}
    with httpx.Client(timeout=5) as http:
        prom = PrometheusClient(http, pd_stack.endpoint("prometheus"))
        for q in pd_stack.manifest.queries:
            _, result = prom.query_raw(q.query)
            if not result:
                empty[q.name] = q.query
        stores = http.get(pd_stack.endpoint("cluster").split(",")[0] + "/pd/api/v1/stores")
    if "stores_up" in empty:
        assert stores.status_code == 500 and "ErrNotBootstrapped" in stores.text, stores.text
        del empty["stores_up"]
    assert not empty, f"queries that returned no series from a live PD: {empty}"


def test_capture_matches_live_shapes(pd_stack: Stack) -> None:
    """The fakes' captured PD responses keep the live shapes (ids as integers > 2^53)."""
    if not CAPTURED.is_dir():
        pytest.skip("no captured PD responses yet (tests/fakes/captured/pd/)")
    url = pd_stack.endpoint("cluster").split(",")[0] + "/pd/api/v1"
    with httpx.Client(timeout=5) as http:
        for name in ("members", "leader", "health", "stores"):
            live = http.get(f"{url}/{name}").raise_for_status().json()
            kept = json.loads((CAPTURED / f"{name}.json").read_text())
            assert type(live) is type(kept)
            if isinstance(live, dict):
                assert set(live) == set(kept), name
