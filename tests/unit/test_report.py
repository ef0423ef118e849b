"""Reports: self-contained, escaped, rendered from the run directory alone."""

from __future__ import annotations

import base64
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure
from test_artifacts import EVIL, synthetic_run

from workbench import report
from workbench.artifacts import Mark, RunDir, build_timeline, client_rows
from workbench.model import ClientSummary, Verdict


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(path: Path) -> Collector:
    c = Collector()
    c.feed(path.read_text())
    return c


pytestmark = pytest.mark.usefixtures("fixed_png")  # figures built, not rasterised (one test is)


@pytest.mark.rasterised
def test_report_is_self_contained_with_verdicts_first(tmp_path: Path) -> None:
    rd = synthetic_run(tmp_path, seconds=10)
    out = report.render(rd.path)
    page = parse(out)
    tags = [t for t, _ in page.tags]
    assert "script" not in tags and "link" not in tags  # no code, no external stylesheet
    imgs = [a for t, a in page.tags if t == "img"]
    assert {a["alt"] for a in imgs} == {"throughput", "latency", "resources"}
    for a in imgs:
        src = a["src"] or ""
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    text = " ".join(page.text)
    assert text.index("Verdicts") < text.index("Throughput") < text.index("Parameters")
    assert "cluster_healthy" in text and "subject has no Grafana" in text
    assert "3 members healthy" in text and "workbench_version" in text
    assert (rd.figures_dir / "throughput.png").is_file()
    # every link is relative and points at a file of the run
    hrefs = [a["href"] for t, a in page.tags if t == "a"]
    assert "ycsb/run.final.csv" in hrefs and "checks.json" in hrefs
    for h in hrefs:
        assert not re.match(r"^[a-z]+:", h or "") and (rd.path / h).is_file(), h


def test_numbers_come_from_the_final_block(tmp_path: Path) -> None:
    rd = synthetic_run(tmp_path, seconds=10)
    s = report.summarize(rd)
    # p99 is YCSB's TOTAL p99 (3.8 ms); the worst operation's (UPDATE, 3.9 ms) is named apart
    assert (
        s.numbers.throughput == 1000.0
        and s.numbers.worst_p99_ms == 3.9
        and s.numbers.operations == 10_000
    )
    assert s.numbers.p99_ms == 3.8 and s.numbers.worst_p99_operation == "UPDATE"
    assert s.numbers.errors == 0 and s.verdicts == {"pass": 2, "skipped": 1} and s.workload == "a"


def test_untrusted_text_is_escaped(tmp_path: Path, fixed_png: list[Figure]) -> None:
    rd = synthetic_run(tmp_path, seconds=5, evil=True, status="error")
    html = report.render(rd.path).read_text()
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "Txn" not in html  # the evil label replaced it, escaped, in the figure only
    legends = {
        t.get_text()
        for f in fixed_png
        for ax in f.axes
        if ax.get_legend()
        for t in ax.get_legend().get_texts()
    }
    assert any(EVIL in t for t in legends), legends  # the figure names it as a plain label
    assert 'class="failure"' in html


def test_failed_and_unfinished_runs_show_why(tmp_path: Path) -> None:
    failed = synthetic_run(tmp_path, seconds=5, run_id="f", status="failed")
    html = report.render(failed.path).read_text()
    assert "One or more checks failed" in html and ">fail<" in html
    # a run that died in the load stage, before any measurement
    rd = RunDir.create(tmp_path, "dead", "etcd", {"workload": "a"})
    try:
        with rd.stage("stack_up"):
            raise RuntimeError("stack not healthy after 90s; unhealthy: etcd1")
    except RuntimeError:
        pass
    html = report.render(rd.path).read_text()
    assert "did not finish" in html and "unhealthy: etcd1" in html
    assert "No timeline was recorded" in html and "No verdicts were recorded" in html
    rd.finish("error", error="UnhealthyStackError: etcd1 <never> healthy")
    html = report.render(rd.path).read_text()
    assert "etcd1 &lt;never&gt; healthy" in html and "stack_up" in html


def test_rerender_from_a_copied_directory(tmp_path: Path) -> None:
    rd = synthetic_run(tmp_path / "a", seconds=5)
    copy = tmp_path / "elsewhere" / rd.path.name
    shutil.copytree(rd.path, copy)
    shutil.rmtree(copy / "figures")
    out = report.render(copy)
    assert out.parent == copy and (copy / "figures" / "latency.png").is_file()


