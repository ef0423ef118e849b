"""One way to wait for something: `wait_until(predicate, timeout, every, clock)`.

Every poll loop of the workbench (an engine that answers, a tool's first line, a stack healthy
again, a scrape past a window's end) goes through this function, so a deadline is measured one
way, a stop event is honoured one way, and tests run a wait on an instant clock instead of
sleeping. The predicate returns a value; the wait ends on the first truthy one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Waited(Generic[T]):
    """The outcome of a wait: the last value the predicate returned (truthy when `ok`), whether
    it came in time, how long the wait took on its clock, and how often the predicate ran."""

    ok: bool
    value: T | None
    waited_s: float
    polls: int
    stopped: bool = False  # ended by the stop event before the predicate held or time ran out

    def __bool__(self) -> bool:
        return self.ok


def wait_until(
    predicate: Callable[[], T],
    timeout: float,
    every: float = 0.1,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    stop: threading.Event | None = None,
) -> Waited[T]:
    """Call `predicate` until it returns a truthy value, `timeout` seconds pass on `clock`, or
    `stop` is set. It is called at least once (also with timeout 0) and once more at the
    deadline, so a wait never ends `not ok` without a look at the last moment. Exceptions of the
    predicate propagate: catch inside it what counts as "not yet". With a stop event the pause
    between polls is the event's own wait, so setting it ends the wait at once."""
    if timeout < 0 or every <= 0:
        raise ValueError(f"wait_until: timeout {timeout} must be >= 0 and every {every} > 0")
    start = clock()
    deadline = start + timeout
    polls = 0
    while True:
        value = predicate()
        polls += 1
        now = clock()
        if value:
            return Waited(True, value, now - start, polls)
        if stop is not None and stop.is_set():
            return Waited(False, value, now - start, polls, stopped=True)
        if now >= deadline:
            return Waited(False, value, now - start, polls)
        pause = min(every, deadline - now)
        if stop is not None:
            if stop.wait(pause):
                return Waited(False, value, clock() - start, polls, stopped=True)
        else:
            sleep(pause)
