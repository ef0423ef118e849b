"""wait_until: the one poll loop, on an injected clock (no real sleeping)."""

from __future__ import annotations

import threading

import pytest

from workbench.waiting import wait_until


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s


def test_returns_the_first_truthy_value_with_its_wait() -> None:
    clock = Clock()
    values = iter([None, 0, "", "up"])
    got = wait_until(lambda: next(values), timeout=5, every=0.5, clock=clock, sleep=clock.sleep)
    assert got.ok and got.value == "up"
    assert got.polls == 4
    assert got.waited_s == pytest.approx(1.5)
    assert clock.sleeps == [0.5, 0.5, 0.5]


def test_times_out_after_a_last_look_at_the_deadline() -> None:
    clock = Clock()
    seen: list[float] = []

    def never() -> bool:
        seen.append(clock.now)
        return False

    got = wait_until(never, timeout=1.0, every=0.4, clock=clock, sleep=clock.sleep)
    assert not got and not got.stopped
    # polls at 0, 0.4, 0.8 and at the deadline itself (the last pause is cut to fit)
    assert [round(t - 100.0, 6) for t in seen] == [0.0, 0.4, 0.8, 1.0]
    assert got.waited_s == pytest.approx(1.0)


def test_zero_timeout_still_looks_once() -> None:
    clock = Clock()
    assert wait_until(lambda: True, timeout=0, clock=clock, sleep=clock.sleep).ok
    got = wait_until(lambda: False, timeout=0, clock=clock, sleep=clock.sleep)
    assert not got.ok and got.polls == 1 and clock.sleeps == []


def test_a_set_stop_event_ends_the_wait_at_once() -> None:
    stop = threading.Event()
    stop.set()
    got = wait_until(lambda: False, timeout=3600, every=60, stop=stop)
    assert not got.ok and got.stopped and got.polls == 1


def test_stop_set_from_another_thread_interrupts_the_pause() -> None:
    stop = threading.Event()
    threading.Timer(0.05, stop.set).start()
    got = wait_until(lambda: False, timeout=3600, every=30, stop=stop)
    assert got.stopped and got.waited_s < 5


def test_predicate_errors_propagate_and_bad_arguments_are_refused() -> None:
    def boom() -> bool:
        raise RuntimeError("broken")

    with pytest.raises(RuntimeError, match="broken"):
        wait_until(boom, timeout=1)
    with pytest.raises(ValueError, match="every"):
        wait_until(lambda: True, timeout=1, every=0)
    with pytest.raises(ValueError, match="timeout"):
        wait_until(lambda: True, timeout=-1)
