"""The fault schedule: `ACTION[:ARG]:TARGET@START[+DURATION]`, repeated, validated in one error.

    kill:leader@10+5        SIGKILL the etcd leader 10 s into the run phase, start it 5 s later
    pause:follower@25+3     freeze a follower for 3 s
    kill:follower@15        persistent: not undone during the run (an operator has to fix it);
                            still undone when the run ends, always
    loss:20:etcd2@5+3       drop 20 % of what etcd2 sends, from 5 s to 8 s
    bandwidth:1mbit:tikv0@30+10
    restart:pd-leader@12    an instant action: the duration (default 0) is only a window to observe

Times are seconds from the start of the run phase (its t=0). `repeat(faults, n, every)` injects
each fault n times, the i-th one `i * every` seconds after the first. `build_schedule` checks
everything before anything starts and lists every problem at once (ParameterError): unknown
action or bad argument, a target the manifest does not allow, a fault outside the run phase, two
faults overlapping on one target name, an action this host cannot do. What lives elsewhere:
running it (injector.py), the actions (actions.py), target names (targets.py).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from workbench.errors import ParameterError
from workbench.faults.actions import ACTIONS
from workbench.faults.targets import FaultsConfig

_TIME_RE = re.compile(r"^(?P<start>[0-9]+(?:\.[0-9]+)?)(?:\+(?P<dur>[0-9]+(?:\.[0-9]+)?))?$")


class FaultSpec(BaseModel):
    """One scheduled fault (times relative to the run phase's t=0)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    action: str
    arg: str | None = None
    target: str
    start_s: float = Field(ge=0)
    duration_s: float = Field(ge=0)
    text: str  # as written, for messages
    repeat_index: int = 0
    # no +DURATION on an action that has an undo: the workbench leaves it in force until the run
    # ends (the window reaches the run phase's end when it is time-bounded)
    persistent: bool = False

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s

    @property
    def label(self) -> str:
        """`action:target` (with the argument: `loss:20:etcd2`), for plots and tables."""
        head = f"{self.action}:{self.arg}" if self.arg is not None else self.action
        return f"{head}:{self.target}"


class Schedule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    faults: list[FaultSpec] = Field(default_factory=list)
    repeat: int = 1
    every_s: float | None = None

    def __bool__(self) -> bool:
        return bool(self.faults)


def parse_fault(text: str) -> FaultSpec:
    """Parse one `ACTION[:ARG]:TARGET@START[+DURATION]`; ValueError says what is wrong."""
    head, at, when = text.strip().rpartition("@")
    if not at or not head:
        raise ValueError(f"{text!r}: expected ACTION[:ARG]:TARGET@START+DURATION")
    m = _TIME_RE.match(when)
    if not m:
        raise ValueError(f"{text!r}: time {when!r} is not START+DURATION in seconds (10+5)")
    parts = head.split(":")
    name = parts[0]
    if name not in ACTIONS:
        raise ValueError(f"{text!r}: unknown action {name!r}; valid: {', '.join(ACTIONS)}")
    spec = ACTIONS[name]
    want = 3 if spec.parse_arg else 2
    if len(parts) != want or not all(parts):
        form = f"{name}:ARG:TARGET" if spec.parse_arg else f"{name}:TARGET"
        raise ValueError(f"{text!r}: expected {form}@START+DURATION")
    arg = None
    if spec.parse_arg:
        spec.parse_arg(parts[1])  # raises ValueError with the argument's form
        arg = parts[1]
    persistent = m["dur"] is None and not spec.instant
    duration = float(m["dur"] or 0)
    if duration <= 0 and not spec.instant and not persistent:
        raise ValueError(f"{text!r}: {name} needs a duration > 0")
    return FaultSpec(
        action=name,
        arg=arg,
        target=parts[-1],
        start_s=float(m["start"]),
        duration_s=duration,
        text=text.strip(),
        persistent=persistent,
    )


def repeat(faults: Sequence[FaultSpec], n: int, every_s: float | None) -> list[FaultSpec]:
    """Each fault n times, `every_s` apart; sorted by start time."""
    out = []
    for f in faults:
        for i in range(n):
            shift = i * (every_s or 0.0)
            out.append(f.model_copy(update={"start_s": f.start_s + shift, "repeat_index": i}))
    return sorted(out, key=lambda f: (f.start_s, f.target))


def _repeat_problems(n: int, every_s: float | None) -> list[str]:
    problems = []
    if n < 1:
        problems.append(f"fault_repeat must be >= 1, got {n}")
    if n > 1 and (every_s is None or every_s <= 0):
        problems.append("fault_repeat > 1 needs fault_every > 0 (seconds between repeats)")
    return problems


def overlaps(faults: Sequence[FaultSpec]) -> list[str]:
    """Two faults on one target name whose windows [start, end] intersect."""
    problems = []
    by_target: dict[str, list[FaultSpec]] = {}
    for f in faults:
        by_target.setdefault(f.target, []).append(f)
    for target, fs in sorted(by_target.items()):
        fs = sorted(fs, key=lambda f: f.start_s)
        for a, b in itertools.pairwise(fs):
            a_end = float("inf") if a.persistent and a.duration_s == 0 else a.end_s
            if b.start_s < a_end or b.start_s == a.start_s:
                problems.append(
                    f"faults overlap on {target}: {a.text} (#{a.repeat_index + 1}, "
                    f"{a.start_s:g}-{a.end_s:g} s) and {b.text} (#{b.repeat_index + 1}, "
                    f"{b.start_s:g}-{b.end_s:g} s)"
                )
    return problems


def build_schedule(
    texts: Sequence[str],
    *,
    config: FaultsConfig,
    supported: Mapping[str, str | None],
    run_duration_s: float | None,
    repeat_n: int = 1,
    every_s: float | None = None,
) -> Schedule:
    """Parse, repeat and validate; raise ParameterError listing every problem.

    supported: actions.supported_actions() (action -> None or why not). run_duration_s: the run
    phase's length when it is time-bounded (None: only starts >= 0 are checked).
    """
    problems = _repeat_problems(repeat_n, every_s)
    parsed: list[FaultSpec] = []
    for text in texts:
        try:
            parsed.append(parse_fault(text))
        except ValueError as exc:
            problems.append(f"fault {exc}")
    allowed = config.allowed()
    for f in parsed:
        if f.target not in allowed:
            valid = ", ".join(allowed) or "none: the subject's manifest has no [faults] targets"
            problems.append(f"fault {f.text!r}: target {f.target!r} not allowed; valid: {valid}")
        why = supported.get(f.action, "unknown to this host")
        if why is not None:
            problems.append(f"fault {f.text!r}: {f.action} not supported on this host: {why}")
    n = repeat_n if repeat_n >= 1 and (repeat_n == 1 or (every_s or 0) > 0) else 1
    faults = repeat(parsed, n, every_s)
    if run_duration_s is not None:  # a persistent fault's window reaches the run phase's end
        faults = [
            f.model_copy(update={"duration_s": max(0.0, run_duration_s - f.start_s)})
            if f.persistent
            else f
            for f in faults
        ]
        for f in faults:
            if f.end_s > run_duration_s:
                problems.append(
                    f"fault {f.text!r} (#{f.repeat_index + 1}) ends at {f.end_s:g} s, after the "
                    f"run phase ({run_duration_s:g} s)"
                )
    problems += overlaps(faults)
    if problems:
        raise ParameterError(problems)
    return Schedule(faults=faults, repeat=repeat_n, every_s=every_s)
