"""The conductor with fake stages: order, stage records, save-then-raise, cleanup on failure,
interrupt and interpreter exit, and the record handed over by a supervisor. No processes."""

from __future__ import annotations

import atexit
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from workbench.artifacts import Fingerprint, RunDir
from workbench.errors import ConfigError, WorkloadError
from workbench.model import Verdict
from workbench.params import validate_run
from workbench.run import benchmark as conductor
from workbench.telemetry import HostSampler
from workbench.ycsb.parser import parse
from workbench.ycsb.runner import RunOutcome
from workbench.ycsb.tools import PhaseRecord

FINAL = """\
Run finished, takes 2s
READ   - Takes(s): 2.0, Count: 100, OPS: 50.0, Avg(us): 900, Min(us): 500, Max(us): 3000, 50th(us): 800, 90th(us): 1500, 95th(us): 2000, 99th(us): 2500, 99.9th(us): 3000, 99.99th(us): 3000
TOTAL  - Takes(s): 2.0, Count: 200, OPS: 100.0, Avg(us): 900, Min(us): 500, Max(us): 3000, 50th(us): 800, 90th(us): 1500, 95th(us): 2000, 99th(us): 2500, 99.9th(us): 3000, 99.99th(us): 3000
UPDATE - Takes(s): 2.0, Count: 100, OPS: 50.0, Avg(us): 900, Min(us): 500, Max(us): 3000, 50th(us): 800, 90th(us): 1500, 95th(us): 2000, 99th(us): 2500, 99.9th(us): 3000, 99.99th(us): 3000
"""


class FakeStack:
    project = "wb-etcd-fake"
    ports: dict[str, int] = {}  # noqa: RUF012 - a fake


class FakeControl:
    """Stands in for StackControl: counts opens and teardowns."""

    instances: list[FakeControl] = []  # noqa: RUF012 - a test registry

    def __init__(self, manifest: Any, rd: RunDir, progress: Any, **kw: Any) -> None:
        self.stack: FakeStack | None = None
        self.healthy_at: float | None = None
        self.downs: list[bool] = []
        self.background = 0
        FakeControl.instances.append(self)

    def open(self) -> FakeStack:
        self.stack, self.healthy_at = FakeStack(), 1.0
        return self.stack

    def require(self) -> FakeStack:
        assert self.stack is not None, "stage ran before stack_up"
        return self.stack

    def down(self, force: bool = False) -> None:
        self.downs.append(force)
        self.stack = None

    def down_in_background(self) -> None:
        self.background += 1

    def image_ids(self) -> dict[str, str]:
        return {}


def _record(phase: str) -> PhaseRecord:
    outcome = RunOutcome(["fake", phase], 0, FINAL, parse(FINAL), None, False, 2.0)
    return PhaseRecord(outcome, "native", 10.0, 10.0, 12.5)


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    calls: dict[str, Any] = {"phases": [], "checks": [], "rendered": 0, "fail_in": None}
    FakeControl.instances.clear()
    monkeypatch.setattr(conductor, "StackControl", FakeControl)

    def no_engine() -> Any:
        raise OSError("no engine in the pure tier")

    # the host's CPU alone (psutil); the real engine's containers are no part of a unit test
    monkeypatch.setattr(conductor, "HostSampler", lambda p: HostSampler(p, engine=no_engine))

    def run_phase(phase: str, **kw: Any) -> PhaseRecord:
        calls["phases"].append(phase)
        if kw.get("gate") is not None:
            kw["gate"]()
        fail = calls["fail_in"]
        if fail and fail[0] == phase:
            raise fail[1]
        return _record(phase)

    def checks(stack: Any, manifest: Any, phase: str, names: list[str], **kw: Any) -> list[Any]:
        calls["checks"].append((phase, tuple(names), sorted(kw)))
        return [Verdict(n, phase, "pass", "ok") for n in names]  # type: ignore[arg-type]

    monkeypatch.setattr(conductor.workload, "run_phase", run_phase)
    monkeypatch.setattr(conductor.observe, "checks", checks)
    monkeypatch.setattr(
        conductor.observe,
        "settle",
        lambda st, after: conductor.observe.Settle(after=after, waited_s=0.0),
    )
    monkeypatch.setattr(conductor.observe, "metrics", lambda *a: ({}, {}))
    monkeypatch.setattr(conductor.observe, "timeline", lambda rd, ph: (pd.DataFrame(), {}))
    monkeypatch.setattr(
        conductor.finishing, "fingerprint", lambda m, ctl: Fingerprint(git_sha="fake")
    )

    def render(rd: RunDir, progress: Any) -> None:
        calls["rendered"] += 1

    monkeypatch.setattr(conductor.finishing, "render", render)
    return calls


def _bench(tmp_path: Path, **params: Any) -> conductor.Benchmark:
    p = validate_run({"subject": "etcd", "results_dir": str(tmp_path), "duration": 2, **params})
    bench = conductor.Benchmark(p, progress=lambda _m: None)
    atexit.unregister(bench._at_exit)  # the tests call it themselves; no fake outlives its test
    return bench


