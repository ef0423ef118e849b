"""Faults through the conductor on a real etcd stack: kill:leader, pause:follower with a target,
partition:leader, three repeated kills, and an interrupt mid-fault. Each run is bounded in time
and attaches to one module stack, so what a fault could leave behind (iptables rules, qdiscs,
paused or stopped containers) is looked for on the live containers after every run.

Needs the workbench image with this checkout's generator (`workbench setup --subject etcd`).
"""

from __future__ import annotations

import _thread
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from workbench.artifacts import FaultsDoc
from workbench.faults.actions import Host
from workbench.faults.injector import compose_lookup, leftovers
from workbench.manifest import Manifest
from workbench.params import validate_run
from workbench.run.benchmark import Benchmark
from workbench.stack import Stack

pytestmark = pytest.mark.integration
SERVICES = ["etcd0", "etcd1", "etcd2"]


@pytest.fixture(scope="module")
def stack(etcd_manifest: Manifest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(etcd_manifest, run_dir=tmp_path_factory.mktemp("faults-stack")) as st:
        yield st


def _run(stack: Stack, results: Path, **values: object) -> Benchmark:
    params = validate_run(
        {"subject": "etcd", "recordcount": 300, "threads": 4, "results_dir": str(results), **values}
    )
    bench = Benchmark(params, project=stack.project, progress=lambda m: None)
    t0 = time.monotonic()
    bench.execute()
    assert time.monotonic() - t0 < 240, "a fault run is bounded in time"
    return bench


def _nothing_left(stack: Stack) -> None:
    """Every member healthy, no wb-fault rule, no tbf/netem qdisc, nothing paused or stopped."""
    deadline = time.time() + 60
    while time.time() < deadline:
        if all(stack.services_health().get(s) == "healthy" for s in SERVICES):
            break
        time.sleep(0.5)
    lookup = compose_lookup(stack.project)
    containers = [lookup(s) for s in SERVICES]
    assert leftovers(containers, Host()) == []
    assert all(stack.services_health()[s] == "healthy" for s in SERVICES)


def _faults(bench: Benchmark) -> FaultsDoc:
    doc = bench.rd.faults()
    assert isinstance(doc, FaultsDoc), doc
    return doc


def _verdict(bench: Benchmark, name: str) -> str:
    return next(v.status for v in bench.verdicts if v.name == name)


def test_kill_leader_errors_unavailability_recovery_healthy(stack: Stack, tmp_path: Path) -> None:
    bench = _run(stack, tmp_path, duration=24, target=300, faults=["kill:leader@8+4"])
    doc = _faults(bench)
    (f,) = doc.faults
    assert f.took_effect and f.undone and f.resolved_by == "leader"
    r = f.recovery
    assert r is not None and r.unavailability_from == "completions"
    assert r.unavailability_s is not None and 0 < r.unavailability_s < 10, r
    assert r.throughput_recovery_s is not None or r.reasons["throughput_recovery_s"]
    errors = json.loads((bench.run_dir / "ycsb" / "run.errors.json").read_text())
    final_errors = bench.rd.record.phases["run"].errors or 0
    assert sum(sum(c.values()) for c in errors["totals"].values()) == final_errors
    assert doc.healthy_after is not None and doc.healthy_after.healthy
    assert (doc.healthy_after.took_s or 0) >= 0
    assert _verdict(bench, "fault_stack_healthy") == "pass"
    # the killed member misses its scrapes inside its span (expected), its counter restarts
    # (corrected): neither is a gap nor a disagreement any more
    assert _verdict(bench, "scrape_coverage") == "pass"
    assert _verdict(bench, "counts_agree") == "pass"
    # one error count: the faults table's per-fault errors are what ycsb_traffic counts
    during = r.errors_during
    assert during is not None
    traffic = next(v for v in bench.verdicts if v.name == "ycsb_traffic")
    assert f"{during:g} during 1 fault(s)" in traffic.summary
    marks = [m for m in bench.rd.marks() if m.source == "fault"]
    assert [m.name for m in marks] == ["kill:leader"]
    _nothing_left(stack)


def test_pause_follower_intended_p999_covers_the_pause(stack: Stack, tmp_path: Path) -> None:
    bench = _run(stack, tmp_path, duration=20, target=200, faults=["pause:follower@6+3"])
    (f,) = _faults(bench).faults
    assert f.took_effect and f.evidence["state"] == "paused"
    iv = pd.read_csv(bench.run_dir / "ycsb" / "run.interval.csv")
    total = iv[iv["operation"] == "TOTAL"]
    # the intervals from the pause's start to 2 s after it: the worst intended p99.9
    t0 = _faults(bench).run_t0
    assert t0 is not None and f.applied is not None and f.end is not None
    start, end = f.applied - t0, f.end - t0
    span = total[(total["t_s"] > start) & (total["t_s"] <= end + 2)]
    assert span["p999_intended_ms"].max() >= 0.9 * (end - start) * 1000, span
    _nothing_left(stack)


def test_partition_leader_elects_a_new_one_and_recovery_is_measured(
    stack: Stack, tmp_path: Path
) -> None:
    bench = _run(stack, tmp_path, duration=24, target=300, faults=["partition:leader@8+5"])
    doc = _faults(bench)
    (f,) = doc.faults
    assert f.took_effect and f.undone
    old = f.service
    r = f.recovery
    assert r is not None and r.unavailability_s is not None and r.unavailability_s < 10
    # a new leader: the members name someone else now (or the old one won again after the heal;
    # then the election shows as leader changes in the server series, not asserted here)
    assert r.throughput_recovery_s is not None or r.reasons["throughput_recovery_s"]
    assert old in SERVICES
    _nothing_left(stack)


def test_three_repeated_kills_give_a_distribution_of_three(stack: Stack, tmp_path: Path) -> None:
    bench = _run(
        stack,
        tmp_path,
        duration=40,
        target=300,
        faults=["kill:leader@6+3"],
        fault_repeat=3,
        fault_every=11,
    )
    doc = _faults(bench)
    assert [f.spec.repeat_index for f in doc.faults] == [0, 1, 2]
    assert all(f.took_effect for f in doc.faults)
    dist = doc.distribution["unavailability_s"]
    assert len(dist.values) == 3 and dist.n == 3
    assert dist.max is not None and dist.median is not None and dist.max >= dist.median > 0
    print("three kills:", doc.to_json()["distribution"])
    _nothing_left(stack)


def test_interrupted_mid_fault_leaves_nothing(stack: Stack, tmp_path: Path) -> None:
    params = validate_run(
        {
            "subject": "etcd",
            "recordcount": 300,
            "duration": 30,
            "target": 200,
            "results_dir": str(tmp_path),
            "faults": ["pause:etcd1@5+20", "partition:etcd2@5+20"],
        }
    )
    bench = Benchmark(params, project=stack.project, progress=lambda m: None)
    bench.stack_up()
    bench.load()

    def interrupt_when_in_force() -> None:
        deadline = time.time() + 90
        while time.time() < deadline:
            if bench.faults.injector is not None and len(bench.faults.injector.active()) == 2:
                time.sleep(1)
                _thread.interrupt_main()
                return
            time.sleep(0.1)

    threading.Thread(target=interrupt_when_in_force, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        bench.run()
    assert bench.rd.status == "aborted"
    records = bench.faults.records
    assert len(records) == 2 and all(r.took_effect and r.undone for r in records)
    saved = _faults(bench).faults  # written on the way out, too
    assert [f.undone for f in saved] == [True, True]
    _nothing_left(stack)
