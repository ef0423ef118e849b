"""Per-interval latency: a stall shows in its own interval only; hlog, CSV and raw readers agree."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hdrh.log import HistogramLogReader

from workbench.ycsb import intervals as iv
from workbench.ycsb.native import NativeClient, register_binding
from workbench.ycsb.native.bindings import BasicBinding, Session
from workbench.ycsb.native.intervals import diff_histogram
from workbench.ycsb.native.props import Props
from workbench.ycsb.parser import parse_raw

DATA = Path(__file__).parent / "data"


class _PausedSession:
    """basic's session, except that calls starting inside the pause wait until it ends."""

    def __init__(self, inner: Session, pause: tuple[float, float]) -> None:
        self.inner, self.pause = inner, pause

    def _wait(self) -> None:
        now = time.perf_counter()
        if self.pause[0] <= now < self.pause[1]:
            time.sleep(self.pause[1] - now)

    def read(self, table: str, key: str, fields: Sequence[str] | None) -> dict[str, bytes]:
        self._wait()
        return self.inner.read(table, key, fields)

    def update(self, table: str, key: str, values: Mapping[str, bytes]) -> None:
        self._wait()
        self.inner.update(table, key, values)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class PausedBasic(BasicBinding):
    """The basic binding with its delay, plus one store pause (`pause.at_s`, `pause.s`)."""

    def __init__(self, props: Props) -> None:
        super().__init__(props)
        at = time.perf_counter() + props.get_float("pause.at_s", 0.0)
        self.window = (at, at + props.get_float("pause.s", 0.0))

    def session(self, thread_id: int) -> Session:
        return _PausedSession(super().session(thread_id), self.window)  # type: ignore[return-value]


register_binding("paused-basic", PausedBasic)


