"""Several generators: each one's request, the parameters that refuse a split, PhaseInfo."""

from __future__ import annotations

import threading
import time

import pytest

from workbench.campaign import spec
from workbench.errors import ParameterError
from workbench.params import RunParams, validate_run
from workbench.run.generators import Part, StartTogether, info, split
from workbench.ycsb.tools import PhaseRequest


def req(phase: str, duration: float | None = None, target: int | None = None) -> PhaseRequest:
    props = {"recordcount": "1000", "etcd.endpoints": "http://etcd0:2379"}
    return PhaseRequest(phase, "etcd", "/workloads/workloada", props, 4, target, 1, duration)


def test_load_requests_get_disjoint_key_ranges() -> None:
    p = RunParams(recordcount=1000, generators=3)
    reqs = split(req("load"), p, 3, "/wb/ycsb")
    ranges = [(int(r.properties["insertstart"]), int(r.properties["insertcount"])) for r in reqs]
    assert ranges == [(0, 334), (334, 333), (667, 333)]
    assert [r.interval_dir for r in reqs] == ["/wb/ycsb/g0", "/wb/ycsb/g1", "/wb/ycsb/g2"]
    assert all(r.properties["etcd.endpoints"] == "http://etcd0:2379" for r in reqs)
    assert all(r.threads == 4 for r in reqs)  # threads are per generator


def test_run_requests_split_operations_and_target() -> None:
    p = RunParams(recordcount=1000, operationcount=10_000, target=900, generators=3)
    reqs = split(req("run", target=900), p, 3, "/wb")
    assert [r.properties["operationcount"] for r in reqs] == ["3334", "3333", "3333"]
    assert [r.target for r in reqs] == [300, 300, 300]
    assert all("insertstart" not in r.properties for r in reqs)
    timed = split(req("run", duration=10.0), RunParams(generators=2, duration=10.0), 2, "/wb")
    assert all("operationcount" not in r.properties and r.target is None for r in timed)


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        ({"generators": 0}, "generators: must be >= 1"),
        ({"generators": 5, "recordcount": 4}, "5 generators cannot share 4 records"),
        ({"generators": 2, "props": {"insertstart": "10"}}, "insertstart is set by the split"),
        ({"generators": 3, "target": 2}, "target: 2 ops/s cannot be split"),
        ({"generators": 3, "operationcount": 2, "threads": 1}, "operationcount: 2 is below"),
    ],
)
def test_bad_generators_input_is_refused_before_anything_starts(
    values: dict[str, object], needle: str
) -> None:
    with pytest.raises(ParameterError, match=needle):
        validate_run(values)


def test_phase_info_records_shares_and_the_lost_generator() -> None:
    p = RunParams(recordcount=10, generators=2)
    parts = [Part(i, r, f"c{i}", None) for i, r in enumerate(split(req("load"), p, 2, "/wb"))]  # type: ignore[arg-type]
    parts[1].error = "container exited 137"
    gens, spread = info(parts)
    assert [(g.insertstart, g.insertcount) for g in gens] == [(0, 5), (5, 5)]
    assert gens[1].failed == "container exited 137" and gens[0].ops is None
    assert spread is None  # no t=0 known: no spread


def test_start_together_releases_all_after_the_last_is_up_and_the_gate(tmp_path) -> None:  # type: ignore[no-untyped-def]
    logs = [tmp_path / f"g{i}.log" for i in range(3)]
    gate_calls: list[float] = []
    together = StartTogether(logs, lambda: gate_calls.append(time.monotonic()))
    released: list[float] = []

    def gen(i: int) -> None:
        time.sleep(0.05 * i)
        logs[i].write_text(" Container p-ycsb-run Creating\nnative: waiting for the start line\n")
        together.for_generator(i)()
        released.append(time.monotonic())

    threads = [threading.Thread(target=gen, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(gate_calls) == 1 and len(released) == 3
    assert min(released) >= gate_calls[0]  # nobody starts before the run's gate returned
    assert max(released) - min(released) < 0.1


def test_generators_is_a_campaign_parameter() -> None:
    raw = {
        "name": "gens",
        "base": {"duration": 10, "recordcount": 900},
        "configs": [{"name": "g1", "generators": 1}, {"name": "g3", "generators": 3}],
    }
    camp = spec.validate(raw)
    assert camp is not None
    bad = {"name": "x", "base": {"recordcount": 2}, "configs": [{"name": "g3", "generators": 3}]}
    with pytest.raises(ParameterError, match="3 generators cannot share 2 records"):
        spec.validate(bad)
