"""The run directory: layout, atomic JSON, stages, verdicts, timeline on one clock.

`synthetic_run` builds a complete run directory from frames shaped exactly like the YCSB parser's
and the Prometheus collector's output; the plot, report and bench tests reuse it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import time
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest

from workbench import artifacts
from workbench.artifacts import Mark, RunDir, build_timeline, client_rows, server_rows
from workbench.model import Verdict

EVIL = '<script>alert("x")</script>&<img src=x onerror=alert(1)>'


def synthetic_run(
    results: Path,
    seconds: int = 20,
    *,
    run_id: str | None = None,
    status: str = "passed",
    workload: str = "a",
    evil: bool = False,
    ops_rate: float = 1000.0,
) -> RunDir:
    """A finished run directory with realistic frames (no stack involved)."""
    rng = np.random.default_rng(seconds)
    run_id = run_id or f"20260101T000000.000Z-etcd-{workload}-{seconds:06x}"
    rd = RunDir.create(results, run_id, "etcd", {"subject": "etcd", "workload": workload})
    t0 = float(rd.record.started_unix)
    load_start, load_end = t0 + 1.0, t0 + 3.0
    run_start, run_end = t0 + 3.5, t0 + 3.5 + seconds
    rd.add_mark("load", load_start, load_end)
    rd.add_mark("run", run_start, run_end)
    rd.add_mark("warmup", run_start, run_start + 2)
    ts = np.arange(1, seconds + 1, dtype=float)
    rows = []
    for op, share in (("READ", 0.5), ("UPDATE", 0.5), ("TOTAL", 1.0)):
        ops = ops_rate * share * (1 + 0.05 * rng.standard_normal(len(ts)))
        count = np.cumsum(ops).astype(int)
        for t, o, c in zip(ts, ops, count, strict=True):
            rows.append(
                {
                    "t_s": t,
                    "operation": op,
                    "count": int(c),
                    "interval_count": int(o),
                    "interval_ops": float(o),
                    "interval_avg_us": 800.0 + 50 * rng.standard_normal(),
                    "p50_us": 700.0 + 10 * t,
                    "p99_us": 3000.0 + 40 * t,
                }
            )
    intervals = pd.DataFrame(rows)
    final_cols = dict(takes_s=float(seconds), avg_us=820.0, min_us=150.0, max_us=25000.0)
    final = pd.DataFrame(
        [
            {
                "operation": op,
                "count": n,
                "ops": n / seconds,
                **final_cols,
                "p50_us": 700.0,
                "p90_us": 1500.0,
                "p95_us": 2000.0,
                "p99_us": p99,
                "p999_us": 9000.0,
                "p9999_us": 20000.0,
            }
            for op, n, p99 in (
                ("READ", 500 * seconds, 3100.0),
                ("UPDATE", 500 * seconds, 3900.0),
                ("TOTAL", 1000 * seconds, 3800.0),
            )
        ]
    )
    rd.save_ycsb("run", final, intervals)
    rd.save_ycsb(
        "load",
        final.assign(operation=["INSERT", "INSERT_X", "TOTAL"]).iloc[[0, 2]],
        intervals[intervals["operation"] == "TOTAL"].head(2),
    )
    (rd.ycsb_dir / "run.log").write_text("READ   - Takes(s): 1.0, Count: 10\n")
    stamps = pd.date_range(
        pd.Timestamp(run_start - 2, unit="s", tz="UTC"), periods=seconds + 4, freq="1s"
    )
    methods = ["Range", "Put", EVIL if evil else "Txn"]
    server_ops = pd.DataFrame(
        {
            "timestamp": np.repeat(stamps, len(methods)),
            "value": np.tile([ops_rate / 2, ops_rate / 2, 0.0], len(stamps)),
            "grpc_method": pd.Categorical(np.tile(methods, len(stamps))),
        }
    )
    server_p99 = server_ops.assign(value=0.004, grpc_method=server_ops["grpc_method"])
    cpu = pd.DataFrame(
        {
            "timestamp": np.repeat(stamps, 3),
            "value": 0.3 + 0.01 * rng.standard_normal(3 * len(stamps)),
            "instance": np.tile(["etcd0:2379", "etcd1:2379", "etcd2:2379"], len(stamps)),
        }
    )
    queries = [
        ("server_ops", server_ops, "ops/s", "throughput"),
        ("server_p99", server_p99, "s", "latency"),
        ("cpu", cpu, "cores", "resource"),
    ]
    for name, frame, _unit, _kind in queries:
        frame.to_parquet(rd.metrics_dir / f"{name}.parquet", index=False)
    artifacts.write_json(
        rd.metrics_dir / "queries.json",
        {
            "queries": [
                {"name": n, "query": f"q_{n}", "unit": u, "kind": k, "file": f"{n}.parquet"}
                for n, _f, u, k in queries
            ]
        },
    )
    client = [
        client_rows(rd.ycsb_intervals("load"), "load", load_start),
        client_rows(rd.ycsb_intervals("run"), "run", run_start),
    ]
    server = [server_rows(n, f, u, k) for n, f, u, k in queries]
    rd.save_timeline(build_timeline(client, server, rd.marks(), origin_unix=run_start))
    verdicts = [
        Verdict(
            "cluster_healthy", "pre", "pass", "3 members healthy, 1 leader", {"leader": "etcd0"}
        ),
        Verdict("grafana", "pre", "skipped", "subject has no Grafana"),
        Verdict(
            "ycsb_traffic",
            "post",
            "fail" if status == "failed" else "pass",
            EVIL if evil else "client 20000 ops, server 20010",
            {"client": 20000},
        ),
    ]
    rd.save_verdicts(verdicts)
    fp_module = sys.modules["workbench.artifacts.fingerprint"]  # the package exports the function
    with mock.patch.object(
        fp_module, "_git", lambda args, cwd: {"rev-parse": "f" * 40}.get(args[0], "")
    ):
        rd.update(fingerprint=artifacts.fingerprint())  # a pure fixture: no git process
    with rd.stage("stack_up"):
        pass
    rd.finish(status, error=EVIL if evil and status == "error" else None)
    return rd


def test_create_lays_out_the_contract(tmp_path: Path) -> None:
    rd = RunDir.create(tmp_path, "r1", "etcd", {"threads": 4})
    for sub in ("ycsb", "metrics", "figures", "logs"):
        assert (rd.path / sub).is_dir()
    rec = json.loads((rd.path / "run.json").read_text())
    assert rec["run_id"] == "r1" and rec["subject"] == "etcd" and rec["status"] == "running"
    assert rec["params"] == {"threads": 4} and rec["started"].endswith("Z")
    assert rec["schema"] == 2
    # An existing id is never reused: refused, the old record untouched.
    rd.update(project="p1")
    with pytest.raises(artifacts.ConfigError, match="exists already"):
        RunDir.create(tmp_path, "r1", "etcd", {"threads": 8})
    assert RunDir(rd.path).record.params == {"threads": 4}
    # A record handed over by a supervisor is reopened once, by the kernel it was made for.
    RunDir.create(tmp_path, "r2", "etcd", {"threads": 2}, handoff=True)
    again = RunDir.open_handoff(tmp_path, "r2")
    assert again is not None and again.record.params == {"threads": 2}
    with pytest.raises(artifacts.ConfigError, match="exists already"):
        RunDir.open_handoff(tmp_path, "r2")
    assert RunDir.open_handoff(tmp_path, "none") is None
    # The record is typed: an unknown field or a wrong type is refused, not written.
    with pytest.raises(ValueError, match="extra"):
        rd.update(extra=1)
    with pytest.raises(ValueError, match="status"):
        rd.update(status="bogus")


def test_opening_a_non_run_directory_fails(tmp_path: Path) -> None:
    with pytest.raises(artifacts.ConfigError, match=r"no run\.json"):
        RunDir(tmp_path)


def test_write_json_is_atomic_and_keeps_missing_values_missing(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    artifacts.write_json(target, {"a": float("nan"), "b": math.inf, "c": (1, 2), "p": tmp_path})
    assert json.loads(target.read_text()) == {
        "a": None,
        "b": "+Inf",
        "c": [1, 2],
        "p": str(tmp_path),
    }

    class Boom:
        pass

    with pytest.raises(TypeError):
        artifacts.write_json(target, {"bad": Boom()})
    # the old content survives a failed write, and no temporary file is left behind
    assert json.loads(target.read_text())["c"] == [1, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.json"]


def test_stage_records_success_error_and_interrupt(tmp_path: Path) -> None:
    rd = RunDir.create(tmp_path, "r", "etcd", {})
    with rd.stage("stack_up"):
        on_disk = json.loads((rd.path / "run.json").read_text())
        assert on_disk["stages"][0]["status"] == "running"  # saved before the work
    with pytest.raises(RuntimeError), rd.stage("load"):
        raise RuntimeError("boom <b>")
    with pytest.raises(KeyboardInterrupt), rd.stage("run"):
        raise KeyboardInterrupt
    stages = RunDir(rd.path).stages()
    assert [(s.name, s.status) for s in stages] == [
        ("stack_up", "ok"),
        ("load", "error"),
        ("run", "aborted"),
    ]
    assert "boom <b>" in stages[1].error and all(s.ended is not None for s in stages)


def test_finish_validates_status(tmp_path: Path) -> None:
    rd = RunDir.create(tmp_path, "r", "etcd", {})
    with pytest.raises(ValueError, match="invalid final status"):
        rd.finish("great")
    rd.finish("aborted", error="Ctrl-C")
    rec = RunDir(rd.path).record
    assert rec.status == "aborted" and rec.error == "Ctrl-C" and rec.ended


def test_verdicts_merge_by_phase_and_name(tmp_path: Path) -> None:
    rd = RunDir.create(tmp_path, "r", "etcd", {})
    rd.save_verdicts([Verdict("a", "pre", "unknown", "not yet"), Verdict("b", "pre", "pass", "ok")])
    rd.save_verdicts([Verdict("a", "pre", "pass", "now ok"), Verdict("a", "post", "fail", "bad")])
    got = {(v.phase, v.name): v.status for v in rd.verdicts()}
    assert got == {("pre", "a"): "pass", ("pre", "b"): "pass", ("post", "a"): "fail"}
    assert isinstance(json.loads(rd.checks_path.read_text()), list)
    assert artifacts.run_status(rd.verdicts()) == "failed"
    # unknown is its own status (issue 11: it used to be shown as "error" with no reason)
    assert artifacts.run_status([Verdict("x", "pre", "unknown", "?")]) == "unknown"
    assert artifacts.run_status([Verdict("x", "pre", "skipped", "n/a")]) == "passed"


@pytest.mark.local  # asks git for the commit, for real
def test_fingerprint_has_the_contract_fields(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text("services: {}\n")
    fp = artifacts.fingerprint(
        compose_file=compose, engine={"engine": "28.2.2"}, images={"etcd0": "sha256:abc"}
    )
    assert fp.workbench_version and fp.python and fp.python.count(".") == 2
    assert fp.git_sha is None or len(fp.git_sha) == 40
    assert fp.git_dirty in (True, False, None)
    assert fp.libraries["pandas"] == pd.__version__
    assert fp.compose_sha256 == hashlib.sha256(b"services: {}\n").hexdigest()
    assert fp.images == {"etcd0": "sha256:abc"} and fp.engine == {"engine": "28.2.2"}
    host = fp.host
    assert host.cpu_count == os.cpu_count() and host.kernel and (host.memory_bytes or 0) > 0


def test_an_old_fingerprint_reads_with_its_unknown_keys_kept() -> None:
    old = {"git_sha": "abc123", "host": {"hostname": "old-host", "cpu_count": 2, "gpu": "none"}}
    fp = artifacts.Fingerprint.model_validate({**old, "docker": "24.0"})
    assert fp.git_sha == "abc123" and fp.host.hostname == "old-host" and fp.host.cpu_count == 2
    assert fp.model_dump(exclude_unset=True) == {**old, "docker": "24.0"}
    assert artifacts.Fingerprint.model_validate({}).host.hostname is None


def test_timeline_puts_client_server_and_marks_on_one_clock() -> None:
    start = 1_700_000_000.0
    intervals = pd.DataFrame(
        {
            "t_s": [1.0, 2.0],
            "operation": ["READ", "READ"],
            "count": [10, 30],
            "interval_count": [10, 20],
            "interval_ops": [10.0, 20.0],
            "p99_us": [900.0, 1100.0],
        }
    )
    server = pd.DataFrame(
        {
            "timestamp": pd.to_datetime([start + 1, start + 2], unit="s", utc=True),
            "value": [11.0, 19.0],
            "grpc_method": pd.Categorical(["Range", "Range"]),
        }
    )
    tl = build_timeline(
        [client_rows(intervals, "run", start)],
        [server_rows("server_ops", server, "ops/s", "throughput")],
        [Mark(name="run", start=start, end=start + 2.0)],
        origin_unix=start,
    )
    assert list(tl.columns) == list(artifacts.TIMELINE_COLUMNS)
    ops = tl[tl["name"] == "client_ops"]
    assert ops["t_s"].tolist() == [1.0, 2.0] and ops["value"].tolist() == [10.0, 20.0]
    srv = tl[tl["name"] == "server_ops"]
    assert srv["t_s"].tolist() == [1.0, 2.0] and set(srv["series"]) == {"grpc_method=Range"}
    p99 = tl[tl["name"] == "client_p99_cum"]
    assert p99["unit"].tolist() == ["us", "us"] and p99["value"].tolist() == [900.0, 1100.0]
    marks = tl[tl["source"] == "mark"]
    assert marks[["series", "t_s"]].values.tolist() == [["start", 0.0], ["end", 2.0]]
    # the same instant on both sides lands on the same t_s and the same UTC time
    assert ops["time"].tolist() == srv["time"].tolist()


def test_synthetic_run_round_trips(tmp_path: Path) -> None:
    rd = synthetic_run(tmp_path, seconds=5)
    again = RunDir(rd.path)
    assert again.status == "passed" and len(again.verdicts()) == 3
    assert set(again.metrics()) == {"server_ops", "server_p99", "cpu"}
    assert [(q.name, q.unit) for q in again.queries()] == [
        ("server_ops", "ops/s"),
        ("server_p99", "s"),
        ("cpu", "cores"),
    ]
    (rd.metrics_dir / "queries.json").write_text('[{"name": "old", "unit": "s"}]')  # older shape
    assert [q.name for q in again.queries()] == ["old"]
    (rd.metrics_dir / "queries.json").write_text("{damaged")
    assert again.queries() == []
    tl = again.timeline()
    assert tl is not None and set(tl["source"]) == {"client", "server", "mark"}
    files = {str(p) for p in again.files()}
    assert {"run.json", "checks.json", "timeline.parquet", "ycsb/run.final.csv"} <= files
    assert artifacts.list_run_dirs(tmp_path)[0].run_id == rd.run_id
    assert time.time() - artifacts.parse_iso(again.record.ended) < 60