def stalled_run(tmp_path: Path, **extra: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    props = {
        "recordcount": "1000",
        "operationcount": "10000000",
        "readproportion": "0.5",
        "updateproportion": "0.5",
        "threadcount": "1",
        "measurement.interval": "1",
        "basicdb.randomizedelay": "false",
        "pause.at_s": "2.5",
        "pause.s": "2",
        "measurement.interval_log": str(tmp_path / "run.hlog"),
        "measurement.interval_csv": str(tmp_path / "run.csv"),
        **extra,
    }
    out: list[str] = []
    NativeClient("paused-basic", props, "run", write=out.append, seed=1).run()
    hlog = iv.read_hlog(tmp_path / "run.hlog")
    csv = iv.read_interval_csv(tmp_path / "run.csv")
    return hlog, csv


def total(df: pd.DataFrame) -> pd.DataFrame:
    """TOTAL's full one-second intervals, indexed by their end (1.0, 2.0, ...)."""
    t = df[(df.operation == "TOTAL") & (df.interval_s > 0.5)]
    return t.set_index(t.t_s.round())


@pytest.mark.local  # seconds of real time (a workload that sleeps)
def test_two_second_stall_shows_in_its_interval_p99_only(tmp_path: Path) -> None:
    hlog, csv = stalled_run(tmp_path, **{"basicdb.simulatedelay": "20", "maxexecutiontime": "7"})
    t = total(hlog)
    # the paused operation completes at ~4.5 s: interval (4, 5]; ~20 ms operations elsewhere
    assert t.loc[5.0, "p99_ms"] >= 1900
    assert t.loc[5.0, "max_ms"] >= 1900
    for neighbour in (2.0, 3.0, 6.0, 7.0):
        if t.loc[neighbour, "count"]:
            assert t.loc[neighbour, "p99_ms"] < 200, neighbour
    assert t.loc[4.0, "count"] == 0  # nothing completed while the store was paused
    assert t.loc[2.0, "count"] > 20 and t.loc[6.0, "count"] > 20
    assert t["intended_count"].sum() == 0  # no target: no intended clock
    # the CSV holds the same intervals as the HdrHistogram log
    pd.testing.assert_frame_equal(
        csv[["t_s", "operation", "count", "p99_ms"]], hlog[["t_s", "operation", "count", "p99_ms"]]
    )


@pytest.mark.local  # seconds of real time (a workload that sleeps)
def test_with_a_target_the_stall_is_in_intended_time_not_service_time(tmp_path: Path) -> None:
    hlog, _ = stalled_run(
        tmp_path,
        **{"basicdb.simulatedelay": "1", "target": "200", "maxexecutiontime": "7"},
    )
    t = total(hlog)
    # after the pause ~400 operations were due: they queue (intended) but each is quick (service)
    assert t.loc[5.0, "p99_intended_ms"] >= 1000
    assert t.loc[5.0, "p99_ms"] < 100
    assert t.loc[5.0, "max_ms"] >= 1900  # the one paused call itself
    assert t.loc[3.0, "p99_intended_ms"] < 100 and t.loc[3.0, "p99_ms"] < 100
    assert t.loc[7.0, "p99_intended_ms"] < 100
    assert t.loc[3.0, "count"] == t.loc[3.0, "intended_count"] > 0


def test_hlog_is_readable_by_hdrhistograms_own_reader(tmp_path: Path) -> None:
    props = {
        "recordcount": "100",
        "operationcount": "3000",
        "measurement.interval": "0.2",
        "measurement.interval_log": str(tmp_path / "a.hlog"),
        "basicdb.simulatedelay": "1",
        "threadcount": "4",
    }
    report = NativeClient("basic", props, "run", write=lambda _: None, seed=3).run()
    reader = HistogramLogReader(str(tmp_path / "a.hlog"), iv.new_histogram())
    counts: dict[str, int] = {}
    while (h := reader.get_next_interval_histogram()) is not None:
        counts[h.get_tag()] = counts.get(h.get_tag(), 0) + h.get_total_count()
    reader.close()
    final = {r.operation: r.count for r in report.final}
    assert counts == final  # the intervals add up to the cumulative final block, per operation
    assert sum(r["count"] for r in report.intervals if r["operation"] == "TOTAL") == 3000


def test_interval_histogram_is_the_difference_of_cumulative_counts() -> None:
    before = {100: 5, 3000: 1}
    now = {100: 7, 3000: 1, 2_000_000: 1}
    h = diff_histogram(now, before)
    assert h.get_total_count() == 3
    assert iv.latency_stats(h)["max_ms"] == pytest.approx(2000, rel=0.001)
    assert diff_histogram(now, now).get_total_count() == 0


def test_raw_samples_to_intervals() -> None:
    res = parse_raw((DATA / "go_ycsb_raw.csv").read_text())
    df = iv.raw_intervals(res.raw_samples, 0.005)
    assert set(df.columns) == set(iv.COLUMNS)
    # every sample lands in exactly one interval
    per_op = df.groupby("operation")["count"].sum().to_dict()
    assert per_op == {r.operation: r.count for r in res.final}
    # the interval grid is complete: no missing steps; the last ends at the last completion
    steps = sorted(df.t_s.unique())
    assert steps[:-1] == pytest.approx([0.005 * (i + 1) for i in range(len(steps) - 1)])
    assert steps[-1] == pytest.approx(res.run_seconds) and steps[-1] < 0.005 * len(steps)
    read = df[df.operation == "READ"].iloc[0]
    # READ samples completing in the first 5 ms: 1.2 ms and 0.8 ms (and 5 ms ends at 8 ms)
    assert read["count"] == 2 and read["max_ms"] == pytest.approx(1.2, rel=0.01)


def test_raw_intervals_end_with_the_partial_interval_the_run_ended_in() -> None:
    """Samples over 2.03 s in 1 s intervals: [0, 1), [1, 2), and a 0.03 s sliver, marked
    partial, never claimed as a full second at 1/30 of its rate."""
    samples = [("READ", i * 10_000, 10_000) for i in range(203)]  # completing 0.01 .. 2.03 s
    df = iv.raw_intervals(samples, 1.0, start_us=0)
    assert df["t_s"].tolist() == pytest.approx([1.0, 2.0, 2.03])
    assert df["interval_s"].tolist() == pytest.approx([1.0, 1.0, 0.03])
    assert iv.partial_mask(df["interval_s"]).tolist() == [False, False, True]
    assert df["count"].tolist() == [99, 100, 4]


def test_raw_intervals_rejects_a_bad_interval() -> None:
    with pytest.raises(ValueError):
        iv.raw_intervals([("READ", 0, 1)], 0)
    assert iv.raw_intervals([], 1.0).empty
