"""The run's faults: --fault validated with the parameters, the faulting context with fake actions
(undo on every way out), what a run keeps of them, and the checks that read them."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pytest

from support import InstantClock
from workbench.artifacts import FaultsDoc, RunDir
from workbench.checks.base import Unobservable
from workbench.checks.faults import HealthObservation, judge_healthy
from workbench.checks.measurement import judge_counts, judge_error_rate
from workbench.errors import ParameterError
from workbench.faults import plan as fault_plan
from workbench.faults.actions import Applied
from workbench.faults.injector import Injector
from workbench.faults.outcome import HealthAfter
from workbench.faults.plan import schedule_for
from workbench.faults.recovery import FaultWindow, recovery
from workbench.faults.schedule import build_schedule
from workbench.faults.spans import ErrorCount
from workbench.manifest import load_manifest
from workbench.params import run_params_from_cli, validate_run
from workbench.run import faulting
from workbench.run.faulting import RunFaults, series_for_recovery

ALL = dict.fromkeys(["kill", "stop", "restart", "pause", "partition", "loss", "bandwidth", "delay"])


@pytest.fixture(autouse=True)
def _host_supports_all_but_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    """No probing in unit tests: this host as measured (no sch_netem)."""
    supported = {**ALL, "delay": "the kernel has no sch_netem"}
    monkeypatch.setattr(fault_plan, "host_actions", lambda: supported)


# --- parameters -------------------------------------------------------------------------------


def test_cli_faults_become_run_parameters() -> None:
    p = run_params_from_cli(
        [], subject="etcd", duration=40, faults=["kill:leader@10+5", "pause:follower@25+3"]
    )
    assert p.faults == ("kill:leader@10+5", "pause:follower@25+3")
    assert (p.fault_repeat, p.fault_every, p.fault_seed) == (1, None, 1)
    sched = schedule_for(p, load_manifest("etcd"))
    assert [f.label for f in sched.faults] == ["kill:leader", "pause:follower"]


def test_faults_survive_papermill_which_injects_a_tuple_as_its_repr() -> None:
    p = validate_run({"faults": "('kill:leader@10+5', 'pause:follower@25+3')", "duration": 40})
    assert p.faults == ("kill:leader@10+5", "pause:follower@25+3")
    with pytest.raises(ParameterError, match="expected a list of strings"):
        validate_run({"faults": "('kill:leader@10+5'"})


def test_every_fault_problem_in_one_error_before_anything_starts() -> None:
    with pytest.raises(ParameterError) as exc:
        run_params_from_cli(
            [],
            subject="etcd",
            duration=20,
            faults=[
                "kill:leader@10+15",
                "nuke:etcd0@1+1",
                "kill:pd-leader@1+1",
                "delay:50:etcd1@2+1",
            ],
            fault_repeat=2,
        )
    text = "\n".join(exc.value.problems)
    assert "fault_repeat > 1 needs fault_every" in text
    assert "unknown action 'nuke'" in text
    assert "target 'pd-leader' not allowed" in text
    assert "delay not supported on this host: the kernel has no sch_netem" in text
    assert "ends at 25 s, after the run phase (20 s)" in text
    assert len(exc.value.problems) == 5


def test_repeated_faults_fit_the_default_duration_or_are_refused() -> None:
    ok = validate_run({"faults": "kill:leader@2+1", "fault_repeat": 3, "fault_every": 5})
    assert len(schedule_for(ok, load_manifest("etcd")).faults) == 3
    with pytest.raises(ParameterError, match=r"#4\) ends at 18 s, after the run phase \(15 s\)"):
        validate_run(
            {"faults": "kill:leader@2+1", "fault_repeat": 4, "fault_every": 5, "duration": 15}
        )


def test_faults_need_a_run_phase() -> None:
    with pytest.raises(ParameterError, match="faults: set, but there is no run phase"):
        validate_run({"faults": "kill:etcd0@1+1", "phases": "load"})


def test_no_faults_no_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom() -> dict[str, str | None]:
        raise AssertionError("probed the host without faults")

    monkeypatch.setattr(fault_plan, "host_actions", boom)
    assert not schedule_for(validate_run({}), load_manifest("etcd"))


# --- the context in a run ---------------------------------------------------------------------


class FakeStack:
    project = "wb-etcd-test"
    ports: ClassVar[dict[str, int]] = {"WB_ETCD0_PORT": 1, "WB_ETCD1_PORT": 2, "WB_ETCD2_PORT": 3}
    manifest = load_manifest("etcd")

    def services_health(self) -> dict[str, str]:
        return dict.fromkeys(self.manifest.healthy_services, "healthy")


class Actions:
    """Fake actions: each applied one is in force until its undo."""

    def __init__(self) -> None:
        self.in_force: set[str] = set()
        self.log: list[str] = []

    def __call__(self, action: str, container: str, arg: str | None) -> Applied:
        key = f"{action}:{container}"
        self.in_force.add(key)
        self.log.append(f"apply {key}")

        def undo() -> None:
            self.in_force.discard(key)
            self.log.append(f"undo {key}")

        return Applied(undo, True, {"seen": key})


def _plan(texts: list[str], duration: float = 30.0) -> RunFaults:
    manifest = load_manifest("etcd")
    p = validate_run({"faults": texts, "duration": duration})
    return RunFaults.for_run(p, manifest)


def _arm(plan: RunFaults, actions: Actions, clock: InstantClock | None = None) -> None:
    def make(schedule: Any, *, resolver: Any, lookup: Any) -> Injector:
        if clock is None:
            return Injector(schedule, resolver=resolver, lookup=lookup, apply=actions)
        return Injector(
            schedule, resolver=resolver, lookup=lookup, apply=actions, clock=clock, wait=clock.wait
        )

    if clock is not None:
        plan.clock = clock  # the plan's stamps (t0, health) on the injector's clock
    plan.arm(FakeStack(), lookup=lambda s: f"c-{s}", make_injector=make)  # type: ignore[arg-type]


def test_ctrl_c_mid_fault_undoes_it_and_keeps_the_record() -> None:
    plan, actions = _plan(["pause:etcd1@0+20"]), Actions()
    _arm(plan, actions)
    with pytest.raises(KeyboardInterrupt), plan.during(None) as begin:
        begin()
        deadline = time.time() + 5
        while not actions.in_force and time.time() < deadline:
            time.sleep(0.01)
        assert actions.in_force == {"pause:c-etcd1"}
        interrupted = time.monotonic()
        raise KeyboardInterrupt
    # undone at once: the health watcher's wait (5 s) is for a schedule that ran its course
    assert time.monotonic() - interrupted < 2.0
    assert actions.in_force == set()
    assert actions.log == ["apply pause:c-etcd1", "undo pause:c-etcd1"]
    (rec,) = plan.records
    assert rec.undone and rec.took_effect and rec.end is not None and rec.start is not None
    assert rec.end >= rec.start
    assert plan.close() == plan.records  # idempotent: the conductor's _fail calls it again


def test_close_before_begin_injects_nothing() -> None:
    plan, actions = _plan(["kill:etcd0@0+1"]), Actions()
    _arm(plan, actions)
    with plan.during(None):
        pass
    assert actions.log == [] and plan.records == []


def _intervals(rd: RunDir, dip: tuple[float, float]) -> None:
    rows = []
    for t in range(1, 31):
        ok = 0.0 if dip[0] < t <= dip[1] else 300.0
        rows.append(
            {"t_s": float(t), "operation": "READ", "interval_ops": ok, "interval_count": ok}
        )
        if dip[0] < t <= dip[1] + 1:
            row = {"t_s": float(t), "operation": "READ_ERROR", "interval_ops": 2.0}
            rows.append({**row, "interval_count": 2})
    rd.ycsb_dir.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(rd.ycsb_dir / "run.intervals.csv", index=False)


def test_finish_writes_faults_json_marks_record_and_recoveries(tmp_path: Path) -> None:
    rd = RunDir.create(tmp_path, "r1", "etcd", {})
    plan, actions = _plan(["kill:etcd2@0+0.2"]), Actions()
    _arm(plan, actions, InstantClock())
    with plan.during(None) as begin:
        begin()
        assert plan.injector is not None and plan.injector._thread is not None
        plan.injector._thread.join(5.0)  # the whole schedule, on the instant clock
    (rec,) = plan.records
    assert rec.took_effect and rec.undone and actions.in_force == set()
    run_t0 = rec.start - 12.0  # type: ignore[operator]  # the series puts it 12 s into the run
    _intervals(rd, (12.0, 15.0))

    class Phase:
        first_line = run_t0

    plan.finish(rd, Phase(), FakeStack())  # type: ignore[arg-type]
    doc = rd.faults()
    assert isinstance(doc, FaultsDoc)
    assert doc.seed == 1 and doc.run_t0 == pytest.approx(run_t0)
    (f,) = doc.faults
    assert f.label == "kill:etcd2" and f.container == "c-etcd2"
    assert f.recovery is not None
    assert f.recovery.unavailability_s == pytest.approx(3.0, abs=1.01)
    assert f.recovery.throughput_recovery_s == pytest.approx(3.0, abs=1.01)
    assert (f.recovery.errors_during or 0) > 0
    assert doc.distribution["unavailability_s"].n == 1
    assert doc.healthy_after is not None and doc.healthy_after.healthy
    assert (doc.healthy_after.took_s or 0) >= 0
    assert json.loads((rd.path / "faults.json").read_text())["schema"] == 2
    marks = [m for m in rd.marks() if m.source == "fault"]
    assert [m.name for m in marks] == ["kill:etcd2"]
    again = RunDir(rd.path).record
    assert again.fault_seed == 1 and again.faults[0].label == "kill:etcd2"
    obs = plan.observation()
    assert obs is not None and obs == doc.observation()  # the checks judge what the file holds
    assert obs.faults[0].recovery is not None


def test_no_schedule_no_observation_no_file(tmp_path: Path) -> None:
    rd = RunDir.create(tmp_path, "r2", "etcd", {})
    plan = RunFaults.for_run(validate_run({}), load_manifest("etcd"))
    with plan.during(FakeStack()) as begin:  # type: ignore[arg-type]
        begin()
    plan.finish(rd, None, None)
    assert plan.observation() is None and not (rd.path / "faults.json").exists()


def test_series_for_recovery_takes_per_interval_p99_when_written(tmp_path: Path) -> None:
    rd = RunDir.create(tmp_path, "r", "etcd", {})
    d = rd.ycsb_dir
    rows = [
        {"t_s": 1.0, "operation": "READ", "interval_ops": 10.0},
        {"t_s": 1.0, "operation": "TOTAL", "interval_ops": 10.0},  # the sum: left out
    ]
    pd.DataFrame(rows).to_csv(d / "run.intervals.csv", index=False)
    assert list(series_for_recovery(rd).columns) == ["t_s", "operation", "ops"]
    assert series_for_recovery(rd)["operation"].tolist() == ["READ"]
    pd.DataFrame(
        [
            {
                "time": 0,
                "t_s": 1.0,
                "interval_s": 1.0,
                "operation": "READ",
                "count": 10,
                "p99_ms": 7.5,
            }
        ]
    ).to_csv(d / "run.interval.csv", index=False)
    assert series_for_recovery(rd)["p99_ms"].tolist() == [7.5]


# --- checks with faults -----------------------------------------------------------------------

CLIENT = {
    "total_ops": 1000,
    "total_errors": 12,
    "errors": {"READ": 8, "UPDATE": 4},
    "operations": {"READ": 500, "UPDATE": 500},
}
SERVER = {"before": 10.0, "after": 500.0, "start": 0.0, "end": 40.0, "settle_s": 1.0}
KILL = {
    "index": 0,
    "label": "kill:leader",
    "action": "kill",
    "took_effect": True,
    "start": 1,
    "end": 6,
}


def test_counts_agree_without_the_raw_counter_is_unknown_with_the_reason_under_faults() -> None:
    with pytest.raises(Unobservable, match="reset cannot be corrected"):
        judge_counts({"client": CLIENT, "server": SERVER, "faults": [KILL], "raw": None}, {})
    # without faults the same numbers are a fail (server 490 vs client 1012)
    assert judge_counts({"client": CLIENT, "server": SERVER, "faults": []}, {}).status == "fail"


def test_error_rate_leaves_the_fault_spans_out_and_can_still_fail() -> None:
    all_in = ErrorCount(12.0, {0: 12.0})
    inside = judge_error_rate({"client": CLIENT, "faults": [KILL], "error_count": all_in}, {})
    assert inside.status == "pass" and "outside 1 fault(s)" in inside.summary
    some = ErrorCount(12.0, {0: 4.0})
    outside = judge_error_rate({"client": CLIENT, "faults": [KILL], "error_count": some}, {})
    assert outside.status == "fail" and outside.evidence["errors_outside_faults"] == 8.0
    blind = ErrorCount(12.0, {0: 0.0}, attributed=False)
    with pytest.raises(Unobservable, match="no per-interval client errors"):
        judge_error_rate({"client": CLIENT, "faults": [KILL], "error_count": blind}, {})


def test_stack_healthy_after_faults() -> None:
    def obs(**h: Any) -> HealthObservation:
        return HealthObservation(HealthAfter(**h), ["kill:leader"])

    ok = {"healthy": True, "took_s": 4.2}
    assert judge_healthy(obs(**ok), {}).status == "pass"
    assert judge_healthy(obs(**ok), {"max_healthy_after_s": 3}).status == "fail"
    assert "left behind" in judge_healthy(obs(**ok, leftovers=["c-etcd1: paused"]), {}).summary
    j = judge_healthy(obs(healthy=False, waited_s=90.0, health={"etcd1": "exited(137)"}), {})
    assert j.status == "fail" and "exited(137)" in j.summary


def test_build_schedule_is_what_the_plan_holds() -> None:
    plan = _plan(["kill:leader@10+5", "pause:follower@25+3"], duration=40)
    same = build_schedule(
        ["kill:leader@10+5", "pause:follower@25+3"],
        config=plan.config,
        supported=fault_plan.host_actions(),
        run_duration_s=40,
    )
    assert plan.schedule == same and bool(plan)


def test_unavailability_at_100_ms_from_the_generators_completions(tmp_path: Path) -> None:
    rd = RunDir.create(tmp_path, "r", "etcd", {})
    d = rd.ycsb_dir
    ok = [round(0.1 * i, 1) for i in range(1, 301) if not 120 < i <= 133]  # 12.0 s .. 13.4 s: none
    done = [{"t_s": t, "ok": 30, "errors": 0} for t in ok] + [{"t_s": 12.5, "ok": 0, "errors": 2}]
    (d / "run.errors.json").write_text(json.dumps({"completions_100ms": done}))
    frame = faulting.completions_for_recovery(rd)
    assert frame is not None and set(frame.columns) == {"t_s", "ok"}
    assert (~frame["ok"]).sum() == 1
    series = pd.DataFrame(
        [{"t_s": float(t), "operation": "READ", "ops": 300.0} for t in range(1, 31)]
    )
    r = recovery(series, FaultWindow(11.9, 13.0, "kill:leader"), completions=frame)
    assert r.unavailability_from == "completions"
    assert r.unavailability_s == pytest.approx(1.35, abs=0.06)  # 12.0 -> 13.4, 100 ms grid
    assert r.time_to_first_error_s == pytest.approx(0.6, abs=0.05)
    (d / "run.errors.json").unlink()
    assert faulting.completions_for_recovery(rd) is None  # go-ycsb: no side file
    (d / "run.errors.json").write_text("{damaged")
    assert faulting.completions_for_recovery(rd) is None


def test_the_server_view_counts_each_faults_leader_changes_across_a_restart() -> None:
    """faults.json's server_view: a counter's increase over each fault and the 10 s after it,
    summed over the members, a restarted member's reset corrected; unreadable stays None."""
    import numpy as np
    import pandas as pd

    from workbench.errors import QueryError
    from workbench.faults.injector import FaultRecord
    from workbench.faults.schedule import FaultSpec
    from workbench.run.faulting import server_view

    t0 = 1_800_000_000.0
    t = t0 + np.arange(0, 60, 0.25)
    # etcd0 counts one leader change at +11 s; etcd1 is killed at +10 s and comes back with its
    # counter reset to 0, then sees one change at +12 s; nothing moves during the second fault
    etcd0 = np.where(t >= t0 + 11, 3.0, 2.0)
    etcd1 = np.where(t < t0 + 10, 5.0, np.where(t < t0 + 12, 0.0, 1.0))
    frames = [
        pd.DataFrame(
            {
                "timestamp": pd.to_datetime(t, unit="s", utc=True),
                "value": v,
                "instance": pd.Categorical([inst] * len(t)),
            }
        )
        for inst, v in (("etcd0:2379", etcd0), ("etcd1:2379", etcd1))
    ]

    class Prom:
        def samples(self, selector: str, start: float, end: float) -> pd.DataFrame:
            if "proposals" in selector:
                raise QueryError("no such series", query=selector, response="")
            return pd.concat(frames, ignore_index=True)

    def record(i: int, start: float, end: float) -> FaultRecord:
        spec = FaultSpec(
            action="kill", target="leader", start_s=start - t0, duration_s=end - start, text="kill"
        )
        return FaultRecord(
            index=i, spec=spec, label=f"kill:leader#{i}", scheduled_start=start,
            scheduled_end=end, start=start, end=end,
        )  # fmt: skip

    got = server_view(
        [record(0, t0 + 9.5, t0 + 14.5), record(1, t0 + 30, t0 + 33)],
        {
            "leader_changes": "etcd_server_leader_changes_seen_total",
            "proposals_failed": "etcd_server_proposals_failed_total",
        },
        Prom(),
        now=t0 + 59,
    )
    assert [got[i].counters["leader_changes"] for i in (0, 1)] == [2.0, 0.0]
    assert all(g.counters["proposals_failed"] is None for g in got.values())
    assert got[0].end == t0 + 24.5  # 10 s after the fault's end


