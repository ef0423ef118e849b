"""The kubectl steps against recorded kubectl outputs (tests/fakes/captured/kubectl/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes.kubectl import RecordedKubectl, Rule, cluster_rules
from workbench.errors import CommandError, ConfigError, PrerequisiteError
from workbench.stack import kubectl, platforms


def _session(fake: RecordedKubectl, tmp_path: Path) -> kubectl.KubeSession:
    return kubectl.KubeSession(tmp_path, "wb-tikv", 2, run=fake.run, spawn=fake.spawn)  # type: ignore[arg-type]


def test_argv_builders() -> None:
    assert kubectl.apply_argv([Path("a.yaml")]) == [
        "kubectl",
        "apply",
        "--server-side",
        "--field-manager=workbench",
        "-f",
        "a.yaml",
    ]
    assert kubectl.port_forward_argv("ns", "service/prometheus", 9090) == [
        "kubectl",
        "port-forward",
        "--namespace=ns",
        "--address=127.0.0.1",
        "service/prometheus",
        ":9090",
    ]
    assert "--ignore-not-found" in kubectl.delete_namespace_argv("ns")


def test_a_whole_session_in_order_and_the_namespace_deleted(tmp_path: Path) -> None:
    fake = RecordedKubectl(cluster_rules())
    with _session(fake, tmp_path) as s:
        s.up()
        urls = s.reach()
        out = s.job("load", tmp_path / "logs" / "load.log")
    assert urls == {"cluster": "http://127.0.0.1:41817", "prometheus": "http://127.0.0.1:39251"}
    assert fake.verbs() == [
        "apply 00-namespace.yaml,10-tidbcluster.yaml,20-prometheus.yaml,30-ycsb.yaml",
        "wait tidbcluster/basic",
        "wait deployment/prometheus",
        "port-forward service/basic-pd",
        "port-forward service/prometheus",
        "apply 40-ycsb-load.yaml",
        "wait job/ycsb-load",
        "logs",
        "delete namespace",
    ]
    assert all(p.terminated for p in fake.spawned)  # the forwards stopped
    assert {line.split("]")[0] for line in out.splitlines()} == {
        "[pod/ycsb-load-0-7xk2p/go-ycsb",
        "[pod/ycsb-load-1-q9f4d/go-ycsb",
    }
    assert "Run finished" in (tmp_path / "logs" / "load.log").read_text()


def test_namespace_deleted_when_the_cluster_never_gets_ready(tmp_path: Path) -> None:
    fake = RecordedKubectl(cluster_rules(ready=False))
    with pytest.raises(CommandError, match="timed out waiting"), _session(fake, tmp_path) as s:
        s.up()
    assert fake.verbs()[-1] == "delete namespace"


def test_nothing_deleted_when_nothing_was_applied(tmp_path: Path) -> None:
    fake = RecordedKubectl(cluster_rules())
    with _session(fake, tmp_path):
        pass
    assert fake.calls == []


def test_preflight_without_kubectl_or_cluster() -> None:
    with pytest.raises(PrerequisiteError, match="kubectl is not on PATH"):
        kubectl.preflight(RecordedKubectl([]).run, which=lambda _n: None)
    none = RecordedKubectl([Rule(("version",), "", "version_no_cluster", 1)])
    with pytest.raises(PrerequisiteError, match="localhost:8080 was refused"):
        kubectl.preflight(none.run, which=lambda _n: "/usr/bin/kubectl")


def test_run_on_kubernetes_refuses_before_anything_starts() -> None:
    none = RecordedKubectl([Rule(("version",), "", "version_no_cluster", 1)])
    with pytest.raises(PrerequisiteError, match="no Kubernetes cluster"):
        platforms.require_run("kubernetes", none.run, which=lambda _n: "/usr/bin/kubectl")
    ok = RecordedKubectl(cluster_rules())
    with pytest.raises(ConfigError, match="workbench render --platform kubernetes"):
        platforms.require_run("kubernetes", ok.run, which=lambda _n: "/usr/bin/kubectl")
    assert ok.verbs() == ["version"]  # asked, nothing applied
    platforms.require_run("compose")
    with pytest.raises(ConfigError, match="unknown platform"):
        platforms.require_run("swarm")
