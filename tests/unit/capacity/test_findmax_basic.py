"""findmax on a system of known capacity: the native generator's `basic` binding with a fixed
10 ms delay and 8 threads serves at most 8 x 1000 / 10 = 800 ops/s. The interval must lie within
10% of it. Real time (about two minutes): the local tier. On a busy host the search ends naming
the host (its probes are `unknown`): the data cannot support a capacity then, and the test says so."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from workbench.run import findmax

TRUE_CAPACITY = 800.0


@pytest.mark.local  # minutes of real time, a process per probe
@pytest.mark.timeout(900)
def test_basic_binding_capacity_is_found_within_ten_percent(tmp_path: Path) -> None:
    params = findmax.build_params(
        slo="p99=50ms", binding="basic", threads=8, probe_duration=5,
        props=["basicdb.simulatedelay=10", "basicdb.randomizedelay=false"],
        results_dir=tmp_path,
    )  # fmt: skip
    t0 = time.monotonic()
    path, doc = findmax.findmax(params, progress=print)
    print(f"{doc.headline()} in {time.monotonic() - t0:.0f} s: {path}")
    if doc.limit == "host":
        pytest.skip(f"the host was busy, the search could not tell: {doc.limit_text}")
    assert doc.status == "found" and doc.capacity is not None, doc.limit_text
    assert doc.capacity.low >= 0.9 * TRUE_CAPACITY and doc.capacity.high <= 1.1 * TRUE_CAPACITY
    assert doc.capacity.low <= TRUE_CAPACITY  # never above what the system can do