def test_series_for_recovery_p99_of_every_interval_whatever_its_clock(tmp_path: Path) -> None:
    """The status blocks count intervals at 1.0, 2.0 ... s, the interval histograms close them at
    1.016, 2.01 ... s (the tick's own clock), and the last one is a 0.03 s sliver: every full
    interval has its p99, the sliver is marked partial with its length kept."""
    rd = RunDir.create(tmp_path, "r", "etcd", {})
    d = rd.ycsb_dir
    ends = [round(t + 0.016 - 0.001 * (t % 7), 3) for t in range(1, 11)] + [10.033]
    status, hist = [], []
    for i, end in enumerate(ends):
        length = round(end - (ends[i - 1] if i else 0.0), 3)
        for op in ("READ", "UPDATE"):
            status.append({"t_s": float(i + 1), "operation": op, "interval_ops": 150.0})
            hist.append({"time": 1e9 + end, "t_s": end, "interval_s": length, "operation": op,
                         "count": round(150 * length), "p99_ms": 4.0 + i})  # fmt: skip
    pd.DataFrame(status[:-2]).to_csv(d / "run.intervals.csv", index=False)  # no status sliver
    pd.DataFrame(hist).to_csv(d / "run.interval.csv", index=False)
    s = series_for_recovery(rd)
    busy = s[s["t_s"] < 10.03]  # every interval but the sliver
    assert len(busy) == 20 and busy["p99_ms"].notna().all()  # never lost in a join on floats
    full = s[~s["partial"]]
    assert len(full) == 20 and full["ops"].between(140.0, 160.0).all()  # count / own length
    sliver = s[s["partial"]]
    assert sliver["t_s"].tolist() == [10.033, 10.033]
    assert sliver["interval_s"].tolist() == [0.02, 0.02]


