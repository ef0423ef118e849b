"""Plots: pure functions frame → Figure, checked by what they actually drew."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_artifacts import synthetic_run

from workbench.artifacts import (
    TIMELINE_COLUMNS,
    Mark,
    build_timeline,
    client_rows,
    server_rows,
)
from workbench.report import plots
from workbench.ycsb import intervals as iv

T0 = 1_800_000_000.0
STALL_AT = 6  # the interval (1 s, ending at 6 s) holding a 3 s stall


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    return synthetic_run(tmp_path_factory.mktemp("runs"), seconds=12)


def histograms(seconds: int = 10, target: bool = False) -> pd.DataFrame:
    """Interval-histogram rows as the native generator writes them: READ and UPDATE 1-3 ms,
    a 3,000 ms stall in one interval, TOTAL the union; intended time with a target."""
    rng = np.random.default_rng(7)
    rows = []
    for t in range(1, seconds + 1):
        hists: dict[str, iv.HdrHistogram] = {}
        for op in ("READ", "UPDATE", "TOTAL"):
            hists[op] = iv.new_histogram()
            if target:
                hists[f"{op}-INTENDED"] = iv.new_histogram()
        for op in ("READ", "UPDATE"):
            lat = rng.integers(1000, 3000, 400)
            if t == STALL_AT:
                lat[:4] = 3_000_000
            for v in lat:
                for tag in (op, "TOTAL"):
                    hists[tag].record_value(int(v))
                    if target:
                        hists[f"{tag}-INTENDED"].record_value(int(v) * 2)
        rows += iv.interval_rows(float(t), 1.0, hists, T0)
    return iv.frame(rows)


def timeline_with_intervals(target: bool = False) -> pd.DataFrame:
    hist = histograms(target=target)
    client = [client_rows(None, "run", T0, hist)]
    stamps = pd.date_range(pd.Timestamp(T0 - 2, unit="s", tz="UTC"), periods=14, freq="1s")
    methods = ["Range", "Put", "Txn", "Compact"]
    aligned = pd.DataFrame(
        {
            "unix": np.repeat(T0 + np.arange(1, 11, dtype=float), 3),
            "name": "server_ops_aligned",
            "series": np.tile(["TOTAL", "grpc_method=Range", "grpc_method=Txn"], 10),
            "kind": "throughput",
            "unit": "ops/s",
            "value": np.tile([800.0, 400.0, 0.0], 10),
            "source": "server",
            "phase": "run",
        }
    )
    ops = pd.DataFrame(
        {
            "timestamp": np.repeat(stamps, 4),
            "value": np.tile([400.0, 400.0, 0.0, 0.0], 14),
            "grpc_method": np.tile(methods, 14),
        }
    )
    memory = pd.DataFrame(
        {
            "timestamp": np.repeat(stamps, 3),
            "value": 64 * 2**20 + np.zeros(42),
            "instance": np.tile(["etcd0:2379", "etcd1:2379", "etcd2:2379"], 14),
        }
    )
    p99 = ops.assign(value=np.where(ops["value"] > 0, 0.004, np.nan))
    server = [
        aligned,
        server_rows("server_ops", ops, "ops/s", "throughput"),
        server_rows("server_p99", p99, "s", "latency"),
        server_rows("memory", memory, "bytes", "resource"),
    ]
    marks = [
        Mark(name="run", start=T0, end=T0 + 10, source="stage"),
        Mark(name="pause:etcd1", start=T0 + 4.5, end=T0 + 7.5, source="fault"),
    ]
    return build_timeline(client, server, marks, T0)


def labels(fig) -> list[str]:
    return [line.get_label() for ax in fig.axes for line in ax.get_lines()]


def span_names(ax) -> list[str]:
    return [t.get_text().strip() for t in ax.texts]


def test_throughput_draws_client_per_operation_and_the_aligned_server() -> None:
    fig = plots.throughput(timeline_with_intervals())
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {
        "client TOTAL",
        "client READ",
        "client UPDATE",
        "server ops/s (per interval)",
        "server Range (per interval)",
    }  # no Txn (no traffic), no rate-window series beside the aligned ones
    assert list(lines["client TOTAL"].get_ydata()) == [800.0] * 10
    assert list(lines["server ops/s (per interval)"].get_xdata()) == [
        float(t) for t in range(1, 11)
    ]
    assert sorted(span_names(ax)) == ["pause:etcd1", "run"]
    assert "Throughput" in ax.get_title() and ax.get_ylabel() == "operations / s"
    assert len(plots.to_png(fig)) > 10_000


def test_throughput_falls_back_to_rate_window_series_named_so(run) -> None:
    fig = plots.throughput(run.timeline())
    got = labels(fig)
    assert "client TOTAL" in got and "client TOTAL (load)" in got
    assert "server server_ops (rate window)" in got
    assert sorted(span_names(fig.axes[0])) == ["load", "run", "warmup"]


def test_latency_is_per_interval_and_a_stall_is_a_spike() -> None:
    fig = plots.latency(timeline_with_intervals())
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert {"client TOTAL p50", "client TOTAL p99", "client TOTAL p99.9"} <= set(lines)
    assert {"client READ p99", "client UPDATE p99"} <= set(lines)
    assert "server server_p99 grpc_method=Range" in lines
    assert not any("Txn" in k or "Compact" in k for k in lines)  # no traffic: dropped
    assert len(lines) <= plots.MAX_LEGEND
    p999 = lines["client TOTAL p99.9"].get_ydata()
    assert p999[STALL_AT - 1] >= 1000 and max(np.delete(p999, STALL_AT - 1)) < 10
    assert ax.get_yscale() == "log" and ax.get_title() == "Latency per interval"
    assert "pause:etcd1" in span_names(ax)


def test_latency_with_a_target_shows_intended_beside_service_time() -> None:
    lines = labels(plots.latency(timeline_with_intervals(target=True)))
    assert "client TOTAL p99 intended" in lines and "client TOTAL p99" in lines
    assert len(lines) <= plots.MAX_LEGEND


def test_latency_without_interval_histograms_says_cumulative(run) -> None:
    fig = plots.latency(run.timeline())
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    p99 = lines["client p99 (cumulative) READ (run)"]
    assert p99.get_ydata()[0] == pytest.approx(3.04)  # 3040 us
    assert "server server_p99 grpc_method=Range" in lines
    assert not any("mean" in k for k in lines)
    assert fig.axes[0].get_title() == "Latency (client: cumulative)"
    assert len(lines) <= plots.MAX_LEGEND


def test_resources_in_readable_units() -> None:
    fig = plots.resources(timeline_with_intervals())
    ax = fig.axes[0]
    assert ax.get_ylabel() == "memory (MiB)"
    assert {line.get_label() for line in ax.get_lines()} == {
        "etcd0:2379",
        "etcd1:2379",
        "etcd2:2379",
    }
    assert set(ax.get_lines()[0].get_ydata()) == {64.0}


def test_resources_one_panel_per_query(run) -> None:
    fig = plots.resources(run.timeline())
    assert len(fig.axes) == 1 and len(fig.axes[0].get_lines()) == 3
    assert fig.axes[0].get_ylabel() == "cpu (cores)"


def test_legend_is_capped_and_the_rest_counted() -> None:
    tl = timeline_with_intervals()
    stamps = pd.date_range(pd.Timestamp(T0, unit="s", tz="UTC"), periods=5, freq="1s")
    many = pd.DataFrame(
        {
            "timestamp": np.repeat(stamps, 12),
            "value": np.tile(np.arange(1.0, 13.0), 5),
            "instance": np.tile([f"n{i}" for i in range(12)], 5),
        }
    )
    tl = pd.concat(
        [tl, build_timeline([], [server_rows("cpu", many, "cores", "resource")], [], T0)]
    )
    ax = plots.resources(tl).axes[1]
    assert ax.get_ylabel() == "cpu (cores)"
    assert len(ax.get_lines()) == plots.MAX_LEGEND
    assert "+4 series not shown" in span_names(ax)


def test_percentile_table_in_ms_and_missing_stays_missing(run) -> None:
    final = run.ycsb_final("run")
    table = plots.percentile_table(final)
    assert list(table.index) == ["READ", "UPDATE", "TOTAL"]
    assert table.loc["UPDATE", "p99 ms"] == pytest.approx(3.9)
    assert table.loc["TOTAL", "ops/s"] == pytest.approx(1000.0)
    old = final.drop(columns=["p50_us", "p90_us", "p95_us"]).assign(p999_us=float("nan"))
    t2 = plots.percentile_table(old)
    assert "p50 ms" not in t2.columns and t2["p99.9 ms"].isna().all()
    fig = plots.percentile_table_figure(old)
    cells = [c.get_text().get_text() for c in fig.axes[0].tables[0].get_celld().values()]
    assert "—" in cells and "READ" in cells


def test_empty_timeline_says_so() -> None:
    empty = pd.DataFrame({c: pd.Series(dtype="object") for c in TIMELINE_COLUMNS})
    for fn in (plots.throughput, plots.latency):
        fig = fn(empty)
        assert any("no " in t.get_text() for t in fig.axes[0].texts)


def test_overlay_draws_each_run_labelled(tmp_path: Path) -> None:
    a = synthetic_run(tmp_path, seconds=6, run_id="a", ops_rate=1000.0)
    b = synthetic_run(tmp_path, seconds=6, run_id="b", ops_rate=1500.0)
    got = labels(plots.overlay({"a": a.timeline(), "b": b.timeline()}, "throughput"))
    assert got == ["a: TOTAL", "b: TOTAL"]
    fast = {"x": timeline_with_intervals(), "y": timeline_with_intervals()}
    got = labels(plots.overlay(fast, "throughput"))
    assert got == [
        "x: TOTAL",
        "x: server ops/s (per interval)",
        "y: TOTAL",
        "y: server ops/s (per interval)",
    ]
    lat = labels(plots.overlay(fast, "latency"))
    assert lat == ["x: TOTAL p99", "y: TOTAL p99"]
    cum = labels(plots.overlay({"a": a.timeline()}, "latency"))
    assert cum == ["a: p99 (cumulative) TOTAL (run)"]
    many = labels(plots.overlay({f"r{i}": a.timeline() for i in range(12)}, "throughput"))
    assert len(many) == plots.MAX_LEGEND
    with pytest.raises(ValueError, match="throughput or latency"):
        plots.overlay({}, "cpu")


def test_run_labels_name_what_differs() -> None:
    got = plots.run_labels(
        {
            "r1": {"run_id": "r1", "threads": 2, "workload": "a"},
            "r2": {"run_id": "r2", "threads": 8, "workload": "a"},
            "r3": {"run_id": "r3", "threads": 8, "workload": "a"},
        }
    )
    assert got == {"r1": "#0 threads=2", "r2": "#1 threads=8", "r3": "#2 threads=8"}
    assert plots.run_labels({"a": {"x": 1}, "b": {"x": 1}}) == {"a": "#0", "b": "#1"}


def test_label_sets_are_named_by_what_differs() -> None:
    got = plots.short_names(["instance=etcd0:2379,job=etcd", "instance=etcd1:2379,job=etcd"])
    assert got == {
        "instance=etcd0:2379,job=etcd": "etcd0:2379",
        "instance=etcd1:2379,job=etcd": "etcd1:2379",
    }
    assert plots.short_names(["a=1,b=2", "a=2,b=3"]) == {"a=1,b=2": "a=1,b=2", "a=2,b=3": "a=2,b=3"}
    assert plots.short_names(["instance=x"]) == {"instance=x": "x"}


def test_the_last_partial_interval_is_not_drawn_as_a_rate() -> None:
    """A run at ~800 ops/s ends with a 0.03 s sliver of 218 ops/s: no cliff at the end."""
    hist = histograms()
    sliver = []
    for op in ("READ", "UPDATE", "TOTAL"):
        h = iv.new_histogram()
        for v in range(1000, 1000 + (6 if op == "TOTAL" else 3)):
            h.record_value(v)
        sliver += iv.interval_rows(10.03, 0.03, {op: h}, T0)
    tl = build_timeline([client_rows(None, "run", T0, pd.concat([hist, iv.frame(sliver)]))],
                        [], [], T0)  # fmt: skip
    fig = plots.throughput(tl)
    ax = fig.axes[0]
    (total,) = [ln for ln in ax.get_lines() if ln.get_label() == "client TOTAL"]
    assert min(total.get_ydata()) > 700 and max(total.get_xdata()) == 10.0
    assert any("partial" in t.get_text() and "0.03 s" in t.get_text() for t in ax.texts)
    lat = plots.latency(tl).axes[0]
    assert all(max(ln.get_xdata()) == 10.0 for ln in lat.get_lines())
    old = tl.drop(columns=["interval_s", "partial"])  # a timeline written before the marks
    (total,) = [
        ln for ln in plots.throughput(old).axes[0].get_lines() if ln.get_label() == "client TOTAL"
    ]
    assert max(total.get_xdata()) == pytest.approx(10.03)
