from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from workbench.errors import ManifestError
from workbench.manifest import (
    SUBJECTS_DIR,
    available_subjects,
    load_manifest,
    workload_file_name,
)


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


def test_every_problem_is_listed_in_one_error(tmp_path: Path) -> None:
    d = _copy_subject(tmp_path)
    _edit(d / "manifest.toml", "container_port = 9090", "container_port = 0\nbogus = 1")
    _edit(d / "manifest.toml", 'unit = "ops/s"', "unit = 7")
    with pytest.raises(ManifestError) as info:
        load_manifest(d)
    text = str(info.value)
    assert info.value.key == "ports[3].container_port"
    assert "port out of range: 0" in text
    assert "[ports[3].bogus] unknown key; known keys here: container_port, default" in text
    assert "[queries[0].unit] Input should be a valid string, got int 7" in text


@pytest.mark.parametrize(
    ("tools", "expect"),
    [
        (None, ("native",)),
        ('["go-ycsb", "native"]', ("go-ycsb", "native")),
        ('["go-ycsb"]', "the default tool 'native' is not among tools"),
        ('["native", "jmeter"]', "unknown tool 'jmeter'"),
    ],
)
def test_ycsb_tools_default_to_the_one_tool(tmp_path: Path, tools: str | None, expect) -> None:
    d = _copy_subject(tmp_path)
    text = (d / "manifest.toml").read_text()
    # the etcd subject declares its tools and a [ycsb.go-ycsb] table: take both out first
    text = re.sub(r"\ntools = \[[^\]]*\]\n", "\n", text)
    text = re.sub(r"\n\[ycsb\.go-ycsb\]\n(?:[^\[\n][^\n]*\n)*", "\n", text)
    if tools is not None:
        text = text.replace('binding = "etcd"', f'binding = "etcd"\ntools = {tools}', 1)
    (d / "manifest.toml").write_text(text)
    if isinstance(expect, tuple):
        m = load_manifest(d)
        assert m.ycsb is not None and m.ycsb.tools == expect
        return
    with pytest.raises(ManifestError, match=expect) as info:
        load_manifest(d)
    assert info.value.key == "ycsb.tools"


def test_a_subject_without_a_load_generator(tmp_path: Path) -> None:
    d = _copy_subject(tmp_path)
    text = (d / "manifest.toml").read_text()
    start, end = text.index("[ycsb]"), text.index("[[queries]]")
    (d / "manifest.toml").write_text(text[:start] + text[end:])
    m = load_manifest(d)
    assert m.ycsb is None and m.workloads() == []
    with pytest.raises(ManifestError, match="has no \\[ycsb\\] table") as info:
        m.workload_file("a")
    assert info.value.key == "ycsb"


def test_probe_and_raw_faults(tmp_path: Path) -> None:
    assert load_manifest("etcd").probe == "probe" and load_manifest("tikv").probe == "probe"
    faults = load_manifest("etcd").faults  # kept raw: the faults room validates it
    assert faults["targets"] == ["etcd0", "etcd1", "etcd2"] and faults["leader"]["kind"] == "etcd"
    d = _copy_subject(tmp_path)
    text = (d / "manifest.toml").read_text()
    (d / "manifest.toml").write_text(text.replace("[faults]\n", "[faults]\nextra = 1\n", 1))
    assert load_manifest(d).faults["extra"] == 1


def test_loading_is_cached_until_the_file_changes(tmp_path: Path) -> None:
    d = _copy_subject(tmp_path)
    first = load_manifest(d)
    assert load_manifest(d) is first and load_manifest(str(d)) is first
    path = d / "manifest.toml"
    path.write_text(path.read_text().replace('description = "', 'description = "edited: ', 1))
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    again = load_manifest(d)
    assert again is not first and again.description.startswith("edited: ")


def test_workload_file_name_is_one_rule() -> None:
    assert workload_file_name("a") == workload_file_name("workloada") == "workloada"
