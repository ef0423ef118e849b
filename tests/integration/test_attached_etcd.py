"""One stack for many runs, for real on the offline etcd stack: a `stack = "per-campaign"`
campaign through `workbench campaign`'s own function (2 configurations x 2 runs of 3 s), and a
bounded findmax search; each leaves its run directories and reports, one stack was brought up for
each, the later runs did not load again, and no container is left behind."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import pytest

from workbench.capacity import read_capacity
from workbench.cli.campaign_cmds import cmd_campaign
from workbench.manifest import Manifest
from workbench.run import findmax
from workbench.stack import Stack, running_projects

CAMPAIGN = """
name = "held"
subject = "etcd"
workload = "a"
repeat = 2
stack = "per-campaign"
rerun_spoiled = 0
[base]
duration = 3
recordcount = 200
[[configs]]
name = "t1"
threads = 1
[[configs]]
name = "t2"
threads = 2
"""


def ours_running() -> dict[str, Any]:
    return {p: c for p, c in running_projects("wb-").items() if p in Stack.created}


@pytest.mark.timeout(900)
def test_a_per_campaign_stack_is_loaded_once_and_removed_at_the_end(
    etcd_manifest: Manifest, tmp_path: Path
) -> None:
    file = tmp_path / "held.toml"
    file.write_text(CAMPAIGN)
    results = tmp_path / "results"
    before = set(Stack.created)
    args = argparse.Namespace(file=file, results=results, resume=False, no_setup=True)
    assert cmd_campaign(args) in (0, 2)  # 2 + 2 runs: the comparison may be unknown
    assert len(Stack.created - before) == 1 and not ours_running()  # one stack, and it is gone
    runs = sorted(p for p in results.iterdir() if (p / "run.json").is_file())
    recs = [json.loads((p / "run.json").read_text()) for p in runs]
    assert len(recs) == 4 and all(r["attached"] for r in recs)
    assert len({r["project"] for r in recs}) == 1
    phases = sorted(r["params"]["phases"] for r in recs)
    assert phases == ["load,run", "run", "run", "run"]  # loaded once: the configs share it
    assert all((p / "report.html").is_file() for p in runs)
    assert all(r["status"] in ("passed", "unknown", "failed") for r in recs)


@pytest.mark.timeout(900)
def test_findmax_on_etcd_is_bounded_and_leaves_a_report(
    etcd_manifest: Manifest, tmp_path: Path
) -> None:
    params = findmax.build_params(
        slo="p99=50ms", subject="etcd", workload="a", threads=4, recordcount=200,
        probe_duration=3, start=100, precision=0.25, repeats=1, max_probes=8,
        tolerate_host=True, results_dir=tmp_path,
    )  # fmt: skip
    t0 = time.monotonic()
    path, doc = findmax.findmax(params, progress=print)
    took = time.monotonic() - t0
    assert not ours_running()
    kept = read_capacity(path / "capacity.json")
    assert 1 <= len(kept.probes) <= 8 and kept.status in ("found", "limited", "unknown")
    assert kept.exit_code() in (0, 2)
    for p in kept.probes:
        assert (Path(p.run_dir) / "report.html").is_file(), p
        assert p.samples > 0 and p.achieved > 0
    assert kept.probes[0].offered == 100
    if kept.capacity is not None:
        assert kept.capacity.low < kept.capacity.high
    assert (path / "report.html").is_file()
    print(f"findmax on etcd: {doc.headline()} in {took:.0f} s")
