"""The report's Faults section and compare's recovery columns, from a faults.json as the run
writes it (RunFaults with fake actions over a synthetic client series)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest

from support import InstantClock
from workbench import report
from workbench.artifacts import FaultsDoc, RunDir
from workbench.faults.actions import Applied
from workbench.faults.injector import Injector
from workbench.faults.outcome import ProbeNumbers, ServerCounters
from workbench.manifest import load_manifest
from workbench.params import validate_run
from workbench.report.faults import compare_columns, fault_summary
from workbench.run.faulting import RunFaults

SUPPORTED = dict.fromkeys(["kill", "stop", "restart", "pause", "partition", "loss", "bandwidth"])

pytestmark = pytest.mark.usefixtures("fixed_png")  # figures built, not rasterised


def _run(tmp_path: Path, name: str, dip_s: int) -> RunDir:
    """A run whose client series has a `dip_s` second outage at 12 s, with one applied fault."""
    rd = RunDir.create(tmp_path, name, "etcd", {"subject": "etcd", "workload": "a"})
    p = validate_run({"faults": ["kill:etcd1@0+0.1", "pause:etcd2@0.3+9"], "duration": 30})
    from workbench.faults.schedule import build_schedule
    from workbench.faults.targets import FaultsConfig

    config = FaultsConfig.from_table(load_manifest("etcd").faults)
    sched = build_schedule(p.faults, config=config, supported=SUPPORTED, run_duration_s=30)
    plan = RunFaults(sched, config, seed=7)

    def apply(action: str, container: str, arg: str | None) -> Applied:
        if action == "pause":
            raise RuntimeError("docker said no")
        return Applied(lambda: None, True, {"state": "exited"})

    clock = InstantClock()

    def make(schedule: object, *, resolver: object, lookup: object) -> Injector:
        return Injector(
            schedule, resolver=resolver, lookup=lookup, apply=apply, clock=clock, wait=clock.wait
        )  # type: ignore[arg-type]

    class Stack:
        project, manifest = "p", load_manifest("etcd")
        ports: ClassVar[dict[str, int]] = {}

        def services_health(self) -> dict[str, str]:
            return dict.fromkeys(self.manifest.healthy_services, "healthy")

    plan.clock = clock
    plan.arm(Stack(), lookup=lambda s: f"c-{s}", make_injector=make)  # type: ignore[arg-type]
    with plan.during(None) as begin:
        begin(None)
        assert plan.injector is not None and plan.injector._thread is not None
        plan.injector._thread.join(5.0)  # the whole schedule, on the instant clock
    rows = [
        {
            "t_s": float(t),
            "operation": "READ",
            "interval_ops": 0.0 if 12 < t <= 12 + dip_s else 300.0,
        }
        for t in range(1, 31)
    ]
    rd.ycsb_dir.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(rd.ycsb_dir / "run.intervals.csv", index=False)

    class Phase:
        first_line = plan.records[0].start - 12.0  # type: ignore[operator]

    plan.finish(rd, Phase(), None)  # type: ignore[arg-type]
    return rd


def test_faults_section_shows_each_fault_its_numbers_and_the_distribution(tmp_path: Path) -> None:
    rd = _run(tmp_path, "r1", dip_s=3)
    summary = fault_summary(rd)
    assert summary is not None
    kill, pause = summary.rows
    assert kill.label == "kill:etcd1" and kill.took_effect
    assert kill.metrics["unavailability_s"] == 3.0
    assert not pause.took_effect and pause.error is not None and "docker said no" in pause.error
    assert pause.reasons["unavailability_s"] == "the fault was not applied, or no client series"
    assert summary.distribution["unavailability_s"].values == [3.0]
    html = report.render(rd.path).read_text()
    assert "<h2>Faults</h2>" in html and "kill:etcd1" in html and "docker said no" in html
    assert (
        "Distribution over 2 fault(s)" in html and "Seed of random and follower targets: 7" in html
    )


def test_the_servers_view_of_each_fault_is_a_column(tmp_path: Path) -> None:
    """faults.json's server_view (etcd's own counters per fault) shows beside the client's
    recovery numbers; a counter that could not be read is unknown, never 0."""
    rd = _run(tmp_path, "sv", dip_s=3)
    doc = rd.faults()
    assert isinstance(doc, FaultsDoc)
    kill = doc.faults[0]
    assert kill.start is not None and kill.end is not None
    kill.server = ServerCounters(
        start=kill.start, end=kill.end, counters={"leader_changes": 1.0, "proposals_failed": None}
    )
    doc.server_counters = ["leader_changes", "proposals_failed"]
    rd.save_faults(doc)
    summary = fault_summary(rd)
    assert summary is not None and summary.server == ["leader_changes", "proposals_failed"]
    kill_row, pause_row = summary.rows
    assert kill_row.server == {"leader_changes": 1.0, "proposals_failed": None}
    assert pause_row.server is None  # not applied: the server has no view of it
    html = report.render(rd.path).read_text()
    assert "leader changes (server)</th>" in html and "proposals failed (server)</th>" in html
    row = html[html.index("<td>kill:etcd1</td>") : html.index("<td>pause:etcd2</td>")]
    assert re.findall(r'<td class="num">([^<]*)</td>', row)[-1] == "1"
    assert "the counter could not be read" in row
    # a view that could not be taken at all is said, not left out
    kill.server, doc.server_counters = None, []
    doc.server_problem = "QueryError: <Prometheus> refused"
    rd.save_faults(doc)
    html = report.render(rd.path).read_text()
    assert "could not be taken: QueryError: &lt;Prometheus&gt; refused" in html


def test_no_faults_no_section(tmp_path: Path) -> None:
    rd = RunDir.create(tmp_path, "r0", "etcd", {"subject": "etcd", "workload": "a"})
    assert fault_summary(rd) is None
    assert "<h2>Faults</h2>" not in report.render(rd.path).read_text()
    assert compare_columns(rd)["faults"] == 0


def test_unreadable_faults_json_is_said(tmp_path: Path) -> None:
    rd = RunDir.create(tmp_path, "rx", "etcd", {"subject": "etcd", "workload": "a"})
    (rd.path / "faults.json").write_text("{not json")
    assert "faults.json is unreadable" in report.render(rd.path).read_text()


def test_compare_shows_recovery_side_by_side(tmp_path: Path) -> None:
    a, b = _run(tmp_path, "a", dip_s=2), _run(tmp_path, "b", dip_s=5)
    df = report.compare_runs([a.path, b.path])
    assert df["faults"].tolist() == [2, 2]
    assert df["unavail max s"].tolist() == [2.0, 5.0]
    assert json.loads((a.path / "faults.json").read_text())["seed"] == 7


def test_the_probes_unavailability_replaces_the_workloads_stall(tmp_path: Path) -> None:
    """The probe ran during the faulted run (its samples are in the run directory); the Faults
    table shows its unavailability, and the client's gap as the workload's stall."""
    rd = _run(tmp_path, "pr", dip_s=7)
    doc = rd.faults()
    assert isinstance(doc, FaultsDoc) and doc.probe is not None
    assert doc.probe.samples_file == "faults/probe.parquet" and doc.probe.every_s == 0.1
    assert doc.probe.targets == ["etcd0", "etcd1", "etcd2", "cluster"]
    assert (rd.path / "faults" / "probe.parquet").is_file()
    samples = rd.probe_samples()
    assert samples is not None and len(samples) > 0
    kill = doc.faults[0]
    kill.probe = ProbeNumbers(
        attempts=150, failed=11, unavailability_s=1.1, time_to_first_error_s=0.05,
        serve_again_s=1.15, new_leader_seen_s=1.0, members={"etcd1": 15.0},
    )  # fmt: skip
    rd.save_faults(doc)
    summary = fault_summary(rd)
    assert summary is not None
    row = summary.rows[0]
    assert row.probe["unavailability_s"] == 1.1 and row.metrics["unavailability_s"] == 7.0
    assert summary.probe_distribution is not None
    assert summary.probe_distribution.values == [1.1]
    html = report.render(rd.path).read_text()
    assert "unavailability (probe) (s)</th>" in html and "workload stall: threads blocked" in html
    cells = html[html.index("<td>kill:etcd1</td>") : html.index("<td>pause:etcd2</td>")]
    nums = re.findall(r'<td class="num">([^<]*)</td>', cells)
    assert nums[3:7] == ["1.10", "0.05", "1.15", "1.00"]  # after scheduled, start, end
    assert "7.00" in nums[7:]
