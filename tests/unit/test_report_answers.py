"""The run report answers first (issue 24): status, result and what was run at the top; the
verdicts that need a reader, with their reasons once; the rest folded away; tables in order."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from workbench import report
from workbench.artifacts import Fingerprint, RunDir
from workbench.artifacts.fingerprint import HostInfo
from workbench.model import Verdict
from workbench.report.html import operation_order

UNKNOWN_WHY = "Prometheus had no samples for the run window"


def _run(tmp_path: Path, fixed_png: Any) -> RunDir:
    params = {
        "workload": "a",
        "tool": "",
        "faults": [],
        "threads": 8,
        "target": 0,
        "duration": 10.0,
    }
    rd = RunDir.create(tmp_path, "r1", "etcd", params)
    rows = []
    for op, count in (("UPDATE", 7), ("READ", 9), ("TOTAL", 16)):
        for suffix in ("", "-INTENDED"):
            rows.append(
                {"operation": op + suffix, "count": count, "ops": count / 10, "p99_us": 4000.0}
            )
    rd.save_ycsb("run", pd.DataFrame(rows), pd.DataFrame({"t_s": [1.0]}))
    rd.save_verdicts(
        [
            Verdict("cluster_healthy", "pre", "pass", "3 members healthy"),
            Verdict("leader_stable", "post", "pass", "one leader"),
            Verdict("fault_recovery", "post", "skipped", "no fault"),
            Verdict("server_ops_match", "post", "unknown", UNKNOWN_WHY),
            Verdict("errors_bounded", "post", "fail", "12 errors > 0"),
        ]
    )
    rd.update(fingerprint=Fingerprint(host=HostInfo(memory_bytes=25_276_071_936)))
    rd.finish("failed", error=f"server_ops_match: unknown: {UNKNOWN_WHY}; errors_bounded: fail")
    return rd


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_report_answers_first(tmp_path: Path, fixed_png: Any) -> None:
    rd = _run(tmp_path, fixed_png)
    html = report.render(rd.path).read_text()
    text = _text(html)
    # the result comes before the verdicts; what was run is in the header
    assert text.index("Result") < text.index("Verdicts") < text.index("Per-operation")
    header = text[: text.index("Result")]
    for said in ("threads 8", "target unthrottled", "duration 10 s", "faults none"):
        assert said in header, said
    # failed and unknown verdicts in the open, the reason once; passed and skipped folded away
    assert text.count(UNKNOWN_WHY) == 1
    folded = html[html.index("<details><summary>2 passed, 1 skipped</summary>") :]
    assert "cluster_healthy" in folded and "fault_recovery" in folded
    opened = html[: html.index("<details><summary>2 passed")]
    assert "errors_bounded" in opened and "server_ops_match" in opened
    assert "cluster_healthy" not in opened
    # TOTAL first, each -INTENDED row beside its operation; counts whole numbers
    table = text[text.index("Per-operation latency (run)") :]
    order = re.findall(r"\b(TOTAL|READ|UPDATE)(-INTENDED)?\s+(\d[\d,.]*)", table)[:6]
    assert [a + b for a, b, _ in order] == [
        "TOTAL",
        "TOTAL-INTENDED",
        "READ",
        "READ-INTENDED",
        "UPDATE",
        "UPDATE-INTENDED",
    ]
    assert [c for _, _, c in order] == ["16", "16", "9", "9", "7", "7"]
    # memory in GiB, no empty tool, no `[]`
    assert "23.5 GiB" in text and "25276071936" not in text
    params = text[text.index("Parameters") : text.index("Environment")]
    assert "faults none" in params and "[]" not in params
    assert re.search(r"tool \S", params) and "tool workload" not in params


def test_operation_order_keeps_unknown_names() -> None:
    assert operation_order(["UPDATE", "TOTAL", "READ-INTENDED", "READ", "CLEANUP"]) == [
        "TOTAL",
        "CLEANUP",
        "READ",
        "READ-INTENDED",
        "UPDATE",
    ]


def test_ls_and_the_index_say_what_each_run_was_asked(tmp_path: Path) -> None:
    (tmp_path / "campaigns" / "20261203T100000Z-threads").mkdir(parents=True)
    faulted = RunDir.create(
        tmp_path,
        "20261203T100000Z-threads-001-t8-r1",
        "etcd",
        {
            "workload": "a",
            "duration": 40.0,
            "threads": 8,
            "target": 300,
            "faults": ["kill:leader@5+3"],
        },
    )
    faulted.finish("passed")
    plain = RunDir.create(tmp_path, "r2", "etcd", {"workload": "b", "threads": 4, "target": 0})
    plain.finish("passed")
    lines = report.format_runs(report.list_runs(tmp_path)).splitlines()
    header = lines[0].split()
    assert header[:10] == [
        "run", "subject", "workload", "status", "verdicts", "duration", "threads", "target",
        "faults", "campaign",
    ]  # fmt: skip
    row = next(ln for ln in lines if ln.startswith("20261203T100000Z-threads-001"))
    assert "40 s" in row and " 300 " in row and "20261203T100000Z-threads" in row.split()[9:]
    other = next(ln for ln in lines if ln.startswith("r2"))
    assert "unthrottled" in other
    # numbers right-aligned: the threads header ends where its column's values end
    assert lines[0].index("threads") + len("threads") == row.index(" 8 ") + 2
    html = report.render_index(tmp_path).read_text()
    assert "<th>campaign</th>" in html and ">unthrottled<" in html and ">40 s<" in html
