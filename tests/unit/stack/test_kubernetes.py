"""The TiKV subject rendered for Kubernetes: golden files, offline validation, splits per index."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest
import yaml

from workbench.errors import ConfigError
from workbench.manifest import load_manifest
from workbench.stack import kubernetes as k
from workbench.stack import kubevalidate

GOLDEN = Path(__file__).resolve().parent / "golden" / "kubernetes"
PLAN = k.KubePlan(generators=3, recordcount=1000, operationcount=3000, target=900)
GOLDEN_NAMES = [p.name for p in GOLDEN.glob("*.yaml")]


@pytest.fixture(scope="module")
def tikv():  # type: ignore[no-untyped-def]
    return load_manifest("tikv")


def _all(docs: dict[str, list[dict]]) -> list[dict]:
    return [d for ds in docs.values() for d in ds]


def test_rendered_files_equal_the_golden_files(tikv) -> None:  # type: ignore[no-untyped-def]
    """Regenerate with WB_UPDATE_GOLDEN=1 after a deliberate change (and read the diff)."""
    out = k.render(tikv, PLAN)
    if os.environ.get("WB_UPDATE_GOLDEN"):
        for name, text in out.items():
            (GOLDEN / name).write_text(text)
    assert sorted(out) == sorted(p.name for p in GOLDEN.glob("*.yaml"))
    for name, text in out.items():
        assert text == (GOLDEN / name).read_text(), name


def test_yaml_reads_back_as_the_documents(tikv) -> None:  # type: ignore[no-untyped-def]
    text = k.render(tikv, PLAN)
    read = [d for t in text.values() for d in yaml.safe_load_all(t)]
    assert read == _all(k.documents(tikv, PLAN))
    assert "&id" not in "".join(text.values())  # no YAML anchors


def test_every_resource_validates_offline(tikv) -> None:  # type: ignore[no-untyped-def]
    docs = _all(k.documents(tikv, PLAN))
    assert [d["kind"] for d in docs] == [
        "Namespace",
        "TidbCluster",
        "ConfigMap",
        "Deployment",
        "Service",
        "ConfigMap",
        "Job",
        "Job",
    ]
    assert kubevalidate.problems(docs) == []


def test_validation_catches_misspelt_and_mistyped_fields(tikv) -> None:  # type: ignore[no-untyped-def]
    docs = copy.deepcopy(_all(k.documents(tikv, PLAN)))
    docs[1]["spec"]["tikv"]["replica"] = 3  # TidbCluster: our schema is closed
    docs[1]["spec"]["pd"]["requests"]["storage"] = "ten gigs"
    docs[6]["spec"]["completionMode"] = 1  # Job: the Kubernetes schema
    docs[3]["spec"]["replicaz"] = 1  # Deployment: strict
    got = kubevalidate.problems(docs)
    assert len(got) == 4, got
    assert any("TidbCluster/basic: spec/tikv" in p and "replica" in p for p in got)
    assert any("spec/pd/requests/storage" in p for p in got)
    assert any(p.startswith("Job/ycsb-load: spec/completionMode") for p in got)
    assert any(p.startswith("Deployment/prometheus") and "replicaz" in p for p in got)


def test_cluster_is_pd3_tikv3_tidb0_at_the_subjects_version(tikv) -> None:  # type: ignore[no-untyped-def]
    tc = k.tidb_cluster(tikv, k.KubePlan(storage_class="fast-ssd", tikv_storage="100Gi"))
    spec = tc["spec"]
    assert spec["version"] == "v8.5.5"  # from pulled_images pingcap/pd and pingcap/tikv
    assert (spec["pd"]["replicas"], spec["tikv"]["replicas"], spec["tidb"]["replicas"]) == (3, 3, 0)
    assert spec["tikv"]["requests"] == {"storage": "100Gi"}
    assert spec["tikv"]["storageClassName"] == "fast-ssd"
    assert spec["tikv"]["config"]["storage"]["block-cache"]["capacity"] == "512MiB"  # tikv.toml


def test_prometheus_keeps_the_compose_scrape_config(tikv) -> None:  # type: ignore[no-untyped-def]
    compose = yaml.safe_load((tikv.directory / "config" / "prometheus.yml").read_text())
    kube = k.prometheus_config(tikv, k.KubePlan(namespace="ns1"))
    assert kube["global"] == compose["global"]  # same scrape interval and timeout
    assert [j["job_name"] for j in kube["scrape_configs"]] == ["pd", "tikv"]
    assert kube["scrape_configs"][1]["static_configs"][0]["targets"] == [
        f"basic-tikv-{i}.basic-tikv-peer.ns1.svc:20180" for i in range(3)
    ]


def test_each_index_reads_its_own_key_range(tikv) -> None:  # type: ignore[no-untyped-def]
    cm = k.ycsb_config(tikv, PLAN)["data"]
    ranges = []
    for i in range(3):
        props = dict(line.split("=") for line in cm[f"load-{i}.properties"].splitlines())
        ranges.append(
            range(int(props["insertstart"]), int(props["insertstart"]) + int(props["insertcount"]))
        )
        run = dict(line.split("=") for line in cm[f"run-{i}.properties"].splitlines())
        assert run == {"operationcount": "1000", "target": "300"}
    assert sorted(x for r in ranges for x in r) == list(range(1000))  # disjoint, nothing lost
    job = k.ycsb_job(tikv, PLAN, "load")
    assert job["spec"]["completionMode"] == "Indexed"
    assert job["spec"]["completions"] == job["spec"]["parallelism"] == 3
    args = job["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "/ycsb/load-$(WB_INDEX).properties" in args
    assert "tikv.pd=basic-pd:2379" in args


def test_bad_input_is_one_clear_error(tikv) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="cannot share 10 records"):
        k.documents(tikv, k.KubePlan(generators=11, recordcount=10, operationcount=100))
    with pytest.raises(ConfigError, match="not a DNS label"):
        k.documents(tikv, k.KubePlan(namespace="Bad_NS"))
    with pytest.raises(ConfigError, match="not a PD \\+ TiKV subject"):
        k.documents(load_manifest("etcd"), k.KubePlan())


def test_render_command_writes_validated_files(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from workbench.cli import main

    assert main(["render", "--subject", "tikv", "--generators", "2", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.yaml")) == sorted(GOLDEN_NAMES)
    assert "validated offline: 8 resources" in capsys.readouterr().out
    job = yaml.safe_load((tmp_path / "41-ycsb-run.yaml").read_text())
    assert job["spec"]["completions"] == 2
    assert main(["render", "--generators", "0", "--out", str(tmp_path / "x")]) == 3
    assert not (tmp_path / "x").exists()  # nothing written on bad input
