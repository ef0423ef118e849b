"""Plots: pure functions frame → Figure, checked by what they actually drew."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_artifacts import synthetic_run

from workbench.artifacts import TIMELINE_COLUMNS
from workbench.report import plots


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    return synthetic_run(tmp_path_factory.mktemp("runs"), seconds=12)


def labels(fig) -> list[str]:
    return [line.get_label() for ax in fig.axes for line in ax.get_lines()]


def span_names(ax) -> list[str]:
    return [t.get_text().strip() for t in ax.texts]


def test_throughput_has_client_and_server_on_one_clock_with_marks(run) -> None:
    tl = run.timeline()
    fig = plots.throughput(tl)
    got = labels(fig)
    assert "client ops/s (run)" in got and "client ops/s (load)" in got
    assert "server server_ops" in got
    ax = fig.axes[0]
    assert sorted(span_names(ax)) == ["load", "run", "warmup"]
    client = next(line for line in ax.get_lines() if line.get_label() == "client ops/s (run)")
    server = next(line for line in ax.get_lines() if line.get_label() == "server server_ops")
    # client ticks at 1..12 s after run start; the server series spans the same window
    assert list(client.get_xdata()) == [float(t) for t in range(1, 13)]
    assert min(server.get_xdata()) <= 0 <= 12 <= max(server.get_xdata())
    # the server series is the sum over label sets (Range + Put + Txn = 500 + 500 + 0)
    assert set(server.get_ydata()) == {1000.0}
    assert len(plots.to_png(fig)) > 10_000


def test_latency_is_in_ms_and_shows_client_and_server(run) -> None:
    fig = plots.latency(run.timeline())
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    p99 = lines["client p99 (cumulative) READ (run)"]
    assert p99.get_ydata()[0] == pytest.approx(3.04)  # 3040 us
    srv = lines["server server_p99 grpc_method=Range"]
    assert set(srv.get_ydata()) == {4.0}  # 0.004 s
    assert "client p50 (cumulative) UPDATE (run)" in lines
    assert not any("mean" in k for k in lines)  # the mean stays in the timeline, not this figure
    assert not any(" TOTAL " in k for k in lines)
    assert sorted(span_names(fig.axes[0])) == ["load", "run", "warmup"]


def test_resources_one_panel_per_query(run) -> None:
    fig = plots.resources(run.timeline())
    assert len(fig.axes) == 1 and len(fig.axes[0].get_lines()) == 3
    assert fig.axes[0].get_ylabel() == "cpu (cores)"


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


def test_overlay_draws_each_run(tmp_path: Path) -> None:
    a = synthetic_run(tmp_path, seconds=6, run_id="a", ops_rate=1000.0)
    b = synthetic_run(tmp_path, seconds=6, run_id="b", ops_rate=1500.0)
    fig = plots.overlay({"a": a.timeline(), "b": b.timeline()}, "throughput")
    got = labels(fig)
    assert "a" in got and "b" in got and "b server server_ops" in got
    lat = labels(plots.overlay({"a": a.timeline(), "b": b.timeline()}, "latency"))
    assert any(lab.startswith("a: client p99") for lab in lat)
    assert any(lab.startswith("b: client p99") for lab in lat)
    with pytest.raises(ValueError, match="throughput or latency"):
        plots.overlay({}, "cpu")
