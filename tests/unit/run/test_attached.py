"""Runs attached to a held stack: health re-checked, the load done once per load, a failed run
recorded and returned, Ctrl-C raised, the held stack taken down on leaving. No processes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from workbench.artifacts import RunDir
from workbench.errors import UnhealthyStackError, WorkloadError
from workbench.manifest import load_manifest
from workbench.params import validate_run
from workbench.run import attached, stackctl
from workbench.stack import Stack


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        self.t += 0.25  # every look costs a poll period: the wait ends on its own
        return self.t


def _stack(health: list[dict[str, str]]) -> Stack:
    st = Stack(load_manifest("etcd"), project="wb-etcd-test", ports={}, owned=False)
    st.clock = FakeClock()
    seq = iter(health)
    last: dict[str, dict[str, str]] = {"h": {}}

    def services_health() -> dict[str, str]:
        last["h"] = next(seq, last["h"])
        return last["h"]

    st.services_health = services_health  # type: ignore[method-assign]
    st._wait_ready = lambda deadline: None  # type: ignore[method-assign]
    st._log_tail = lambda s, lines=20: f"log of {s}"  # type: ignore[method-assign]
    return st


def test_recheck_waits_until_every_healthy_service_is_healthy() -> None:
    m = load_manifest("etcd")
    starting = dict.fromkeys(m.healthy_services, "starting")
    healthy = dict.fromkeys(m.healthy_services, "healthy")
    st = _stack([starting, starting, healthy])
    assert st.recheck(10.0) > 0


def test_recheck_names_the_unhealthy_service_with_its_log() -> None:
    m = load_manifest("etcd")
    one = m.healthy_services[0]
    bad = {**dict.fromkeys(m.healthy_services, "healthy"), one: "unhealthy"}
    st = _stack([bad])
    with pytest.raises(UnhealthyStackError) as exc:
        st.recheck(2.0)
    assert list(exc.value.unhealthy) == [one]
    assert "unhealthy" in str(exc.value) and f"log of {one}" in str(exc.value)


def test_an_attached_run_rechecks_health_and_never_tears_the_stack_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = load_manifest("etcd")
    healthy = dict.fromkeys(m.healthy_services, "healthy")
    st = _stack([healthy])
    exits: list[Any] = []
    st.__exit__ = lambda *a: exits.append(a)  # type: ignore[method-assign,assignment]
    st.capture_logs = lambda dest=None: []  # type: ignore[method-assign]
    monkeypatch.setattr(stackctl.Stack, "attach", classmethod(lambda cls, *a, **kw: st))
    rd = RunDir.create(tmp_path, "r1", "etcd", {})
    lines: list[str] = []
    ctl = stackctl.StackControl(m, rd, lines.append, project="wb-etcd-test")
    assert ctl.open() is st
    assert rd.record.attached and any("re-checked" in ln for ln in lines)
    ctl.down(force=True)  # as on a failed run
    assert exits == [] and ctl.stack is None


class FakeBench:
    """Stands in for the conductor: records the phases it was given, fails when asked."""

    made: list[FakeBench] = []  # noqa: RUF012 - a test registry
    fail: BaseException | None = None

    def __init__(self, params: Any, *, project: str, progress: Any) -> None:
        self.params, self.project = params, project
        self.done: list[str] = []
        self.closed = False
        self.run_dir = Path(params.results_dir) / params.run_id
        FakeBench.made.append(self)

    def execute(self) -> str:
        self.closed = True
        if FakeBench.fail is not None:
            raise FakeBench.fail
        self.done = list(self.params.phase_list)
        return "passed"


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> attached.HeldStack:
    FakeBench.made.clear()
    FakeBench.fail = None
    monkeypatch.setattr(attached, "Benchmark", FakeBench)
    h = attached.HeldStack(load_manifest("etcd"))
    h.stack = Stack(load_manifest("etcd"), project="wb-etcd-held", ports={}, owned=False)
    return h


def _values(**kw: Any) -> dict[str, Any]:
    return validate_run({"subject": "etcd", "duration": 2, **kw}).to_dict()


def test_the_load_is_done_once_per_load(held: attached.HeldStack, tmp_path: Path) -> None:
    for i, threads in enumerate((2, 4, 2)):
        assert held.execute(_values(threads=threads), f"r{i}", tmp_path) == tmp_path / f"r{i}"
    held.execute(_values(recordcount=500), "r3", tmp_path)  # another load: loaded again
    phases = [b.params.phases for b in FakeBench.made]
    assert phases == ["load,run", "run", "run", "load,run"]
    assert {b.project for b in FakeBench.made} == {"wb-etcd-held"} and held.runs == 4


def test_a_failed_load_is_loaded_again_and_the_run_returned(
    held: attached.HeldStack, tmp_path: Path
) -> None:
    FakeBench.fail = WorkloadError(["ycsb", "load"], 1, "refused")
    assert held.execute(_values(), "r0", tmp_path) == tmp_path / "r0"  # recorded, not raised
    FakeBench.fail = None
    held.execute(_values(), "r1", tmp_path)
    assert [b.params.phases for b in FakeBench.made] == ["load,run", "load,run"]


def test_ctrl_c_is_raised_for_the_campaign(held: attached.HeldStack, tmp_path: Path) -> None:
    FakeBench.fail = KeyboardInterrupt()
    with pytest.raises(KeyboardInterrupt):
        held.execute(_values(), "r0", tmp_path)


def test_leaving_the_block_takes_the_held_stack_down(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    events: list[str] = []
    monkeypatch.setattr(attached.Stack, "__enter__", lambda self: events.append("up") or self)
    monkeypatch.setattr(attached.Stack, "__exit__", lambda self, *a: events.append("down"))
    with pytest.raises(KeyboardInterrupt), attached.HeldStack(load_manifest("etcd"), tmp_path):
        assert events == ["up"]
        raise KeyboardInterrupt
    assert events == ["up", "down"]
