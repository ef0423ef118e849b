"""The headline of a run at a target rate names both p99s: a 7 s stall hides in the service time
(38.11 ms) and shows in the intended time (TOTAL-INTENDED, 6,939 ms); the run record, the CLI's
result line, `ls`, `compare` and the report's result block all say both, each by its name."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from workbench import report
from workbench.artifacts import Headline, RunDir
from workbench.artifacts.record import Summary
from workbench.campaign import compare
from workbench.model import Verdict
from workbench.run import finishing, supervisor

pytestmark = pytest.mark.usefixtures("fixed_png")


def stalled_run(results: Path, target: int | None = 200) -> RunDir:
    """A run at `target` ops/s whose server stalled 7 s: every operation sent on time was fast,
    but those scheduled during the stall waited for it (the native generator's -INTENDED rows)."""
    params = {"subject": "etcd", "workload": "a", **({"target": target} if target else {})}
    rd = RunDir.create(results, "20260101T000000.000Z-etcd-a-stall", "etcd", params)
    rows = [("READ", 1000, 36_000.0), ("UPDATE", 1000, 40_000.0), ("TOTAL", 2000, 38_110.0)]
    if target:
        rows += [
            ("READ-INTENDED", 1000, 6_900_000.0),
            ("UPDATE-INTENDED", 1000, 6_950_000.0),
            ("TOTAL-INTENDED", 2000, 6_939_000.0),
        ]
    final = pd.DataFrame(
        [
            {"operation": op, "count": n, "ops": 200.0, "p50_us": 900.0, "p99_us": p99}
            for op, n, p99 in rows
        ]
    )
    rd.save_ycsb("run", final, pd.DataFrame({"t_s": [1.0], "operation": ["TOTAL"]}))
    rd.save_verdicts([Verdict("cluster_healthy", "pre", "pass", "3 members healthy")])
    rd.finish("passed")
    return rd


def test_the_intended_time_p99_is_in_every_headline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rd = stalled_run(tmp_path)
    finishing.render(rd, lambda _: None)  # keeps the summary in run.json, renders the report
    kept = RunDir(rd.path).record.summary
    assert (kept.p99_ms, kept.intended_p99_ms) == (38.11, 6939.0)
    on_disk = json.loads((rd.path / "run.json").read_text())["summary"]
    assert on_disk["intended_p99_ms"] == 6939.0

    line = supervisor.headline("passed", kept, rd.path / "report.html")
    assert "200.0 ops/s, service-time p99 38.11 ms, intended-time p99 6,939.00 ms" in line

    table = report.format_runs(report.list_runs(tmp_path)).splitlines()
    assert "service p99 ms" in table[0] and "intended p99 ms" in table[0]
    assert re.search(r"38\.11\s+6,939\.00\s", table[1]), table[1]

    table = compare.compare([rd.path])  # `workbench compare`: the intended p99 is a metric
    assert table.metrics[2:4] == ["p99_ms", "intended_p99_ms"]
    assert table.summaries["intended_p99_ms"][rd.run_id].median == 6939.0
    assert "TOTAL-INTENDED p99" in compare.format_table(table)

    frame = report.compare_runs([rd.path])
    assert frame["intended p99 ms"].iloc[0] == 6939.0 and frame["p99 ms"].iloc[0] == 38.11

    html = (rd.path / "report.html").read_text()
    result = html[html.index("<h2>Result</h2>") : html.index("Per-operation latency")]
    assert "service-time p99" in result and "intended-time p99" in result
    assert "38.11" in result and "6,939.00" in result


def test_without_a_target_there_is_no_intended_time(tmp_path: Path) -> None:
    rd = stalled_run(tmp_path, target=None)
    s = report.summarize(rd)
    assert s.numbers.p99_ms == 38.11 and s.numbers.intended_p99_ms is None
    assert "intended" not in supervisor.headline("passed", s.numbers, rd.path / "report.html")
    assert "intended_p99_ms" not in compare.compare([rd.path]).metrics


def test_an_old_run_json_summary_still_reads() -> None:
    """run.json written before Headline: its summary is a subset of the new fields."""
    old = {"throughput": 1000.0, "p99_ms": 3.8, "worst_p99_ms": 3.9,
           "worst_p99_operation": "UPDATE", "operations": 10000, "errors": 0,
           "verdicts": {"pass": 2}}  # fmt: skip
    s = Summary.model_validate(old)
    assert s.headline() == Headline(
        throughput=1000.0, p99_ms=3.8, worst_p99_ms=3.9, worst_p99_operation="UPDATE",
        operations=10000, errors=0,
    )  # fmt: skip
    assert s.intended_p99_ms is None and s.verdicts == {"pass": 2}