def test_index_and_ls_list_every_run(tmp_path: Path) -> None:
    a = synthetic_run(tmp_path, seconds=5, run_id="20260101T000001.000Z-etcd-a-aaaaaa")
    b = synthetic_run(
        tmp_path,
        seconds=5,
        run_id="20260101T000002.000Z-etcd-b-bbbbbb",
        workload="b",
        status="failed",
    )
    report.render(a.path)
    (tmp_path / "not-a-run").mkdir()
    out = report.render_index(tmp_path)
    page = parse(out)
    hrefs = [attrs["href"] for t, attrs in page.tags if t == "a"]
    assert f"{a.run_id}/report.html" in hrefs and f"{b.run_id}/run.json" in hrefs
    assert f"{b.run_id}/report.html" not in hrefs  # b has no report (yet): no dead link
    text = " ".join(page.text)
    assert text.index(b.run_id) < text.index(a.run_id)  # newest first
    assert "1,000.0" in text and "3.90" in text
    table = report.format_runs(report.list_runs(tmp_path)).splitlines()
    assert table[0].split() == [
        "run",
        "subject",
        "workload",
        "status",
        "verdicts",
        "duration",
        "threads",
        "target",
        "faults",
        "campaign",
        "ops/s",
        "service",
        "p99",
        "ms",
        "intended",
        "p99",
        "ms",
        "worst",
        "op",
        "p99",
        "ms",
    ]
    assert table[1].startswith(b.run_id) and "failed" in table[1] and "1 fail" in table[1]
    assert table[2].startswith(a.run_id) and "passed" in table[2] and "1,000.0" in table[2]
    assert "3.80" in table[2] and "3.90 (UPDATE)" in table[2]


def test_a_60_second_run_renders_whole(tmp_path: Path) -> None:
    """Its speed (target 5 s) is measured by bench/bench_report.py, not by a timed unit test."""
    rd = synthetic_run(tmp_path, seconds=60)
    html = report.render(rd.path).read_text()
    assert html.count("data:image/png;base64,") >= 2 and "</html>" in html


# ---- headline numbers named for what they are (issue 10 item 5) -----------------------------


def test_report_and_index_name_total_p99_and_worst_operation(tmp_path: Path) -> None:
    rd = synthetic_run(tmp_path, seconds=5)
    text = " ".join(parse(report.render(rd.path)).text)
    assert "p99 (run, YCSB TOTAL)" in text and "worst op p99 (UPDATE)" in text
    assert "3.80 ms" in text and "3.90 ms" in text
    index = " ".join(parse(report.render_index(tmp_path)).text)
    assert "worst op p99 ms" in index and "3.80" in index and "3.90 (UPDATE)" in index


def test_final_numbers_count_through_client_summary() -> None:
    final = pd.DataFrame(
        [
            {"operation": "READ", "count": 600, "ops": 60.0, "p99_us": 2000.0, "takes_s": 10.0},
            {"operation": "UPDATE", "count": 400, "ops": 40.0, "p99_us": 5000.0, "takes_s": 10.0},
            {"operation": "READ_ERROR", "count": 7, "ops": 0.7, "p99_us": 9e6, "takes_s": 10.0},
            {"operation": "READ-INTENDED", "count": 600, "ops": 60.0, "p99_us": 8e6},
            {"operation": "READ_MODIFY_WRITE", "count": 50, "ops": 5.0, "p99_us": 7000.0},
        ]
    )
    n = report.final_numbers(final)
    client = ClientSummary.from_final_rows(final.itertuples(index=False), 10.0)
    # no TOTAL row: operations and ops/s by the one rule (READ_MODIFY_WRITE's inner READ and
    # UPDATE are counted already); errors from the _ERROR rows; -INTENDED is not an operation
    assert n.operations == client.total_ops == 1000 and n.errors == client.total_errors == 7
    assert n.throughput == pytest.approx(100.0) and n.p99_ms is None
    assert n.worst_p99_ms == 7.0 and n.worst_p99_operation == "READ_MODIFY_WRITE"
    assert report.final_numbers(None) == report.final_numbers(final.iloc[0:0])


def test_load_only_run_shows_no_throughput(tmp_path: Path) -> None:
    rd = RunDir.create(tmp_path, "load-only", "etcd", {"workload": "a", "phases": "load"})
    load = pd.DataFrame(
        [
            {"operation": op, "count": 1000, "ops": 500.0, "p99_us": 3000.0}
            for op in ("INSERT", "TOTAL")
        ]
    )
    rd.save_ycsb("load", load, pd.DataFrame(columns=["t_s", "operation"]))
    rd.save_verdicts([Verdict("cluster_healthy", "pre", "pass", "3 members healthy")])
    rd.finish("passed")
    s = report.summarize(rd)
    assert (
        s.numbers.throughput is None and s.numbers.p99_ms is None and s.numbers.operations is None
    )
    html = report.render(rd.path).read_text()
    assert "0.0 ops/s" not in html and "Per-operation latency (load)" in html
    line = report.format_runs(report.list_runs(tmp_path)).splitlines()[1]
    assert "0.0" not in line and line.split()[-4:] == ["—", "—", "—", "—"]


