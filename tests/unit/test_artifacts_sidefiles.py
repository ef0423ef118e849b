"""A run's side files, each through its one accessor on RunDir: where the tool writes, the error
classes typed (a missing or damaged file is None), the raw server scrapes and how to split them,
a figure kept only while newer than the timeline, the files the index links to."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from workbench.artifacts import RunDir, ServerOpsInfo, index_files, is_run_dir, report_of


def test_the_tools_files_are_under_ycsb(tmp_path: Path) -> None:
    rd = RunDir.create(tmp_path, "r", "etcd", {})
    assert rd.ycsb_log("run") == rd.path / "ycsb" / "run.log"
    assert rd.interval_csv("run").name == "run.interval.csv" and rd.hlog("run").name == "run.hlog"
    assert rd.interval_histograms("run") is None and not rd.has_intervals("run")
    rd.interval_csv("run").write_text("")  # a tool that started and wrote nothing
    assert rd.interval_histograms("run") is None and not rd.has_intervals("run")
    rd.save_ycsb("run", pd.DataFrame({"a": [1]}), pd.DataFrame({"t_s": [1.0]}))
    assert rd.has_intervals("run")


def test_error_classes_are_typed_and_a_damaged_file_is_none(tmp_path: Path) -> None:
    rd = RunDir.create(tmp_path, "r", "etcd", {})
    assert rd.error_classes("run") is None  # go-ycsb writes none
    path = rd.ycsb_dir / "run.errors.json"
    doc = {
        "run_seconds": 3.0,
        "totals": {"READ": {"timeout": 2}},
        "per_second": [{"t_s": 1.0, "operation": "READ", "class": "timeout", "count": 2}],
        "completions_100ms": [
            {"t_s": 0.1, "ok": 5, "errors": 0},
            {"t_s": 0.2, "ok": 0, "errors": 2},
        ],
    }
    path.write_text(json.dumps(doc))
    got = rd.error_classes("run")
    assert got is not None and got.totals == {"READ": {"timeout": 2}}
    assert [(c.t_s, c.ok, c.errors) for c in got.completions_100ms] == [(0.1, 5, 0), (0.2, 0, 2)]
    assert got.per_second[0].error_class == "timeout"
    path.write_text('{"completions_100ms": [{"ok": 1}]}')  # no t_s
    assert rd.error_classes("run") is None
    path.write_text("{not json")
    assert rd.error_classes("run") is None


def test_raw_server_ops_round_trip_with_how_to_split_them(tmp_path: Path) -> None:
    rd = RunDir.create(tmp_path, "r", "etcd", {})
    assert rd.server_ops() == (None, ServerOpsInfo())
    raw = pd.DataFrame({"timestamp": [1.0, 2.0], "value": [3.0, 4.0]})
    rd.save_server_ops(raw, ServerOpsInfo(selector="etcd_ops_total", by=["type"]))
    frame, info = rd.server_ops()
    assert frame is not None and frame["value"].tolist() == [3.0, 4.0]
    assert info == ServerOpsInfo(selector="etcd_ops_total", by=["type"])


def test_a_figure_is_kept_only_while_newer_than_the_timeline(tmp_path: Path) -> None:
    rd = RunDir.create(tmp_path, "r", "etcd", {})
    assert rd.figure("throughput") is None  # neither exists
    rd.save_timeline(pd.DataFrame({"t": [1.0]}))
    rd.save_png("throughput", b"png")
    assert rd.figure("throughput") == b"png"
    later = rd.timeline_path.stat().st_mtime + 10
    os.utime(rd.timeline_path, (later, later))  # the timeline changed after the figure
    assert rd.figure("throughput") is None


def test_index_files_report_and_rendered_after_the_record(tmp_path: Path) -> None:
    rd = RunDir.create(tmp_path, "r", "etcd", {})
    assert is_run_dir(rd.path) and not is_run_dir(tmp_path)
    assert index_files(rd.path) == ["run.json"] and report_of(rd.path) == rd.report_path
    assert not rd.rendered_after_record()
    rd.save_verdicts([])
    rd.report_path.write_text("<html>")
    (tmp_path / "index.html").write_text("<html>")
    assert index_files(rd.path) == ["report.html", "run.json", "checks.json"]
    assert rd.rendered_after_record()
    later = rd.record_path.stat().st_mtime + 10
    os.utime(rd.record_path, (later, later))
    assert not rd.rendered_after_record()
