from __future__ import annotations

import socket
from pathlib import Path

import pytest

from workbench.errors import PortConflictError, UnhealthyStackError
from workbench.manifest import load_manifest
from workbench.ports import allocate, ephemeral_range, free_ports
from workbench.prometheus import summarize_targets
from workbench.provision.images import _copied_files, apt_mirror, builds_offline
from workbench.stack import Stack
from workbench.stack.compose import bind_conflict


def test_free_ports_are_distinct_and_bindable() -> None:
    ports = free_ports(8)
    assert len(set(ports)) == 8
    for p in ports:
        assert 1024 <= p <= 65535
        with socket.socket() as s:
            s.bind(("127.0.0.1", p))


def test_allocate_maps_names() -> None:
    got = allocate(["A", "B", "C"])
    assert sorted(got) == ["A", "B", "C"] and len(set(got.values())) == 3
    with pytest.raises(ValueError):
        free_ports(-1)


def test_apt_mirror_from_deb822(tmp_path: Path) -> None:
    d = tmp_path / "sources.list.d"
    d.mkdir()
    (d / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main\n\nTypes: deb\nURIs: http://mirror.example/debian-security\n"
        "Suites: bookworm-security\nComponents: main\n"
    )
    assert apt_mirror(tmp_path) == "http://mirror.example/debian"


def test_apt_mirror_from_one_line_format(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text(
        "# comment\ndeb http://sec.example/debian-security bookworm-security main\n"
        "deb [arch=amd64] http://mirror.example/debian bookworm main\n"
    )
    assert apt_mirror(tmp_path) == "http://mirror.example/debian"
    (tmp_path / "sources.list").write_text("deb http://x.example/ubuntu jammy main\n")
    assert apt_mirror(tmp_path) is None


def test_copied_files_and_offline_buildability(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "a.yml").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    df = tmp_path / "Dockerfile"
    df.write_text(
        "FROM debian:bookworm-slim\nCOPY conf /etc/conf\nCOPY --chown=1 b.txt /b\n"
        "COPY --from=build /x /y\n"
    )
    assert sorted(p.name for p in _copied_files(df, tmp_path)) == ["a.yml", "b.txt"]
    m = load_manifest("etcd")
    assert all(builds_offline(m, spec) for spec in m.images)


def test_compose_argv_and_run_argv_are_lists() -> None:
    m = load_manifest("etcd")
    st = Stack(
        m,
        project="wb-etcd-unit",
        ports={"WB_ETCD0_PORT": 1, "WB_ETCD1_PORT": 2, "WB_ETCD2_PORT": 3, "WB_PROMETHEUS_PORT": 4},
    )
    argv = st.compose_argv()
    assert Path(argv[0]).name == "docker" and argv[1] == "compose"
    assert argv[argv.index("--project-name") + 1] == "wb-etcd-unit"
    assert argv[argv.index("--file") + 1] == str(m.compose_file)
    run = st.run_argv("ycsb", entrypoint="sh")
    assert run[len(argv) :] == ["run", "--rm", "--no-deps", "-T", "--entrypoint", "sh", "ycsb"]
    named = st.run_argv("ycsb", name="wb-etcd-unit-ycsb-run")
    assert named[len(argv) :] == [
        "run",
        "--rm",
        "--no-deps",
        "-T",
        "--name",
        "wb-etcd-unit-ycsb-run",
        "ycsb",
    ]
    assert st.endpoint("cluster") == "http://127.0.0.1:1,http://127.0.0.1:2,http://127.0.0.1:3"
    assert st.endpoint("prometheus", "network") == "http://prometheus:9090"


def test_unique_projects_and_ports() -> None:
    m = load_manifest("etcd")
    a, b = Stack(m), Stack(m)
    assert a.project != b.project and a.project.startswith("wb-etcd-")
    assert not set(a.ports.values()) & set(b.ports.values())


def test_summarize_targets() -> None:
    active = [
        {"labels": {"job": "etcd"}, "health": "up"},
        {"labels": {"job": "etcd"}, "health": "down"},
        {"labels": {"job": "pd"}, "health": "unknown"},
    ]
    assert summarize_targets(active) == {"etcd": {"up": 1, "total": 2}, "pd": {"up": 0, "total": 1}}


def test_free_ports_stay_out_of_the_ephemeral_range(tmp_path: Path) -> None:
    lo, hi = ephemeral_range()
    ports = free_ports(20)
    assert len(set(ports)) == 20 and not [p for p in ports if lo <= p <= hi]
    rng_file = tmp_path / "range"
    rng_file.write_text("32768\t60999\n")
    assert ephemeral_range(rng_file) == (32768, 60999)
    assert ephemeral_range(tmp_path / "absent") == (32768, 60999)


def test_a_bind_conflict_is_named_from_compose_output() -> None:
    proxy = (
        "Error response from daemon: driver failed programming external connectivity on "
        "endpoint wb-etcd-x-etcd0-1 (5e1f): Error starting userland proxy: listen tcp4 "
        "127.0.0.1:46413: bind: address already in use"
    )
    assert bind_conflict(proxy) == "127.0.0.1:46413"
    assert bind_conflict("Bind for 127.0.0.1:9090 failed: port is already allocated") == (
        "127.0.0.1:9090"
    )
    assert bind_conflict("dependency failed to start: container etcd0 is unhealthy") is None
    err = PortConflictError("127.0.0.1:46413", 6.2, proxy)
    assert str(err).startswith("stack up failed after 6.2s: host port 127.0.0.1:46413 was taken")
    early = UnhealthyStackError({"etcd0": "state: exited(1)"}, 90, failed_after_s=3.0)
    assert str(early).startswith("stack up failed after 3.0s") and "90s" not in str(early)