# ---- a run directory written by the previous version (schema 1) still renders ------------------


def write_schema1_run(results: Path, run_id: str = "20250101T000000.000Z-etcd-a-old001") -> Path:
    """A run directory exactly as the schema-1 code wrote it (free run.json dict, ycsb_<phase>
    keys, checks.json as a list, the final block and intervals as CSV, a timeline)."""
    path = results / run_id
    for sub in ("ycsb", "metrics", "figures", "logs"):
        (path / sub).mkdir(parents=True)
    t0 = 1_735_689_600.0
    final = pd.DataFrame(
        [
            {
                "operation": op,
                "count": n,
                "ops": n / 10.0,
                "takes_s": 10.0,
                "avg_us": 800.0,
                "min_us": 150.0,
                "max_us": 25000.0,
                "p50_us": 700.0,
                "p99_us": p99,
            }
            for op, n, p99 in (
                ("READ", 5000, 3100.0),
                ("UPDATE", 5000, 4100.0),
                ("UPDATE_ERROR", 3, 9000.0),
                ("TOTAL", 10000, 3600.0),
            )
        ]
    )
    final.to_csv(path / "ycsb" / "run.final.csv", index=False)
    intervals = pd.DataFrame(
        [
            {
                "t_s": float(t),
                "operation": "TOTAL",
                "count": 1000 * t,
                "interval_count": 1000,
                "interval_ops": 1000.0,
                "interval_avg_us": 800.0,
                "p50_us": 700.0,
                "p99_us": 3600.0,
            }
            for t in range(1, 11)
        ]
    )
    intervals.to_csv(path / "ycsb" / "run.intervals.csv", index=False)
    run_start = t0 + 5.0
    tl = build_timeline(
        [client_rows(intervals, "run", run_start)],
        [],
        [Mark(name="run", start=run_start, end=run_start + 10)],
        run_start,
    )
    tl.to_parquet(path / "timeline.parquet", index=False)
    checks = [
        {
            "name": "cluster_healthy",
            "phase": "pre",
            "status": "pass",
            "summary": "3 members healthy, 1 leader",
            "evidence": {"leader": "etcd0"},
            "started_at": t0 + 2,
            "duration_s": 0.01,
        },
        {
            "name": "ycsb_traffic",
            "phase": "post",
            "status": "pass",
            "summary": "client 10000 ops, server 10004",
            "evidence": {},
            "started_at": t0 + 17,
            "duration_s": 0.2,
        },
    ]
    (path / "checks.json").write_text(json.dumps(checks, indent=2))
    record = {
        "schema": 1,
        "run_id": run_id,
        "kind": "benchmark",
        "subject": "etcd",
        "params": {"subject": "etcd", "workload": "a", "duration": 10, "threads": 4},
        "status": "passed",
        "error": None,
        "started": "2025-01-01T00:00:00.000Z",
        "started_unix": t0,
        "ended": "2025-01-01T00:00:20.000Z",
        "ended_unix": t0 + 20,
        "stages": [
            {"name": "stack_up", "started": t0, "ended": t0 + 2, "status": "ok", "error": ""},
            {"name": "run", "started": t0 + 5, "ended": t0 + 15, "status": "ok", "error": ""},
        ],
        "marks": [{"name": "run", "start": run_start, "end": run_start + 10}],
        "fingerprint": {
            "workbench_version": "0.1.0",
            "git_sha": "abc123",
            "host": {"hostname": "old-host", "cpu_count": 2},
        },
        "summary": {
            "throughput": 1000.0,
            "p99_ms": 4.1,
            "operations": 10000,
            "errors": 3,
            "verdicts": {"pass": 2},
        },
        "pid": 2**31 - 1,
        "project": "wb-etcd-old001",
        "ports": {"prometheus": 19090},
        "attached": False,
        "prestart": {"project": "wb-etcd-old001", "started_unix": t0},
        "stack_up_s": 1.9,
        "stack_up": {"started_unix": t0, "healthy_unix": t0 + 1.9},
        "ycsb_run": {
            "argv": ["ycsb", "run", "etcd"],
            "wall_s": 10.4,
            "launched_unix": t0 + 4.6,
            "ended_unix": t0 + 15.0,
            "gate": {"ready_unix": t0 + 4.8, "released_unix": t0 + 5.0},
            "run_seconds": 10.0,
            "errors": 3,
        },
        "baseline_window": [t0 + 1.9, t0 + 4.6],
        "settle_after_load": {"after": t0 + 4.0, "seen": t0 + 4.5, "waited_s": 0.5},
        "teardown_s": 0.9,
        "teardown": {"started_unix": t0 + 16, "ended_unix": t0 + 16.9, "background": True},
    }
    (path / "run.json").write_text(json.dumps(record, indent=2))
    return path


