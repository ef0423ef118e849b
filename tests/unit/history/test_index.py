"""The history index: rows from run directories, the cache, series by key and environment."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from workbench.artifacts import write_json
from workbench.history import analyse, build_index, group, judge, run_series, to_json
from workbench.history.index import INDEX_FILE

from .conftest import make_run


def test_a_row_holds_key_environment_versions_labels_and_numbers(results: Path) -> None:
    make_run(results, 0, labels={"commit": "abc123"}, threads=8, props={"etcd.dial": "3s"})
    (row,) = build_index(results).rows
    assert row.key.subject == "etcd" and row.key.threads == 8 and row.key.workload == "a"
    assert row.key.other == {"duration": "20.0", "props": '{"etcd.dial": "3s"}'}
    assert row.env.cores == 2 and row.env.kernel == "6.1.0" and row.env.engine == "27.0"
    assert row.versions.workbench == "0.1.0"
    assert row.labels == {"commit": "abc123"}
    assert row.numbers.throughput == 1000.0 and row.status == "passed"
    assert "run_id" not in row.key.fields() and "fault_seed" not in row.key.fields()


def test_the_seed_run_id_and_labels_do_not_split_a_series(results: Path) -> None:
    make_run(results, 0, labels={"commit": "a"}, fault_seed=1)
    make_run(results, 1, labels={"commit": "b"}, fault_seed=7)
    make_run(results, 2, threads=8)
    series = group(build_index(results).rows)
    assert sorted(len(v) for v in series.values()) == [1, 2]


def test_another_environment_class_never_shares_a_series(results: Path) -> None:
    for i in range(12):
        make_run(results, i, cores=2 if i % 2 else 4, throughput=1000.0 + 100 * (i % 2))
    analysed = analyse(run_series(build_index(results).rows, ["throughput"]))
    assert len(analysed) == 2
    assert {a.series.key["environment"].split(" ")[0] for a in analysed} == {"2", "4"}
    assert all(not a.analysis.change_points for a in analysed)  # no step between classes


def test_the_index_is_cached_and_updated_incrementally(results: Path) -> None:
    for i in range(3):
        make_run(results, i)
    first = build_index(results)
    assert first.read == 3 and (results / INDEX_FILE).is_file()
    again = build_index(results)
    assert again.read == 0 and again.rows == first.rows
    make_run(results, 3, throughput=5.0)
    rd = make_run(results, 4)
    rd.update(error="changed")  # run.json rewritten: read again
    third = build_index(results)
    assert third.read == 2 and len(third.rows) == 5
    assert third.rows[3].numbers.throughput == 5.0
    (results / INDEX_FILE).write_text("{broken")  # a damaged cache is rebuilt, not trusted
    assert build_index(results).read == 5


def test_unreadable_directories_are_problems_not_crashes(results: Path) -> None:
    make_run(results, 0)
    bad = results / "broken"
    bad.mkdir()
    (bad / "run.json").write_text("{not json")
    index = build_index(results)
    assert len(index.rows) == 1 and "broken" in index.problems


def test_an_old_schema_1_run_json_is_indexed(results: Path) -> None:
    d = results / "20250101T000000.000Z-etcd-a-old"
    d.mkdir()
    write_json(
        d / "run.json",
        {
            "schema": 1,
            "run_id": d.name,
            "subject": "etcd",
            "params": {"workload": "a", "threads": 4},
            "status": "passed",
            "started": "2025-01-01T00:00:00Z",
            "started_unix": 1735689600.0,
            "summary": {"throughput": 900.0, "p99_ms": 4.0},
            "ycsb_run": {"tool": "go-ycsb"},
        },
    )
    (row,) = build_index(results).rows
    assert row.key.tool == "go-ycsb" and row.labels == {} and row.numbers.throughput == 900.0


def test_select_by_key_fields_and_labels(results: Path) -> None:
    make_run(results, 0, labels={"branch": "main"})
    make_run(results, 1, labels={"branch": "dev"})
    make_run(results, 2, labels={"branch": "main"}, threads=8)
    index = build_index(results)
    assert len(index.select(labels={"branch": "main"})) == 2
    assert len(index.select({"threads": "8"}, {"branch": "main"})) == 1
    assert len(index.select({"subject": "tikv"})) == 0
    assert len(index.select({"cores": "2", "status": "passed"})) == 3


def test_errors_and_missing_numbers_stay_out_of_a_series(results: Path) -> None:
    make_run(results, 0)
    make_run(results, 1, status="error")
    make_run(results, 2, p99=None)
    (tp, p99) = run_series(build_index(results).rows)
    assert (tp.metric, len(tp.points)) == ("throughput", 2)
    assert (p99.metric, len(p99.points)) == ("p99_ms", 1)


def test_a_step_in_the_runs_is_a_change_and_a_regression(results: Path) -> None:
    rng = np.random.default_rng(0)
    for i in range(13):
        tp = (1000.0 if i < 8 else 800.0) * (1 + 0.01 * rng.standard_normal())
        make_run(results, i, throughput=tp, labels={"commit": f"c{i + 1}"})
    (a,) = analyse(run_series(build_index(results).rows, ["throughput"]))
    (change,) = a.changes
    assert change.point.index == 8 and change.point.strength == "strong"
    assert (change.last_before.labels, change.first_after.labels) == (
        {"commit": "c8"},
        {"commit": "c9"},
    )
    doc = to_json([a])
    assert set(doc) == {"series"}
    (s,) = doc["series"]
    assert set(s) == {"key", "metric", "points", "change_points"} and s["points"] == 13
    (cp,) = s["change_points"]
    assert set(cp) == {"index", "time", "before", "after", "change", "p_value", "strength"}
    assert cp["index"] == 8 and cp["change"] == pytest.approx(-0.2, abs=0.02)
    assert cp["time"] == a.series.points[8].time
    json.dumps(doc)  # plain JSON
    v = judge(a)
    assert v.outcome == "regression" and v.change == pytest.approx(-0.2, abs=0.02)
