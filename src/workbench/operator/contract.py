"""What the operator under test gives the workbench, as types: its own word, what the engine saw
it do, and the cluster's membership over the run (pure: no I/O but the bounded events read).

- The operator's word: JSON lines appended to the file named by `WB_EVENTS`:
      {"ts": 1796293051.2 | "2026-12-03T11:40:15Z", "kind": "detect", "target": "etcd1",
       "text": "etcd1 does not answer /health"}
  `kind` is detect | diagnose | act | resolved | note; an unknown kind is kept. `parse_events`
  counts malformed lines, timestamps outside the run and an oversized file; nothing is fatal.
- `ContainerEvent`: one lifecycle event of a stack container (from workbench.docker's typed
  Event) attributed to the fault injector (its own action on that container, within a small
  tolerance of when it ran it), to the operator (anything else it could have done), or to the
  container itself (a `die`/`oom` nobody's kill or stop explains). `attribute` does it.
- `MembershipSample`: one member at one time, as the cluster's API told it.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from workbench.docker.events import Event
from workbench.faults.outcome import FaultRecord

KINDS = ("detect", "diagnose", "act", "resolved", "note")
MAX_EVENTS_BYTES = 4 * 1024 * 1024  # an events file is read up to this; the rest is counted
MAX_PROBLEMS = 20  # problems kept verbatim (the rest only counted)
RUN_SLACK_S = 5.0  # a timestamp this far outside the run is still in it (clock skew)
ATTRIBUTION_TOLERANCE_S = 1.0

# The engine's lifecycle verbs (exec_*, health_status and the like are nobody's action).
LIFECYCLE = frozenset(
    {"create", "start", "restart", "pause", "unpause", "stop", "kill", "die", "oom", "destroy"}
)
# What each fault action makes the engine report (each verb at most this many times: `docker
# stop` sends SIGTERM then SIGKILL after its grace), and what its undo does (once).
INJECTOR_ACTIONS: dict[str, dict[str, int]] = {
    "kill": {"kill": 1, "die": 1},
    "stop": {"kill": 2, "die": 1, "stop": 1},
    "restart": {"kill": 2, "die": 1, "stop": 1, "start": 1, "restart": 1},
    "pause": {"pause": 1},
}
UNDO_ACTIONS: dict[str, frozenset[str]] = {
    "kill": frozenset({"start", "unpause"}),
    "stop": frozenset({"start", "unpause"}),
    "restart": frozenset({"start", "unpause"}),
    "pause": frozenset({"unpause"}),
}
FOLLOWS = frozenset({"die", "oom"})  # consequences: they belong to whoever caused them


class OperatorEvent(BaseModel):
    """One line of the operator's events file (`ts` in unix seconds, `line` 1-based)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    ts: float
    kind: str
    target: str | None = None
    text: str = ""
    line: int = 0

    @property
    def known(self) -> bool:
        return self.kind in KINDS


class EventsRead(BaseModel):
    """The operator's events as read: the good ones (in file order) and what was wrong."""

    model_config = ConfigDict(extra="forbid")
    events: list[OperatorEvent] = Field(default_factory=list)
    lines: int = 0
    malformed: int = 0
    out_of_range: int = 0
    oversized: bool = False
    bytes_read: int = 0
    bytes_total: int = 0
    unknown_kinds: dict[str, int] = Field(default_factory=dict)
    problems: list[str] = Field(default_factory=list)  # the first MAX_PROBLEMS, with line numbers
    missing: bool = False  # no events file at all

    def of_kind(self, kind: str) -> list[OperatorEvent]:
        return [e for e in self.events if e.kind == kind]


def parse_ts(value: object) -> float:
    """Epoch seconds (a number) or an RFC 3339 string with an offset → unix seconds."""
    if isinstance(value, bool):
        raise ValueError("ts is a boolean")
    if isinstance(value, int | float):
        if not math.isfinite(float(value)):
            raise ValueError("ts is not finite")
        return float(value)
    if isinstance(value, str):
        dt = datetime.fromisoformat(value.strip())
        if dt.tzinfo is None:
            raise ValueError(f"ts {value!r} has no offset (RFC 3339 needs one)")
        return dt.timestamp()
    raise ValueError(f"ts of type {type(value).__name__}")


def _event(doc: object, line: int) -> OperatorEvent:
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    kind, target, text = doc.get("kind"), doc.get("target"), doc.get("text", "")
    if not isinstance(kind, str) or not kind.strip():
        raise ValueError("no kind")
    if target is not None and not isinstance(target, str):
        raise ValueError("target is not a string")
    if "ts" not in doc:
        raise ValueError("no ts")
    return OperatorEvent(
        ts=parse_ts(doc["ts"]),
        kind=kind.strip(),
        target=(target.strip() or None) if target else None,
        text=text if isinstance(text, str) else json.dumps(text),
        line=line,
    )


