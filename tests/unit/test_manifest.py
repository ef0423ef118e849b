from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from workbench.errors import ManifestError
from workbench.manifest import SUBJECTS_DIR, available_subjects, load_manifest


def test_etcd_manifest_loads() -> None:
    m = load_manifest("etcd")
    assert m.name == "etcd"
    assert m.healthy_services == ("etcd0", "etcd1", "etcd2", "prometheus")
    assert m.readiness_targets is not None and m.readiness_targets.jobs == {"etcd": 3}
    assert {q.kind for q in m.queries} >= {"throughput", "latency"}
    ports = {p.env: p.default for p in m.ports}
    assert m.endpoint("prometheus", "host", {"WB_PROMETHEUS_PORT": 1234}) == "http://127.0.0.1:1234"
    assert m.endpoint("prometheus", "host") == f"http://127.0.0.1:{ports['WB_PROMETHEUS_PORT']}"
    assert m.endpoint("cluster", "network").split(",")[0] == "http://etcd0:2379"
    assert "etcd" in available_subjects()


def _copy_subject(tmp_path: Path) -> Path:
    dst = tmp_path / "subj"
    shutil.copytree(SUBJECTS_DIR / "etcd", dst)
    shutil.copytree(SUBJECTS_DIR / "common", tmp_path / "common")
    return dst


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"fixture drift: {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('healthy_services = ["etcd0", "etcd1", "etcd2", "prometheus"]', "", "healthy_services"),
        ('tool = "native"', 'tool = "jmeter"', "ycsb.tool"),
        ('tool = "native"', "tool = 3", "ycsb.tool"),
        ("container_port = 9090", "container_port = 99999", "ports[3].container_port"),
        ('unit = "ops/s"', "", "queries[0].unit"),
        ('kind = "throughput"', 'kind = "speed"', "queries[0].kind"),
        ('name = "server_p99"', 'name = "server_ops"', "queries[1].name"),
        (
            'dockerfile = "Dockerfile.etcd"',
            'dockerfile = "Dockerfile.nope"',
            "images[0].dockerfile",
        ),
        (
            'host = "http://127.0.0.1:${WB_PROMETHEUS_PORT}"',
            'host = "http://127.0.0.1:${WB_NOPE}"',
            "endpoints.prometheus.host",
        ),
        ("[checks]", "[checks.during_x]\n[checks]", "checks.during_x"),
        ('compose_file = "compose.yaml"', 'compose_file = "missing.yaml"', "compose_file"),
        (
            'project_prefix = "wb-etcd"',
            'project_prefix = "wb-etcd"\nhealthy_servces = []',
            "healthy_servces",
        ),
        ("default = 9090", "default = 9090\npulled_images = []", "ports[3].pulled_images"),
        ('unit = "cores"', 'unit = "cores"\nqeury = "up"', "queries[4].qeury"),
        ('binding = "etcd"', 'binding = "etcd"\nthreads = 4', "ycsb.threads"),
    ],
)
def test_bad_manifest_names_file_and_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    d = _copy_subject(tmp_path)
    _edit(d / "manifest.toml", old, new)
    with pytest.raises(ManifestError) as info:
        load_manifest(d)
    assert info.value.key == key
    assert str(d / "manifest.toml") in str(info.value)


def test_syntax_error_names_file(tmp_path: Path) -> None:
    d = _copy_subject(tmp_path)
    (d / "manifest.toml").write_text("name = \n")
    with pytest.raises(ManifestError, match=r"manifest\.toml: \[\(syntax\)\]"):
        load_manifest(d)


def test_unknown_subject_lists_valid_ones() -> None:
    with pytest.raises(ManifestError, match=r"valid: .*etcd"):
        load_manifest("nosuchsubject")


def test_workload_files_resolve() -> None:
    m = load_manifest("etcd")
    assert m.workload_file("a") == m.directory / "workloads" / "workloada"
    assert m.workload_file("workloadb").name == "workloadb"