def test_schema1_run_directory_still_renders(tmp_path: Path) -> None:
    old = write_schema1_run(tmp_path)
    s = report.summarize(RunDir(old))
    assert s.status == "passed" and s.subject == "etcd" and s.workload == "a"
    assert s.numbers.throughput == 1000.0 and s.numbers.p99_ms == 3.6 and s.numbers.errors == 3
    assert s.numbers.worst_p99_ms == 4.1 and s.numbers.worst_p99_operation == "UPDATE"
    page = parse(report.render(old))
    text = " ".join(page.text)
    assert "3 members healthy" in text and "stack_up" in text and "git_sha" in text
    assert {a["alt"] for t, a in page.tags if t == "img"} >= {"throughput", "latency"}
    # a finished schema-1 run is never `abandoned`, though its pid is long gone
    assert "abandoned" not in text and "did not finish" not in text
    assert json.loads((old / "run.json").read_text())["schema"] == 1  # reading never rewrites


# ---- damaged run directories (issue 11 items 8 and 9) -----------------------------------------


def test_damaged_siblings_do_not_stop_the_others(tmp_path: Path) -> None:
    good = synthetic_run(tmp_path, seconds=5, run_id="20260101T000001.000Z-etcd-a-good01")
    truncated = tmp_path / "20260101T000002.000Z-etcd-a-trunc1"
    truncated.mkdir()
    (truncated / "run.json").write_text('{"schema": 2, "run_id": "trunc')
    bad_checks = synthetic_run(tmp_path, seconds=5, run_id="20260101T000003.000Z-etcd-a-badck1")
    bad_checks.checks_path.write_text('[{"name": "cluster_')
    report.render(good.path)  # the report of a good run in that folder
    index = " ".join(parse(report.render_index(tmp_path)).text)
    assert good.run_id in index and bad_checks.run_id in index
    assert f"{truncated.name}" in index and "unreadable:" in index and "run.json" in index
    runs = report.list_runs(tmp_path)
    assert [r.run_id for r in runs] == [bad_checks.run_id, truncated.name, good.run_id]
    assert runs[1].status == "unreadable" and (runs[1].problem or "").startswith(
        "run.json is unreadable: "
    )
    lines = report.format_runs(runs).splitlines()
    assert lines[2].startswith(truncated.name) and "unreadable: " in lines[2]
    assert "unverified" in lines[1] and "checks.json unreadable" in lines[1]
    assert "passed" in lines[3]


def test_corrupt_checks_json_renders_and_is_not_passed(tmp_path: Path) -> None:
    rd = synthetic_run(tmp_path, seconds=5)
    rd.checks_path.write_text("{not json")
    page = parse(report.render(rd.path))
    text = " ".join(page.text)
    assert "checks.json is unreadable" in text
    badges = [t for t, a in page.tags if t == "span" and a.get("class") == "badge"]
    assert badges and "passed" not in text.split("Verdicts")[0]
    assert report.summarize(rd).status == "unverified"


def test_run_without_checks_is_unverified_not_passed(tmp_path: Path) -> None:
    rd = synthetic_run(tmp_path, seconds=5)
    rd.checks_path.unlink()
    assert rd.status == "passed"  # the record says passed, nothing verified it
    text = " ".join(parse(report.render(rd.path)).text)
    assert "No verdicts were recorded" in text and "unverified" in text
    assert "passed" not in text.split("Verdicts")[0]
    assert "unverified" in report.format_runs(report.list_runs(tmp_path)).splitlines()[1]


def test_stale_running_record_is_abandoned(tmp_path: Path) -> None:
    live = RunDir.create(tmp_path, "20260101T000001.000Z-etcd-a-live01", "etcd", {"workload": "a"})
    dead = RunDir.create(tmp_path, "20260101T000002.000Z-etcd-a-dead01", "etcd", {"workload": "a"})
    dead.update(pid=2**31 - 1)  # no such process on this host
    by_id = {s.run_id: s.status for s in report.list_runs(tmp_path)}
    assert by_id == {live.run_id: "running", dead.run_id: "abandoned"}
    lines = report.format_runs(report.list_runs(tmp_path)).splitlines()
    assert "abandoned" in lines[1] and "running" in lines[2]
    index = " ".join(parse(report.render_index(tmp_path)).text)
    assert "abandoned" in index and "running" in index
    text = " ".join(parse(report.render(dead.path)).text)
    assert "its process is gone" in text
