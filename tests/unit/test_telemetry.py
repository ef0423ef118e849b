"""HostSampler (issue 11 item 11): host CPU, this stack's containers, the workbench's own process
and the other workbench stacks over a span; fakes for the sources, one real CPU burner."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from workbench import telemetry
from workbench.telemetry import HostSampler, increase, project_cpu, workbench_projects


class Clock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class FakeEngine:
    """The engine's answers: running containers (as /containers/json lists them) and each one's
    cumulative CPU seconds, changed by the test between samples."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self.listing: list[dict[str, Any]] = []
        self.closed = False

    def add(self, project: str, name: str, cpu: float) -> None:
        labels = {"com.docker.compose.project": project, "com.docker.compose.service": name}
        self.listing.append({"Id": f"id-{name}", "Names": [f"/{name}"], "Labels": labels})
        self.cpu[f"id-{name}"] = cpu

    def remove(self, name: str) -> None:
        self.listing = [c for c in self.listing if c["Names"] != [f"/{name}"]]

    def running(self) -> list[dict[str, Any]]:
        return list(self.listing)

    def cpu_seconds(self, cid: str) -> float | None:
        return self.cpu.get(cid)

    def close(self) -> None:
        self.closed = True


def test_increase_interpolates_and_handles_keys_that_come_and_go() -> None:
    points = [(0.0, {"a": 0.0}), (2.0, {"a": 2.0, "b": 1.0}), (4.0, {"a": 4.0})]
    got = increase(points, 1.0, 3.0)
    assert got == {"a": 2.0, "b": 1.0}  # b: started after 0 (0 before), last value after it left
    assert increase(points, -1.0, 3.0) is None  # before the first sample
    assert increase(points, 1.0, 5.0) is None  # after the last


def test_the_sampler_splits_host_cpu_into_stack_workbench_and_the_rest() -> None:
    clock, engine = Clock(), FakeEngine()
    engine.add("wb-me", "wb-me-etcd0-1", 10.0)
    engine.add("wb-me", "wb-me-ycsb-run", 0.0)
    host = {"busy": 100.0, "steal": 0.0}
    own = {"self": 5.0}
    s = HostSampler(
        "wb-me",
        engine_every_s=1.0,
        engine=lambda: engine,
        host=lambda: dict(host),
        own=lambda: dict(own),
        clock=clock,
    )
    s.start()
    for _ in range(10):  # 10 s: host 1.5 cores busy, stack 0.8, workbench 0.1 → 0.6 outside
        clock.t += 1.0
        host["busy"] += 1.5
        own["self"] += 0.1
        engine.cpu["id-wb-me-etcd0-1"] += 0.5
        engine.cpu["id-wb-me-ycsb-run"] += 0.3
        if clock.t == 1005.0:
            engine.add("wb-other", "wb-other-etcd0-1", 50.0)
        if clock.t == 1007.0:
            engine.remove("wb-other-etcd0-1")
        s.sample(engine=True)
    s.stop()
    assert engine.closed
    c = s.contention(1000.0, 1010.0)
    assert c["measured"] and c["span_s"] == 10.0
    assert c["host_busy_cores"] == pytest.approx(1.5)
    assert c["stack_cores"] == pytest.approx(0.8)
    assert c["workbench_cores"] == pytest.approx(0.1)
    assert c["outside_cores"] == pytest.approx(0.6)
    assert c["other_projects"] == ["wb-other"]
    assert s.window(1002.0, 1004.0) == pytest.approx(1.5)
    assert s.contention(1000.0, 1004.0)["other_projects"] == []
    late = s.contention(1000.0, 1020.0)
    assert not late["measured"] and "do not span" in late["reason"]


def test_without_an_engine_the_host_is_still_measured() -> None:
    clock = Clock()
    host = {"busy": 0.0}

    def no_engine() -> Any:
        raise OSError("no engine socket at /var/run/docker.sock")

    s = HostSampler("wb-me", engine=no_engine, host=lambda: dict(host), own=dict, clock=clock)
    s.start()
    clock.t += 2.0
    host["busy"] += 1.0
    s.stop()
    c = s.contention(1000.0, 1002.0)
    assert c["host_busy_cores"] == pytest.approx(0.5)
    assert c["stack_cores"] is None and "outside_cores" not in c
    assert c["other_projects"] is None and "no engine socket" in c["engine_error"]


def test_a_socket_file_without_a_listener_is_no_engine(tmp_path: Path) -> None:
    """A stopped engine can leave its socket file: it is no engine, and no socket is leaked (the
    test tier turns an unclosed socket into an error)."""
    path = str(tmp_path / "docker.sock")
    assert not telemetry.engine_answers(path)  # no file
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    try:
        assert telemetry.engine_answers(path)
    finally:
        listener.close()
    assert Path(path).exists() and not telemetry.engine_answers(path)  # stale file, refused


def test_engine_listings_by_project_label() -> None:
    engine = FakeEngine()
    engine.add("wb-a", "wb-a-etcd0-1", 3.0)
    engine.add("wb-b", "wb-b-etcd0-1", 4.0)
    engine.add("other", "other-web-1", 9.0)
    assert project_cpu(engine, "wb-a") == {"wb-a-etcd0-1": 3.0}
    assert workbench_projects(engine) == {"wb-a", "wb-b"}


@pytest.mark.local
def test_a_cpu_burner_is_seen_by_the_real_sampler() -> None:
    """A real measurement: a busy-looping child for 2 s. The host's busy cores over those 2 s hold
    at least the burner's own CPU time (psutil of the child; on a loaded host it gets less than
    a core), and none of it is counted as the workbench's own process."""
    sampler = HostSampler(None, interval_s=0.5, engine=lambda: None).start()
    try:
        time.sleep(1.0)
        burn0 = time.time()
        burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            time.sleep(2.0)
            t = psutil.Process(burner.pid).cpu_times()
            burned = t.user + t.system
        finally:
            burner.kill()
            burner.wait()
        burn1 = time.time()
        time.sleep(0.6)
    finally:
        sampler.stop()
    c = sampler.contention(burn0, burn1)
    burner_cores = burned / (burn1 - burn0)
    print(
        f"host busy {c['host_busy_cores']:.2f} of {c['cpu_count']} cores over "
        f"{c['span_s']:.2f} s; burner {burner_cores:.2f}; workbench {c['workbench_cores']:.2f}"
    )
    assert burner_cores > 0.02  # it did run (a loaded host gives it a small share)
    assert c["host_busy_cores"] >= 0.9 * burner_cores
    assert c["workbench_cores"] < 0.3  # the burner is not the workbench's own process


def test_container_cpu_from_its_cgroup_v1_or_v2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "v1" / "abc").mkdir(parents=True)
    (tmp_path / "v1" / "abc" / "cpuacct.usage").write_text("2500000000\n")
    (tmp_path / "v2" / "def").mkdir(parents=True)
    (tmp_path / "v2" / "def" / "cpu.stat").write_text("usage_usec 1500000\nuser_usec 1000000\n")
    monkeypatch.setattr(
        telemetry,
        "CGROUP_CPU_FILES",
        (
            (f"{tmp_path}/v1/{{id}}/cpuacct.usage", "", 1e-9),
            (f"{tmp_path}/v2/{{id}}/cpu.stat", "usage_usec", 1e-6),
        ),
    )
    assert telemetry.cgroup_cpu_seconds("abc") == pytest.approx(2.5)
    assert telemetry.cgroup_cpu_seconds("def") == pytest.approx(1.5)
    assert telemetry.cgroup_cpu_seconds("nope") is None
