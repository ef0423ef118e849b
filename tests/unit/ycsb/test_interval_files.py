"""Per-interval files through a run: which tool writes them (registry), where (the bind mount),
how the run directory reads them back (client intervals, timeline rows, go-ycsb raw samples)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from workbench.artifacts import Mark, RunDir, build_timeline, client_rows
from workbench.manifest import load_manifest
from workbench.run import workload
from workbench.stack import Stack
from workbench.ycsb import intervals as iv
from workbench.ycsb.parser import parse
from workbench.ycsb.runner import RunOutcome
from workbench.ycsb.tools import PhaseRecord, PhaseRequest, get_tool

DATA = Path(__file__).parent / "data"
T0 = 1_700_000_000.0


def request(phase: str = "run") -> PhaseRequest:
    return PhaseRequest(
        phase=phase,
        binding="etcd",
        workload_file="/workloads/workloada",
        properties={"etcd.endpoints": "http://etcd0:2379"},
        threads=2,
        duration_s=10.0,
        interval_dir="/r/ycsb/",
    )


def test_the_native_tool_writes_interval_files_and_go_ycsb_does_not() -> None:
    native, go = get_tool("native"), get_tool("go-ycsb")
    assert native.interval_logs and not go.interval_logs
    props = native.properties(request())
    assert props["measurement.interval_log"] == "/r/ycsb/run.hlog"
    assert props["measurement.interval_csv"] == "/r/ycsb/run.interval.csv"
    assert "measurement.interval_log" not in go.properties(request())
    argv = native.argv(request("load"), native.properties(request("load")), gated=False)
    assert "measurement.interval_log=/r/ycsb/load.hlog" in argv


def test_run_argv_bind_mounts_each_volume_before_the_service(tmp_path: Path) -> None:
    st = Stack(load_manifest("etcd"), run_dir=tmp_path)
    argv = st.run_argv("ycsb", name="x", volumes={str(tmp_path / "ycsb"): "/in/ycsb"})
    i = argv.index("-v")
    assert argv[i + 1] == f"{(tmp_path / 'ycsb').resolve()}:/in/ycsb"
    assert argv[-1] == "ycsb" and i < len(argv) - 1
    assert "-v" not in st.run_argv("ycsb")


def hist_rows(target: bool = False) -> pd.DataFrame:
    rows = []
    for t in (1.0, 2.0, 2.5):  # the last interval is partial (0.5 s)
        hists = {"READ": iv.new_histogram(), "TOTAL": iv.new_histogram()}
        if target:
            hists["TOTAL-INTENDED"] = iv.new_histogram()
        for v in range(1000, 1100):
            hists["READ"].record_value(v)
            hists["TOTAL"].record_value(v)
            if target:
                hists["TOTAL-INTENDED"].record_value(v * 3)
        rows += iv.interval_rows(t, 0.5 if t == 2.5 else 1.0, hists, T0)
    return iv.frame(rows)


def test_client_rows_from_histograms_are_per_interval_and_named_so() -> None:
    rows = client_rows(None, "run", T0, hist_rows())
    names = set(rows["name"])
    assert names == {
        "client_ops",
        "client_p50_ms",
        "client_p99_ms",
        "client_p999_ms",
        "client_max_ms",
    }
    ops = rows[(rows["name"] == "client_ops") & (rows["series"] == "TOTAL")]
    assert ops["value"].tolist() == [100.0, 100.0, 200.0]  # 100 ops in the 0.5 s interval
    assert ops["unix"].tolist() == [T0 + 1, T0 + 2, T0 + 2.5]
    p99 = rows[(rows["name"] == "client_p99_ms") & (rows["series"] == "READ")]["value"]
    assert p99.tolist() == pytest.approx([1.099] * 3, abs=0.002)
    with_target = client_rows(None, "run", T0, hist_rows(target=True))
    intended = with_target[
        (with_target["name"] == "client_p99_intended_ms") & (with_target["series"] == "TOTAL")
    ]
    assert intended["value"].iloc[0] == pytest.approx(3.297, abs=0.005)


def test_status_blocks_alone_never_give_per_interval_percentiles() -> None:
    status = pd.DataFrame(
        {"t_s": [1.0, 2.0], "operation": ["TOTAL"] * 2, "interval_ops": [10.0, 12.0],
         "interval_avg_us": [900.0, 950.0], "p50_us": [800.0, 810.0], "p99_us": [2000.0, 2100.0]}
    )  # fmt: skip
    rows = client_rows(status, "run", T0)
    assert set(rows["name"]) == {"client_ops", "client_avg", "client_p50_cum", "client_p99_cum"}
    both = client_rows(status, "run", T0, hist_rows())
    assert len(both[both["name"] == "client_ops"]) == 6  # from the histograms, not twice
    assert "client_p99_cum" in set(both["name"])


def test_fault_marks_keep_their_source() -> None:
    marks = [
        Mark(name="run", start=T0, end=T0 + 10, source="stage"),
        Mark(name="pause:etcd1", start=T0 + 3, end=T0 + 6, source="fault"),
    ]
    tl = build_timeline([], [], marks, T0)
    assert set(zip(tl["name"], tl["source"], strict=True)) == {
        ("run", "mark"),
        ("pause:etcd1", "fault"),
    }
    assert set(tl["kind"]) == {"mark"}


def record(text: str, first_line: float) -> PhaseRecord:
    outcome = RunOutcome(["go-ycsb"], 0, text, parse(text), None, False, 2.0)
    return PhaseRecord(outcome, "go-ycsb", first_line - 1, first_line, first_line + 3)


def test_go_ycsb_raw_samples_become_the_interval_csv_on_the_phase_clock(tmp_path: Path) -> None:
    text = (DATA / "go_ycsb_raw.csv").read_text()
    rd = RunDir.create(tmp_path, "r", "etcd", {})
    first = min(ts for _, ts, _ in parse(text).raw_samples) / 1e6
    workload.save_raw_intervals(rd, record(text, first), "run", 0.005)
    hist = workload.interval_histograms(rd, "run")
    assert hist is not None and set(hist["operation"]) == {"READ", "UPDATE", "TOTAL"}
    assert hist.groupby("operation")["count"].sum().to_dict() == {
        "READ": 4,
        "TOTAL": 5,
        "UPDATE": 1,
    }
    got = workload.client_intervals(rd, "run", first)
    assert got is not None
    lengths = (got.sort_values("end")["end"] - got.sort_values("end")["start"]).round(6)
    assert lengths.iloc[:-3].eq(0.005).all()  # the last interval (3 rows) ends with the run
    assert 0 < lengths.iloc[-1] <= 0.005
    assert math.isclose(got["start"].min(), first)


def test_client_intervals_from_status_blocks_when_no_histograms(tmp_path: Path) -> None:
    rd = RunDir.create(tmp_path, "r", "etcd", {})
    status = pd.DataFrame(
        {"t_s": [1.0, 1.0, 2.0, 2.0], "operation": ["READ", "TOTAL"] * 2,
         "interval_count": [5, 9, 6, 11]}
    )  # fmt: skip
    rd.save_ycsb("run", pd.DataFrame({"operation": ["TOTAL"]}), status)
    got = workload.client_intervals(rd, "run", T0)
    assert got is not None
    assert got["start"].tolist() == [T0, T0, T0 + 1, T0 + 1]
    assert got["count"].tolist() == [5.0, 9.0, 6.0, 11.0]


def test_the_partial_interval_is_marked_on_the_timeline_with_its_length() -> None:
    rows = client_rows(None, "run", T0, hist_rows())
    tl = build_timeline([rows], [], [Mark(name="run", start=T0, end=T0 + 2.5)], T0)
    ops = tl[(tl["name"] == "client_ops") & (tl["series"] == "TOTAL")]
    assert ops["partial"].tolist() == [False, False, True]  # the 0.5 s one of 1 s intervals
    assert ops["interval_s"].tolist() == [1.0, 1.0, 0.5]
    p99 = tl[(tl["name"] == "client_p99_ms") & tl["partial"]]
    assert p99["t_s"].tolist() == [2.5, 2.5]  # READ and TOTAL: every row of that interval
    assert not tl.loc[tl["kind"] == "mark", "partial"].any()
