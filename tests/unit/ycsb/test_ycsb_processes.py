"""Several worker processes for one phase: the split, the automatic choice, the rules; and (local
tier, real processes) one merged output equal to one process's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workbench.errors import ParameterError
from workbench.params.ycsbprops import property_problems
from workbench.ycsb.intervals import read_hlog
from workbench.ycsb.native import NativeClient, build_workload
from workbench.ycsb.native.processes import choose_processes, split, usable_cores
from workbench.ycsb.native.props import load_properties
from workbench.ycsb.parser import parse
from workbench.ycsb.results import YcsbResult

WORKLOADS = Path(__file__).resolve().parents[3] / "subjects" / "etcd" / "workloads"


def _props(**kw: str) -> dict[str, str]:
    p = load_properties([WORKLOADS / "workloada"])
    p.update(kw)
    return p


def test_load_split_gives_disjoint_key_ranges_covering_every_key() -> None:
    props = _props(recordcount="1000", insertstart="10", insertcount="990", threadcount="7")
    wl = build_workload(props, "load")
    shares = split(props, wl, 3)
    ranges = []
    for s in shares:
        child = build_workload(s.properties, "load")
        assert child.threads == s.threads and child.insert_start == int(s.properties["insertstart"])
        ranges.append(range(child.insert_start, child.insert_start + child.op_count))
    keys = [k for r in ranges for k in r]
    assert sorted(keys) == list(range(10, 1000))  # each key once, none outside
    assert [s.threads for s in shares] == [3, 2, 2] and [s.tid_base for s in shares] == [0, 3, 5]


def test_run_split_keeps_each_threads_count_and_the_target_per_thread() -> None:
    props = _props(operationcount="1003", threadcount="4", target="400")
    wl = build_workload(props, "run")
    shares = split(props, wl, 2)
    assert [int(s.properties["operationcount"]) for s in shares] == [
        sum(wl.per_thread_counts()[:2]),
        sum(wl.per_thread_counts()[2:]),
    ]
    assert sum(float(s.properties["target"]) for s in shares) == pytest.approx(400.0)
    for s in shares:  # the child must not split again
        assert s.properties["processes"] == "1"


def test_automatic_choice_from_cores_threads_and_size() -> None:
    big = build_workload(_props(operationcount="1000000", threadcount="16"), "run")
    assert choose_processes("auto", big, {}, cores=2) == 2
    assert choose_processes("auto", big, {}, cores=64) == 16  # never more than threads
    small = build_workload(_props(operationcount="30000", threadcount="16"), "run")
    assert choose_processes("auto", small, {}, cores=8) == 1  # not worth a process
    one = build_workload(_props(operationcount="1000000", threadcount="1"), "run")
    assert choose_processes("auto", one, {}, cores=8) == 1
    assert choose_processes("3", big, {}, cores=1) == 3  # asked for: given
    inserting = {"insertproportion": "0.1"}
    assert choose_processes("auto", big, inserting, cores=8) == 1
    assert usable_cores() >= 1


def test_cgroup_quota_bounds_the_cores(tmp_path: Path) -> None:
    f = tmp_path / "cpu.max"
    f.write_text("150000 100000\n")
    assert usable_cores(f) <= 2
    f.write_text("max 100000\n")
    assert usable_cores(f) >= 1


def test_property_rules_for_processes() -> None:
    assert property_problems({"processes": "auto"}) == []
    assert property_problems({"processes": "2", "threadcount": "4"}) == []
    assert any("processes" in p for p in property_problems({"processes": "0"}))
    assert any("processes" in p for p in property_problems({"processes": "two"}))
    assert any("more than threadcount" in p for p in property_problems(
        {"processes": "8", "threadcount": "4"}))  # fmt: skip
    probs = property_problems({"processes": "2", "insertproportion": "0.5"})
    assert any("one shared insert sequence" in p for p in probs)
    assert property_problems({"processes": "2", "insertproportion": "0.5"}, run_phase=False) == []
    with pytest.raises(ParameterError, match="walks one shared key order"):
        NativeClient("basic", _props(processes="2", requestdistribution="latest"), "run")


# ---------------------------------------------------------------------------- real processes


def _run(tmp_path: Path, phase: str, processes: str, **kw: str) -> tuple[str, NativeClient]:
    d = tmp_path / f"p{processes}"
    d.mkdir()
    props = _props(
        processes=processes,
        threadcount="4",
        **{"measurement.interval_log": str(d / f"{phase}.hlog"),
           "measurement.interval_csv": str(d / f"{phase}.interval.csv"),
           "measurement.interval": "0.5"},
        **kw,
    )  # fmt: skip
    out: list[str] = []
    client = NativeClient("basic", props, phase, write=out.append, seed=11)
    client.run()
    return "".join(out), client


def _count(res: YcsbResult, op: str) -> int | None:
    row = res.get(op)
    return None if row is None else row.count


@pytest.mark.local
def test_two_processes_print_one_run_equal_to_one_process(tmp_path: Path) -> None:
    kw = {"operationcount": "40000", "recordcount": "1000"}
    one, c1 = _run(tmp_path, "run", "1", **kw)
    two, c2 = _run(tmp_path, "run", "2", **kw)
    assert c1.processes == 1 and c2.processes == 2
    r1, r2 = parse(one), parse(two)
    assert r2.complete and r2.error_count() == 0
    # the same seed and thread numbers: the same operations, whichever process ran them
    for op in ("READ", "UPDATE", "TOTAL"):
        assert _count(r1, op) == _count(r2, op)
    assert _count(r2, "TOTAL") == 40000
    hlog = read_hlog(tmp_path / "p2" / "run.hlog")  # one merged interval log
    assert hlog[hlog["operation"] == "TOTAL"]["count"].sum() == 40000
    assert re.search(r"^Run finished, takes", two, re.M)


@pytest.mark.local
def test_load_in_two_processes_inserts_each_key_once(tmp_path: Path) -> None:
    out, client = _run(tmp_path, "load", "2", recordcount="3000", verbose="true")
    assert client.processes == 2
    keys = re.findall(r"^INSERT usertable (\S+) ", out, re.M)
    assert len(keys) == 3000 and len(set(keys)) == 3000
    assert _count(parse(out), "INSERT") == 3000