def test_finish_measures_recovery_from_the_histograms_alone_with_the_target(
    tmp_path: Path,
) -> None:
    """go-ycsb's raw samples give interval histograms and no status blocks: still recoveries;
    the run's target is the pre-fault level when no clean window is left (the fault at 1 s)."""
    rd = RunDir.create(tmp_path, "r3", "etcd", {})
    manifest = load_manifest("etcd")
    plan = RunFaults.for_run(
        validate_run({"faults": ["kill:etcd2@1+0.2"], "duration": 30.0, "target": 300}), manifest
    )
    assert plan.target == 300.0
    actions = Actions()
    _arm(plan, actions, InstantClock())
    with plan.during(None) as begin:
        begin()
        assert plan.injector is not None and plan.injector._thread is not None
        plan.injector._thread.join(5.0)
    (rec,) = plan.records
    rows = [{"time": 0, "t_s": float(t), "interval_s": 1.0, "operation": "READ",
             "count": 0 if t == 2 else 300, "p99_ms": 5.0} for t in range(1, 11)]  # fmt: skip
    rd.ycsb_dir.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(rd.ycsb_dir / "run.interval.csv", index=False)

    class Phase:
        first_line = rec.start - 1.0  # type: ignore[operator]

    plan.finish(rd, Phase(), None)  # type: ignore[arg-type]
    doc = rd.faults()
    assert isinstance(doc, FaultsDoc)
    (r,) = [f.recovery for f in doc.faults]
    assert r is not None and (r.pre_from, r.pre_throughput) == ("target", 300.0)
    assert r.throughput_recovery_s == pytest.approx(1.0, abs=0.05)