def parse_events(
    data: bytes,
    run_start: float | None = None,
    run_end: float | None = None,
    *,
    total_bytes: int | None = None,
    slack_s: float = RUN_SLACK_S,
) -> EventsRead:
    """The events in `data` (the file's first bytes; `total_bytes` its whole size). A line that
    is not an event is malformed; one whose ts is outside [run_start, run_end] (with `slack_s`)
    out of range; both counted, neither kept. An oversized file's cut last line is not read."""
    total = len(data) if total_bytes is None else total_bytes
    out = EventsRead(bytes_read=len(data), bytes_total=total, oversized=total > len(data))
    chunks = data.split(b"\n")
    if out.oversized and chunks:
        chunks = chunks[:-1]  # the line the bound cut
    unknown: Counter[str] = Counter()

    def problem(n: int, why: str) -> None:
        if len(out.problems) < MAX_PROBLEMS:
            out.problems.append(f"line {n}: {why}")

    for n, raw in enumerate(chunks, start=1):
        if not raw.strip():
            continue
        out.lines += 1
        try:
            ev = _event(json.loads(raw.decode("utf-8")), n)
        except (ValueError, UnicodeDecodeError) as exc:
            out.malformed += 1
            problem(n, f"malformed ({str(exc)[:120]})")
            continue
        lo = -math.inf if run_start is None else run_start - slack_s
        hi = math.inf if run_end is None else run_end + slack_s
        if not lo <= ev.ts <= hi:
            out.out_of_range += 1
            problem(n, f"ts {ev.ts:.3f} outside the run")
            continue
        if not ev.known:
            unknown[ev.kind] += 1
        out.events.append(ev)
    out.unknown_kinds = dict(unknown)
    if out.oversized:
        problem(0, f"file of {total} bytes: only the first {len(data)} read")
    return out


def read_events(
    path: Path,
    run_start: float | None = None,
    run_end: float | None = None,
    *,
    max_bytes: int = MAX_EVENTS_BYTES,
) -> EventsRead:
    """The events file, read up to `max_bytes` (never more); a missing file is `missing`."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            data = f.read(max_bytes)
    except FileNotFoundError:
        return EventsRead(missing=True)
    except OSError as exc:
        return EventsRead(missing=True, problems=[f"unreadable: {exc}"])
    return parse_events(data, run_start, run_end, total_bytes=max(size, len(data)))


# --- what the engine saw ----------------------------------------------------------------------

Attribution = Literal["injector", "operator", "container"]


class ContainerEvent(BaseModel):
    """One lifecycle event of a stack container, attributed (`t` unix seconds)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    t: float
    action: str
    service: str | None = None
    container: str | None = None
    id: str = ""
    attributed: Attribution = "operator"
    fault: int | None = None  # the injector's fault index when it is the injector's

    @classmethod
    def of(cls, e: Event, attributed: Attribution, fault: int | None = None) -> ContainerEvent:
        return cls(
            t=e.time,
            action=e.action,
            service=e.service,
            container=e.name,
            id=e.id,
            attributed=attributed,
            fault=fault,
        )


def _same_container(e: Event, r: FaultRecord) -> bool:
    if r.container:
        return r.container in (e.name, e.id) or (
            len(r.container) >= 12 and e.id.startswith(r.container)
        )
    return r.service is not None and e.service == r.service


def _injector_fault(
    e: Event, records: Sequence[FaultRecord], tol: float, used: Counter[tuple[int, str]]
) -> int | None:
    """The fault whose own action (or undo) this event is, or None. `used`: what each fault's
    action and undo already produced (a verb beyond its count is somebody else's)."""
    t = e.time
    for r in records:
        if r.start is None or not _same_container(e, r):
            continue
        does = INJECTOR_ACTIONS.get(r.spec.action, {})
        done = r.applied if r.applied is not None else r.start
        key = (r.index, e.action)
        if used[key] < does.get(e.action, 0) and r.start - tol <= t <= done + tol:
            used[key] += 1
            return r.index
        undoes = UNDO_ACTIONS.get(r.spec.action, frozenset())
        undo_key = (r.index, "undo")
        if (
            r.end is not None
            and e.action in undoes
            and not used[undo_key]
            and r.end - tol <= t <= r.end + tol
        ):
            used[undo_key] += 1
            return r.index
    return None


def attribute(
    events: Iterable[Event],
    records: Sequence[FaultRecord],
    *,
    tolerance_s: float = ATTRIBUTION_TOLERANCE_S,
    ignore_services: Collection[str] = (),
) -> list[ContainerEvent]:
    """Each lifecycle event (in time order) to the injector, the operator or the container:
    the injector's when it is one of its action's verbs on that container within `tolerance_s`
    of the action (or its undo's verb within `tolerance_s` of the undo's return), each verb no
    more often than the action makes it; a `die`/`oom` belongs to whoever killed or stopped
    that container within the tolerance before it, else to the container itself; every other
    lifecycle verb is the operator's. `ignore_services`: containers that are not the cluster's
    (the operator's own, the probe's)."""
    out: list[ContainerEvent] = []
    last_cause: dict[str, ContainerEvent] = {}
    used: Counter[tuple[int, str]] = Counter()
    for e in sorted(events, key=lambda x: x.time_ns):
        if e.type != "container" or e.action not in LIFECYCLE or e.service in ignore_services:
            continue
        fault = _injector_fault(e, records, tolerance_s, used)
        if fault is not None:
            ce = ContainerEvent.of(e, "injector", fault)
        elif e.action in FOLLOWS:
            cause = last_cause.get(e.id)
            if cause is not None and e.time - cause.t <= tolerance_s:
                ce = ContainerEvent.of(e, cause.attributed, cause.fault)
            else:
                ce = ContainerEvent.of(e, "container")
        else:
            ce = ContainerEvent.of(e, "operator")
        if e.action in ("kill", "stop", "restart"):
            last_cause[e.id] = ce
        out.append(ce)
    return out


# --- what the cluster's API said --------------------------------------------------------------


class MembershipSample(BaseModel):
    """One member at one time (unix s): healthy (answers its health endpoint / store Up), in the
    cluster (in the member list / a store PD still has), voting (not a learner / not
    tombstoned), the leader. `error`: why the sample could not say more."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    t: float
    member: str
    healthy: bool
    in_cluster: bool = True
    voting: bool = True
    is_leader: bool = False
    error: str | None = None


def sample_times(samples: Iterable[MembershipSample]) -> list[float]:
    """The distinct sampling times, in order (one sampling round shares its time)."""
    return sorted({s.t for s in samples})
