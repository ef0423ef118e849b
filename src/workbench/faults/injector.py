"""Runs a schedule beside the workload and records every fault; every undo runs in `finally`.

    inj = Injector(schedule, resolver=TargetResolver(...), lookup=compose_lookup(project))
    inj.start(t0)            # t0: the run phase's start (unix s); a daemon thread injects
    try:
        ...                  # the workload
    finally:
        records = inj.close()    # stops the thread, undoes whatever is still in force

A persistent fault (no +DURATION) is not undone by the schedule: only on the way out (close,
the end of `run`, an error), so an operator under test has something to fix.
Targets are resolved at the moment of injection; a fault whose container already has a fault in
force is not applied (recorded with the reason), so two undos never fight over one container.
A fault that fails to resolve or apply is recorded with its error and the schedule goes on.
`sweep()` repairs what a dead process left behind (paused, stopped, rules, qdiscs) and
`leftovers()` lists it. What lives elsewhere: the actions (actions.py), the target names
(targets.py), the record's type (outcome.py), the file it lands in (workbench.artifacts.faults).
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from workbench import proc
from workbench.docker import cli as docker
from workbench.errors import WorkbenchError
from workbench.faults.actions import ACTIONS, RULE_COMMENT, Applied, Host
from workbench.faults.outcome import FaultRecord
from workbench.faults.recovery import FaultWindow
from workbench.faults.schedule import Schedule
from workbench.faults.targets import Resolution

Apply = Callable[[str, str, str | None], Applied]  # (action, container, arg) -> Applied


class Resolver(Protocol):
    seed: int

    def resolve(self, target: str) -> Resolution: ...


def windows(records: Iterable[FaultRecord], t0: float) -> list[FaultWindow]:
    """The faults that were applied, as recovery windows relative to t0 (the run's start); one
    whose action failed (start set, applied not) is no window: it would cut the one before."""
    out = []
    for r in records:
        if r.start is not None and r.applied is not None:
            end = r.end if r.end is not None else r.scheduled_end
            out.append(FaultWindow(r.start - t0, max(end, r.start) - t0, r.label))
    return out


def host_apply(host: Host | None = None) -> Apply:
    """The real actions through the docker CLI / nsenter."""
    h = host or Host()

    def apply(action: str, container: str, arg: str | None) -> Applied:
        return ACTIONS[action].apply(h, container, arg)

    return apply


def compose_lookup(
    project: str, run: Callable[[Sequence[str]], str] | None = None
) -> Callable[[str], str]:
    """service -> container name of a compose project, from the compose labels."""
    runner = run or (lambda argv: proc.run(argv, timeout=20).stdout)

    def lookup(service: str) -> str:
        out = runner(
            docker.ps(
                labels=docker.compose_labels(project, service, oneoff=False), fmt="{{.Names}}"
            )
        )
        names = out.split()
        if len(names) != 1:
            raise WorkbenchError(f"service {service!r} of {project}: containers {names}")
        return names[0]

    return lookup


class Injector:
    def __init__(
        self,
        schedule: Schedule,
        *,
        resolver: Resolver,
        lookup: Callable[[str], str],
        apply: Apply | None = None,
        clock: Callable[[], float] = time.time,
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        self.schedule = schedule
        self.resolver = resolver
        self.lookup = lookup
        self.apply = apply or host_apply()
        self.clock = clock
        self._stop = threading.Event()
        self.wait = wait or self._stop.wait  # True: stop requested
        self.records: list[FaultRecord] = []
        self._active: dict[int, Applied] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.t0: float | None = None

    # --- running ------------------------------------------------------------------------------

    def start(self, t0: float) -> None:
        """Inject in a daemon thread, times relative to t0 (the run phase's start, unix s)."""
        self._thread = threading.Thread(target=self.run, args=(t0,), name="faults", daemon=True)
        self._thread.start()

    def run(self, t0: float) -> list[FaultRecord]:
        """The whole schedule in this thread; whatever is in force is undone on the way out."""
        self.t0 = t0
        self.records = [
            FaultRecord(
                index=i,
                spec=f,
                label=f.label,
                scheduled_start=t0 + f.start_s,
                scheduled_end=t0 + f.end_s,
            )
            for i, f in enumerate(self.schedule.faults)
        ]
        events = sorted(
            [(r.scheduled_start, 1, r.index) for r in self.records]
            + [(r.scheduled_end, 0, r.index) for r in self.records if not r.spec.persistent]
        )  # at one instant, undo before the next apply; a persistent fault is undone on the way out
        try:
            for at, is_apply, i in events:
                if not is_apply:  # a fault is in force its whole duration from when it applied
                    at = max(at, self._applied_end(self.records[i]))
                if self._sleep_until(at):
                    break
                if is_apply:
                    self._inject(self.records[i])
                else:
                    self._undo(i)
            else:  # the schedule ran its course; persistent faults stay until close()
                while self._persistent_in_force() and not self._stop.is_set():
                    if self.wait(3600.0):
                        break
        finally:
            self.undo_all()
        return self.records

    def _applied_end(self, rec: FaultRecord) -> float:
        """When a fault whose action took long to apply (a `docker pause` of 3 s was measured)
        has been in force for its duration: its undo waits for that, not only its schedule."""
        if rec.applied is None or rec.start is None:
            return rec.scheduled_end
        return rec.applied + (rec.scheduled_end - rec.scheduled_start)

    def _persistent_in_force(self) -> bool:
        return any(self.records[i].spec.persistent for i in self._active)

    def _sleep_until(self, at: float) -> bool:
        while True:
            left = at - self.clock()
            if left <= 0:
                return self._stop.is_set()
            if self.wait(left):
                return True

    def _inject(self, rec: FaultRecord) -> None:
        try:
            res = self.resolver.resolve(rec.spec.target)
            rec.service, rec.resolved_by, rec.resolution = res.service, res.how, res.evidence
            rec.container = self.lookup(res.service)
            with self._lock:
                busy = [
                    self.records[j].label
                    for j in self._active
                    if self.records[j].container == rec.container
                ]
                if busy:
                    rec.error = f"not applied: {rec.container} already has {busy[0]} in force"
                    return
                rec.start = self.clock()
                applied = self.apply(rec.spec.action, rec.container, rec.spec.arg)
                rec.applied = self.clock()
                self._active[rec.index] = applied
            rec.took_effect, rec.evidence = applied.took_effect, applied.evidence
        except Exception as exc:
            rec.error = _describe(exc)

    def _undo(self, i: int) -> None:
        with self._lock:
            applied = self._active.get(i)
            if applied is None:
                return
            rec = self.records[i]
            try:
                applied.undo()
                rec.undone, rec.undo_error = True, None
                del self._active[i]
            except Exception as exc:
                rec.undo_error = _describe(exc)
            finally:
                rec.end = self.clock()

    def undo_all(self) -> None:
        """Undo everything in force (each tried even when another fails), twice at most."""
        for _ in range(2):
            for i in sorted(self._active):
                self._undo(i)
            if not self._active:
                return

    def close(self, timeout_s: float = 30.0) -> list[FaultRecord]:
        """Stop the schedule and undo whatever is in force; returns the records."""
        self._stop.set()
        try:
            if self._thread is not None:
                self._thread.join(timeout_s)
        finally:
            self.undo_all()
        return self.records

    def done(self) -> bool:
        """The schedule ran its course: the thread went through every event, nothing in force."""
        return self._thread is not None and not self._thread.is_alive() and not self._active

    def active(self) -> list[str]:
        return [self.records[i].label for i in sorted(self._active)]


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return (
        text
        if isinstance(exc, WorkbenchError)
        else f"{type(exc).__name__}: {text}\n{traceback.format_exc(limit=3)}"
    )


# --- after a dead process ---------------------------------------------------------------------


def leftovers(containers: Iterable[str], host: Host | None = None) -> list[str]:
    """What faults left on these containers: paused, not running, wb-fault rules, root qdiscs."""
    h = host or Host()
    found = []
    for c in containers:
        st = h.state(c)
        if st.get("Paused"):
            found.append(f"{c}: paused")
        if not st.get("Running"):
            found.append(f"{c}: {st.get('Status')}")
            continue
        rules = [x for x in h.netns(c, ["iptables", "-w", "-S"]).splitlines() if RULE_COMMENT in x]
        found += [f"{c}: rule {x}" for x in rules]
        qdisc = h.netns(c, ["tc", "qdisc", "show", "dev", h.device(c)])
        if any(k in qdisc for k in ("tbf", "netem")):
            found.append(f"{c}: qdisc {qdisc.strip()}")
    return found


def sweep(containers: Iterable[str], host: Host | None = None) -> list[str]:
    """Undo what a dead injector left: unpause, start, delete wb-fault rules and root qdiscs."""
    h = host or Host()
    done = []
    for c in containers:
        st = h.state(c)
        if st.get("Paused"):
            h.run(docker.unpause(c))
            done.append(f"{c}: unpaused")
        elif not st.get("Running"):
            h.run(docker.start(c))
            done.append(f"{c}: started")
        for line in h.netns(c, ["iptables", "-w", "-S"]).splitlines():
            if RULE_COMMENT in line and line.startswith("-A "):
                h.netns(c, ["iptables", "-w", "-D", *line.split()[1:]])
                done.append(f"{c}: deleted {line}")
        dev = h.device(c)
        if any(k in h.netns(c, ["tc", "qdisc", "show", "dev", dev]) for k in ("tbf", "netem")):
            h.netns(c, ["tc", "qdisc", "del", "dev", dev, "root"])
            done.append(f"{c}: qdisc removed")
    return done
