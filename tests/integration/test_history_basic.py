"""History end to end on real measurements: a dozen short runs of the native generator's `basic`
binding (no stack: each call sleeps `basicdb.simulatedelay` ms), labelled commit=c1..c12, with a
deliberate slow-down from the seventh run on. The delay is given to the generator but left out of
the recorded parameters, as a code change would be: the runs share one benchmark key, and
`workbench history` must find the change at run 7 (index 6, commits c6..c7), judge the newest run
and draw history.html. Each run is ~2 s of load; no Docker needed (`workbench run` has no
stackless mode, so the runs are driven here through the same pieces findmax's native probes use).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from workbench import report
from workbench.artifacts import RunDir, Summary, fingerprint
from workbench.manifest import load_manifest
from workbench.params import validate_run
from workbench.run import workload
from workbench.ycsb.tools import PhaseRequest, get_tool

CLI = [str(Path(sys.executable).parent / "workbench")]
RUNS, STEP_AT = 12, 6


def basic_run(results: Path, i: int, delay_ms: int) -> RunDir:
    run_id = f"20260101T{i:02d}0000.000Z-basic-a-{i:06x}"
    params = validate_run(
        {"subject": "etcd", "workload": "a", "threads": 4, "duration": 2, "phases": "run",
         "labels": {"commit": f"c{i + 1}"}, "run_id": run_id, "results_dir": str(results)}
    )  # fmt: skip
    rd = RunDir.create(results, run_id, "basic binding", params.to_dict())
    rd.update(fingerprint=fingerprint())
    req = PhaseRequest(
        phase="run",
        binding="basic",
        workload_file=str(load_manifest("etcd").workload_file("a")),
        properties={**params.ycsb_properties(), "basicdb.simulatedelay": str(delay_ms)},
        threads=params.threads,
        target=None,
        interval_s=1,
        duration_s=params.duration,
        warmup_s=0.0,
        interval_dir=str(rd.ycsb_dir),
    )
    rec = get_tool("native").run(
        req,
        lambda name: [sys.executable, "-m", "workbench.ycsb.native"],
        project="history",
        service="native",
        log_path=rd.ycsb_log("run"),
    )
    workload.save_phase(rd, rec, "run")
    rd.finish("passed")
    s = report.summarize(rd)  # the numbers run.json keeps (finishing.render, without the report)
    rd.update(summary=Summary.of(s.numbers, s.verdicts))
    return rd


def history(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "history", *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.timeout(300)
def test_a_slow_down_in_the_middle_is_found_at_its_run(tmp_path: Path) -> None:
    results = tmp_path / "results"
    gate = {}
    for i in range(RUNS):
        basic_run(results, i, 2 if i < STEP_AT else 6)
        if i == STEP_AT + 4:  # the 5th slow run: the change point is detectable; a CI gate fails
            gate["first"] = history(
                "--results", str(results), "--metric", "throughput", "--verdict"
            )
    assert gate["first"].returncode == 1, gate["first"].stdout + gate["first"].stderr
    assert "regression" in gate["first"].stdout and "change point" in gate["first"].stdout
    r = history("--results", str(results), "--metric", "throughput", "--json")
    assert r.returncode == 0, r.stderr
    (series,) = json.loads(r.stdout)["series"]
    print(history("--results", str(results), "--metric", "throughput").stdout)
    assert series["points"] == RUNS and series["key"]["subject"] == "basic binding"
    strong = [c for c in series["change_points"] if c["strength"] == "strong"]
    assert [c["index"] for c in strong] == [STEP_AT], series
    assert strong[0]["change"] < -0.4  # 2 ms -> 6 ms per call: about a third of the rate
    text = history("--results", str(results), "--metric", "throughput").stdout
    assert "commit c6..c7" in text
    r = history("--results", str(results), "--metric", "throughput", "--verdict")
    assert r.returncode == 0 and "against the 5 run(s)" in r.stdout  # the change is old news
    r = history("--results", str(results), "--html")
    assert r.returncode == 0 and (results / "history.html").is_file()
    assert 'href="history.html"' in (results / "index.html").read_text()
