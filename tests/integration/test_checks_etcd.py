"""The etcd subject's checks against the real offline stack (Docker engine required)."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import httpx
import pytest

from workbench.checks import CheckContext, exit_code, run_check
from workbench.cli import main
from workbench.cli.verify_cmds import verify_stack
from workbench.manifest import Manifest
from workbench.model import ClientSummary
from workbench.prometheus import PrometheusClient
from workbench.stack import Stack

pytestmark = pytest.mark.integration


def test_pre_checks_pass_on_the_running_stack(etcd_stack: Stack) -> None:
    verdicts = verify_stack(etcd_stack)
    by_name = {v.name: v for v in verdicts}
    assert [v.name for v in verdicts] == list(etcd_stack.manifest.checks["pre"])
    assert by_name["grafana"].status == "skipped"
    assert {n: v.status for n, v in by_name.items() if n != "grafana"} == {
        "cluster_healthy": "pass",
        "prometheus_targets": "pass",
        "probe_connectivity": "pass",
    }, [v.summary for v in verdicts]
    assert exit_code(verdicts) == 0


def test_verify_cli_attaches_and_writes_checks_json(
    etcd_stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["verify", "--project", etcd_stack.project, "--run-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    doc = json.loads((tmp_path / "checks.json").read_text())
    assert [d["status"] for d in doc] == ["pass", "pass", "skipped", "pass"]
    assert "cluster_healthy" in out and "SKIPPED" in out


def test_client_counts_match_etcd_counters(etcd_stack: Stack) -> None:
    """Real puts through the members' gateways, judged against etcd's own gRPC counters. The
    background is measured over an idle span: none, since the healthchecks use /health and not
    the KV service, so the counts agree without a correction."""
    m = etcd_stack.manifest
    with httpx.Client(timeout=5) as http:
        prom = PrometheusClient(http, etcd_stack.endpoint("prometheus"))
        b0 = time.time()
        time.sleep(2.5)  # two scrapes of the idle stack
        b1 = start = time.time()
        urls = etcd_stack.endpoint("cluster").split(",")
        n = 2000
        for i in range(n):
            key = base64.b64encode(f"usertable:user{i}".encode()).decode()
            http.post(
                f"{urls[i % 3]}/v3/kv/put", json={"key": key, "value": key}
            ).raise_for_status()
        end = time.time()
        client = ClientSummary({"INSERT": n}, {}, end - start, total=n)
        ctx = CheckContext.from_manifest(
            m,
            etcd_stack.ports,
            http=http,
            prometheus=prom,
            client=client,
            window=(start, end),
            baseline_window=(b0, b1),
        )
        traffic = run_check("ycsb_traffic", ctx, "post")
        counts = run_check("counts_agree", ctx, "post")
        coverage = run_check("scrape_coverage", ctx, "post")
    assert traffic.status == "pass", traffic.summary
    assert counts.status == "pass", counts.summary
    assert counts.evidence["server"]["background_ops"] == 0
    assert coverage.status == "pass", coverage.summary


def test_stopping_a_member_fails_the_health_check_naming_it(
    etcd_manifest: Manifest, tmp_path: Path
) -> None:
    with Stack(etcd_manifest, run_dir=tmp_path) as st:
        st.stop_service("etcd1")
        verdicts = verify_stack(st)
    health = next(v for v in verdicts if v.name == "cluster_healthy")
    assert health.status == "fail"
    assert "etcd1 (http://127.0.0.1:" in health.summary and "unreachable" in health.summary
    assert exit_code(verdicts) == 1
