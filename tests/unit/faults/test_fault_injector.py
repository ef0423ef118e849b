"""The injector with fake actions and a fake clock: timing, records, undo on every way out."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from workbench.faults.actions import Applied
from workbench.faults.injector import Injector, compose_lookup, windows
from workbench.faults.recovery import FaultWindow
from workbench.faults.schedule import build_schedule
from workbench.faults.targets import FaultsConfig, Resolution

CONFIG = FaultsConfig.from_table(
    {
        "targets": ["etcd0", "etcd1", "etcd2"],
        "leader": {"kind": "etcd", "members": {f"etcd{i}": f"http://e{i}" for i in range(3)}},
    }
)
ALL = dict.fromkeys(["kill", "stop", "restart", "pause", "partition", "loss", "bandwidth", "delay"])


class Clock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.t

    def wait(self, s: float) -> bool:
        self.waits.append(s)
        self.t += s
        return False


class Resolver:
    seed = 5

    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping

    def resolve(self, target: str) -> Resolution:
        return Resolution(
            self.mapping.get(target, target), "leader" if target == "leader" else "service", {}
        )


class Actions:
    def __init__(
        self, clock: Clock, fail_on: str | None = None, interrupt_on: str | None = None
    ) -> None:
        self.clock, self.fail_on, self.interrupt_on = clock, fail_on, interrupt_on
        self.log: list[tuple[float, str, str]] = []

    def __call__(self, action: str, container: str, arg: str | None) -> Applied:
        if action == self.fail_on:
            raise RuntimeError("docker said no")
        if action == self.interrupt_on:
            raise KeyboardInterrupt
        self.log.append((self.clock(), action, container))

        def undo() -> None:
            self.log.append((self.clock(), "undo-" + action, container))

        return Applied(undo, took_effect=True, evidence={"fake": True})


def _injector(
    texts: list[str], clock: Clock, actions: Actions, wait: Callable[[float], bool] | None = None
) -> Injector:
    sched = build_schedule(texts, config=CONFIG, supported=ALL, run_duration_s=60)
    return Injector(
        sched,
        resolver=Resolver({"leader": "etcd1"}),
        lookup=lambda s: f"c-{s}",
        apply=actions,
        clock=clock,
        wait=wait or clock.wait,
    )


def test_schedule_runs_on_time_and_records() -> None:
    clock = Clock()
    acts = Actions(clock)
    inj = _injector(["kill:etcd0@10+5", "pause:etcd2@12+3"], clock, acts)
    recs = inj.run(1000.0)
    assert acts.log == [
        (1010.0, "kill", "c-etcd0"),
        (1012.0, "pause", "c-etcd2"),
        (1015.0, "undo-kill", "c-etcd0"),
        (1015.0, "undo-pause", "c-etcd2"),
    ]
    assert [(r.start, r.end, r.service, r.took_effect, r.undone) for r in recs] == [
        (1010.0, 1015.0, "etcd0", True, True),
        (1012.0, 1015.0, "etcd2", True, True),
    ]
    assert windows(recs, 1000.0) == [
        FaultWindow(10.0, 15.0, "kill:etcd0"),
        FaultWindow(12.0, 15.0, "pause:etcd2"),
    ]
    assert recs[0].model_dump(mode="json")["spec"]["text"] == "kill:etcd0@10+5"


def test_busy_container_is_not_hit_twice() -> None:
    clock = Clock()
    acts = Actions(clock)
    recs = _injector(["kill:leader@10+5", "pause:etcd1@12+1"], clock, acts).run(1000.0)
    assert recs[1].error is not None and "already has kill:leader in force" in recs[1].error
    assert [a for _, a, _ in acts.log] == ["kill", "undo-kill"]


def test_a_failing_action_is_recorded_and_the_schedule_goes_on() -> None:
    clock = Clock()
    acts = Actions(clock, fail_on="pause")
    recs = _injector(["pause:etcd0@1+1", "kill:etcd1@3+1"], clock, acts).run(clock.t)
    assert recs[0].error is not None and "docker said no" in recs[0].error and not recs[0].undone
    assert recs[1].undone and recs[1].error is None


def test_undo_on_keyboard_interrupt_mid_fault() -> None:
    clock = Clock()
    acts = Actions(clock)

    def wait(s: float) -> bool:
        if any(a == "kill" for _, a, _ in acts.log):
            raise KeyboardInterrupt
        return clock.wait(s)

    inj = _injector(["kill:etcd0@10+5", "pause:etcd2@20+3"], clock, acts, wait)
    with pytest.raises(KeyboardInterrupt):
        inj.run(clock.t)
    assert [a for _, a, _ in acts.log] == ["kill", "undo-kill"]
    assert inj.records[0].undone and inj.active() == []


def test_interrupt_inside_an_action_still_undoes_the_others() -> None:
    clock = Clock()
    acts = Actions(clock, interrupt_on="pause")
    inj = _injector(["kill:etcd0@1+10", "pause:etcd2@2+3"], clock, acts)
    with pytest.raises(KeyboardInterrupt):
        inj.run(clock.t)
    assert [a for _, a, _ in acts.log] == ["kill", "undo-kill"]


def test_close_stops_the_thread_and_undoes() -> None:
    acts = Actions(Clock())
    sched = build_schedule(["kill:etcd0@0+30"], config=CONFIG, supported=ALL, run_duration_s=60)
    inj = Injector(sched, resolver=Resolver({}), lookup=lambda s: s, apply=acts)
    inj.start(time.time())
    deadline = time.time() + 5
    while not acts.log and time.time() < deadline:
        time.sleep(0.01)
    t = time.time()
    recs = inj.close()
    assert time.time() - t < 2
    assert [a for _, a, _ in acts.log] == ["kill", "undo-kill"] and recs[0].undone


def test_an_undo_that_fails_once_is_retried() -> None:
    clock = Clock()
    calls: list[str] = []

    def apply(action: str, container: str, arg: str | None) -> Applied:
        def undo() -> None:
            calls.append("undo")
            if len(calls) == 1:
                raise RuntimeError("engine busy")

        return Applied(undo, True)

    sched = build_schedule(["kill:etcd0@1+1"], config=CONFIG, supported=ALL, run_duration_s=60)
    recs = Injector(
        sched, resolver=Resolver({}), lookup=str, apply=apply, clock=clock, wait=clock.wait
    ).run(clock.t)
    assert calls == ["undo", "undo"] and recs[0].undone and recs[0].undo_error is None


def test_compose_lookup_argv() -> None:
    seen: list[list[str]] = []

    def run(argv: object) -> str:
        seen.append(list(argv))  # type: ignore[call-overload]
        return "wb-etcd-x-etcd1-1\n"

    assert compose_lookup("wb-etcd-x", run)("etcd1") == "wb-etcd-x-etcd1-1"
    assert "label=com.docker.compose.service=etcd1" in seen[0] and seen[0][:3] == [
        "docker",
        "ps",
        "-a",
    ]


def test_a_persistent_fault_stays_until_close() -> None:
    clock = Clock()
    acts = Actions(clock)
    stops: list[float] = []

    def wait(s: float) -> bool:  # the schedule waits for close() once every event ran
        if s >= 3600:
            stops.append(clock.t)
            return True  # close() was called
        return clock.wait(s)

    inj = _injector(["kill:etcd0@10", "pause:etcd2@12+3"], clock, acts, wait)
    recs = inj.run(1000.0)
    assert acts.log == [
        (1010.0, "kill", "c-etcd0"),
        (1012.0, "pause", "c-etcd2"),
        (1015.0, "undo-pause", "c-etcd2"),
        (1015.0, "undo-kill", "c-etcd0"),  # on the way out, not at its (run-long) window's end
    ]
    assert stops == [1015.0]  # it waited for close with the kill in force
    assert recs[0].spec.persistent and recs[0].scheduled_end == 1060.0 and recs[0].undone


def test_a_fault_slow_to_apply_stays_in_force_its_whole_duration() -> None:
    """A `docker pause` that took 3 s to freeze its member (measured) must not be undone 0.08 s
    after it took hold because its schedule's end had passed meanwhile."""
    clock = Clock()
    acts = Actions(clock)

    def slow(action: str, container: str, arg: str | None) -> Applied:
        clock.t += 3.0 if action == "pause" else 0.0  # the engine takes 3 s to freeze it
        return acts(action, container, arg)

    sched = build_schedule(["pause:etcd2@25+3"], config=CONFIG, supported=ALL, run_duration_s=60)
    inj = Injector(sched, resolver=Resolver({}), lookup=lambda s: f"c-{s}", apply=slow,
                   clock=clock, wait=clock.wait)  # fmt: skip
    (rec,) = inj.run(1000.0)
    assert (rec.start, rec.applied) == (1025.0, 1028.0)
    assert rec.end == pytest.approx(1031.0)  # in force 3 s from when it applied, not 0 s
    assert acts.log[-1] == (1031.0, "undo-pause", "c-etcd2")
