"""The independent availability probe on a real etcd stack: a leader kill at 4 and at 16
workload threads. The probe's unavailability follows the cluster (the new leader in the
server's own counters), whatever the thread count; the workload's stall is reported beside it.

Bounded: two 18 s runs on one module stack. Prints the numbers for the record.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.artifacts import FaultsDoc
from workbench.manifest import Manifest
from workbench.params import validate_run
from workbench.run.benchmark import Benchmark
from workbench.stack import Stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(etcd_manifest: Manifest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(etcd_manifest, run_dir=tmp_path_factory.mktemp("probe-stack")) as st:
        yield st


@pytest.mark.parametrize("threads", [4, 16])
def test_probe_unavailability_follows_the_new_leader_not_the_threads(
    stack: Stack, tmp_path: Path, threads: int
) -> None:
    params = validate_run(
        {
            "subject": "etcd",
            "recordcount": 300,
            "threads": threads,
            "duration": 18,
            "faults": ["kill:leader@6+4"],
            "results_dir": str(tmp_path),
        }
    )
    bench = Benchmark(params, project=stack.project, progress=lambda m: None)
    t0 = time.monotonic()
    bench.execute()
    assert time.monotonic() - t0 < 240, "a fault run is bounded in time"
    doc = bench.rd.faults()
    assert isinstance(doc, FaultsDoc) and doc.probe is not None, doc
    assert doc.probe.problem is None, doc.probe.problem
    (f,) = doc.faults
    assert f.took_effect and f.probe is not None
    p, r = f.probe, f.recovery
    frame = bench.rd.probe_samples()
    assert frame is not None
    assert set(frame["target"]) == {"etcd0", "etcd1", "etcd2", "cluster"}
    stall = None if r is None else r.unavailability_s
    print(
        f"\nthreads={threads}: probe unavailability {p.unavailability_s} s "
        f"(first error {p.time_to_first_error_s}, served again {p.serve_again_s}, "
        f"errors {p.errors}, members {p.members}); new leader seen {p.new_leader_seen_s} s; "
        f"workload stall (threads blocked) {stall} s; probe ticks {doc.probe.ticks}, "
        f"skipped {doc.probe.skipped}"
    )
    assert p.unavailability_s is not None and p.new_leader_seen_s is not None, p
    assert abs(p.unavailability_s - p.new_leader_seen_s) <= 2.0, p
    assert f.service is not None and p.members[f.service] >= 3.0  # the killed member's outage
