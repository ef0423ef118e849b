"""Three generators against the etcd stack: one merged result that the server agrees with.

The native generator in three containers, each with its own key range (load) and a third of the
run; their interval logs merged by absolute time. Checks: the load inserted every record once;
the merged counts agree with etcd's own counters (counts_agree, ±1%); the merged percentiles are
those of every generator's histograms added together (within one HDR bucket); the three t=0 were
within 100 ms; each generator's series is kept; client_saturation judged per generator.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from workbench.artifacts import RunDir
from workbench.stack import running_projects
from workbench.ycsb.intervals import new_histogram
from workbench.ycsb.merge import read_log

REPO = Path(__file__).resolve().parents[2]
CLI = [str(Path(sys.executable).parent / "workbench")]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, docker_engine: None) -> Path:
    results = tmp_path_factory.mktemp("results")
    argv = [*CLI, "run", "--subject", "etcd", "--workload", "a", "--generators", "3",
            "--duration", "8", "--threads", "2", "-p", "recordcount=900", "--no-setup",
            "--quiet", "--results", str(results)]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=900, cwd=REPO, check=False)
    assert proc.returncode in (0, 1, 2), proc.stdout + proc.stderr
    return Path(proc.stdout.strip().splitlines()[-1])


def test_three_generators_one_result(run_dir: Path) -> None:
    rd = RunDir(run_dir)
    assert rd.record.project not in running_projects("wb-")
    load, run = rd.record.phases["load"], rd.record.phases["run"]
    assert load.generators is not None and run.generators is not None
    assert [(g.insertstart, g.insertcount) for g in load.generators] == [
        (0, 300),
        (300, 300),
        (600, 300),
    ]
    assert all(g.failed is None for g in run.generators)
    for phase in (load, run):  # t=0 within 100 ms, in both phases
        assert phase.start_spread_s is not None and phase.start_spread_s < 0.1, phase
    final = rd.ycsb_final("load")
    assert final is not None
    assert int(final.loc[final["operation"] == "INSERT", "count"].iloc[0]) == 900
    verdicts = {v.name: v for v in rd.verdicts() if v.phase == "post"}
    assert verdicts["counts_agree"].status == "pass", verdicts["counts_agree"].summary
    sat = verdicts["client_saturation"]
    assert sat.status in ("pass", "fail") and len(sat.evidence["generators"]) == 3, sat.summary


def test_merged_percentiles_are_those_of_every_value(run_dir: Path) -> None:
    rd = RunDir(run_dir)
    every = new_histogram()
    for i in range(3):
        _, intervals = read_log(run_dir / "ycsb" / f"g{i}" / "run.hlog")
        for iv in intervals:
            if iv.tag == "TOTAL":
                every.add(iv.histogram)
    final = rd.ycsb_final("run")
    assert final is not None
    total = final[final["operation"] == "TOTAL"].iloc[0]
    assert int(total["count"]) == every.get_total_count()
    for col, p in (("p50_us", 50), ("p99_us", 99)):
        want = every.get_value_at_percentile(p)
        bucket = every.get_highest_equivalent_value(want) - every.get_lowest_equivalent_value(want)
        assert abs(float(total[col]) - want) <= bucket + 1, (col, total[col], want)
    merged = rd.interval_histograms("run")
    series = rd.generator_series("run")
    assert merged is not None and series is not None
    assert sorted(set(series["generator"])) == [0, 1, 2]
    ops = merged[merged["operation"] == "TOTAL"]["count"].sum()
    assert ops == series[series["operation"] == "TOTAL"]["count"].sum() == every.get_total_count()
    assert json.loads((run_dir / "run.json").read_text())["params"]["generators"] == 3
    assert isinstance(merged, pd.DataFrame)