def _stage_names(rd: RunDir) -> list[tuple[str, str]]:
    data = json.loads((rd.path / "run.json").read_text())
    return [(s["name"], s["status"]) for s in data["stages"]]


def test_execute_runs_every_stage_in_order_and_tears_down_once(
    tmp_path: Path, fakes: dict[str, Any]
) -> None:
    bench = _bench(tmp_path)
    assert bench.execute() == "passed"
    assert [n for n, _ in _stage_names(bench.rd)] == list(conductor.STAGES)
    assert all(s == "ok" for _, s in _stage_names(bench.rd))
    assert fakes["phases"] == ["load", "run"]
    assert [c[0] for c in fakes["checks"]][-1] == "post"
    ctl = FakeControl.instances[0]
    assert ctl.downs == [False] and ctl.background == 1
    assert fakes["rendered"] == 1
    rec = json.loads((bench.rd.path / "run.json").read_text())
    assert (
        rec["schema"] == 2 and rec["status"] == "passed" and rec["fingerprint"]["git_sha"] == "fake"
    )
    assert rec["settle_after_load"] is not None  # the run waited for the post-load scrape
    # the post checks got the client's numbers and the measured window
    post = next(c for c in fakes["checks"] if c[0] == "post")
    assert {"client", "window", "baseline_window", "traffic_ended"} <= set(post[2])


def test_a_failing_stage_saves_first_then_raises_and_tears_down(
    tmp_path: Path, fakes: dict[str, Any]
) -> None:
    fakes["fail_in"] = ("run", WorkloadError(["fake"], 2, "the tool said why"))
    bench = _bench(tmp_path)
    bench.stack_up()
    bench.pre_checks()
    bench.load()
    with pytest.raises(WorkloadError):
        bench.run()
    rd = RunDir(bench.rd.path)
    assert rd.status == "error" and "the tool said why" in (rd.record.error or "")
    assert ("run", "error") in _stage_names(rd)
    assert FakeControl.instances[0].downs == [True]  # forced: a kept stack goes too
    assert {v.name for v in rd.verdicts()} == set(bench.manifest.checks["pre"])  # kept
    assert fakes["rendered"] == 1
    with pytest.raises(Exception, match="already finished"):
        bench.post_checks()


def test_an_interrupted_stage_is_aborted(tmp_path: Path, fakes: dict[str, Any]) -> None:
    fakes["fail_in"] = ("load", KeyboardInterrupt("SIGTERM"))
    bench = _bench(tmp_path)
    bench.stack_up()
    with pytest.raises(KeyboardInterrupt):
        bench.load()
    rd = RunDir(bench.rd.path)
    assert rd.status == "aborted" and "SIGTERM" in (rd.record.error or "")
    assert ("load", "aborted") in _stage_names(rd)
    assert FakeControl.instances[0].downs == [True]


def test_a_kernel_going_away_mid_run_still_closes_the_record(
    tmp_path: Path, fakes: dict[str, Any]
) -> None:
    bench = _bench(tmp_path)
    bench.stack_up()
    bench._at_exit()  # what atexit calls when the interpreter exits with the run open
    rd = RunDir(bench.rd.path)
    assert rd.status == "error" and "exited before the run finished" in (rd.record.error or "")
    assert FakeControl.instances[0].downs == [True]
    bench._at_exit()  # a second call (finished) does nothing
    assert FakeControl.instances[0].downs == [True]


def test_a_handed_over_record_is_reopened_and_any_other_existing_id_refused(
    tmp_path: Path, fakes: dict[str, Any]
) -> None:
    RunDir.create(tmp_path, "given", "etcd", {"threads": 4}, handoff=True)
    bench = _bench(tmp_path, run_id="given")
    assert bench.rd.record.params == {"threads": 4}  # the supervisor's record, not a new one
    with pytest.raises(ConfigError, match="exists already"):
        _bench(tmp_path, run_id="given")  # taken: a second kernel may not reopen it
    RunDir.create(tmp_path, "plain", "etcd", {})
    with pytest.raises(ConfigError, match="exists already"):
        _bench(tmp_path, run_id="plain")


def test_every_stage_verdict_and_render_failure_is_a_progress_event(
    tmp_path: Path, fakes: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The conductor writes typed events (progress.jsonl) that the supervisor prints; a failed
    report rendering is a `warning` event, not a line left in a notebook's output."""

    def broken(rd: RunDir, warn: Any) -> None:
        warn("report rendering failed: OSError: [Errno 28] No space left on device")

    monkeypatch.setattr(conductor.finishing, "render", broken)
    bench = _bench(tmp_path)
    assert bench.execute() == "passed"
    events = RunDir(bench.rd.path).progress.events()
    kinds = [e.kind for e in events]
    assert kinds.count("stage_start") == kinds.count("stage_end") == len(conductor.STAGES)
    results = [e.text for e in events if e.kind == "result"]
    assert any("post" in t and "PASS" in t for t in results)
    (warning,) = [e for e in events if e.kind == "warning"]
    assert warning.text.startswith("report rendering failed: OSError")
