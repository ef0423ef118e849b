"""When the workbench itself disturbed a member, and the one way errors are counted against it.

A `FaultSpan` is one applied fault as the checks and the faults table read it: which member
(compose service and container), from when its action began (a `docker pause` was measured to
take 3 s to freeze a member, which is disturbed meanwhile) until its undo returned,
plus `FAULT_GRACE_S` for the member to be back (restarted, resumed, reachable) and scraped
again. Unix seconds. Inside a span a member's missing scrapes, a counter that restarts and the
client's errors are the fault's; outside every span they are the run's own.

ONE ERROR COUNT (`count_errors`): the client's errors are its `_ERROR` rows per interval (YCSB's
own error counts: every failed operation, whatever the operation; `-INTENDED` and TOTAL rows are
no operations), and the run's total is the client's final block without the operations our own
SIGINT cancelled. An interval belongs to the first fault (by start) whose span [start,
end + grace) it overlaps, and to no other: each interval is counted once, by its identity
(start, end). Errors during a fault = the errors of its intervals; errors outside faults = the
total minus all of those. The faults table, ycsb_traffic, error_rate and fault_errors all read
this count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

FAULT_GRACE_S = 5.0  # after the undo: a killed member restarts and is scraped again (~2-4 s)


class AppliedFault(Protocol):
    """What a span is made of: a fault record (workbench.faults.injector.FaultRecord)."""

    index: int
    label: str
    service: str | None
    container: str | None
    start: float | None
    applied: float | None
    end: float | None


@dataclass(frozen=True)
class FaultSpan:
    """One applied fault on one member: [start, end) while in force, `until` with the grace."""

    index: int
    label: str
    service: str | None
    container: str | None
    start: float
    end: float  # inf: the undo never returned (in force until the run ended)
    grace_s: float = FAULT_GRACE_S
    applied: float | None = None  # the action returned: the member is down (or frozen) by then

    @property
    def until(self) -> float:
        return self.end + self.grace_s

    def covers(self, t: float) -> bool:
        return self.start <= t < self.until

    def overlaps(self, start: float, end: float) -> bool:
        return start < self.until and end > self.start

    def hits(self, instance: str) -> bool:
        """A Prometheus target of this member (`etcd1:2379` is service etcd1's)."""
        host = instance.rsplit(":", 1)[0] if ":" in instance else instance
        return host in {self.service, self.container} - {None}

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "service": self.service,
            "start": self.start,
            "end": None if math.isinf(self.end) else self.end,
            "grace_s": self.grace_s,
        }


def spans(faults: Iterable[AppliedFault], grace_s: float = FAULT_GRACE_S) -> list[FaultSpan]:
    """The applied faults as spans, by start (a fault that was not applied disturbed nothing)."""
    out = [
        FaultSpan(
            f.index,
            f.label,
            f.service,
            f.container,
            float(f.start if f.start is not None else f.applied),
            math.inf if f.end is None else float(f.end),
            grace_s,
            float(f.applied),
        )
        for f in faults
        if f.applied is not None
    ]
    return sorted(out, key=lambda s: s.start)


def owners(starts: Iterable[float], ends: Iterable[float], spans: Sequence[FaultSpan]) -> list[int]:
    """Per interval [start, end): the index of the first fault whose span it overlaps, -1 none."""
    ordered = sorted(spans, key=lambda s: s.start)
    return [
        next((s.index for s in ordered if s.overlaps(float(a), float(b))), -1)
        for a, b in zip(starts, ends, strict=True)
    ]


@dataclass(frozen=True)
class ErrorCount:
    """The run's store errors: in total, during each fault (by fault index), outside faults."""

    total: float
    during: dict[int, float] = field(default_factory=dict)
    grace_s: float = FAULT_GRACE_S
    #: False: faults but no per-interval errors, so none could be put on a fault
    attributed: bool = True

    @property
    def in_faults(self) -> float:
        return sum(self.during.values())

    @property
    def outside(self) -> float:
        return max(0.0, self.total - self.in_faults)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "during": {str(k): v for k, v in sorted(self.during.items())},
            "in_faults": self.in_faults,
            "outside": self.outside,
            "grace_s": self.grace_s,
            "attributed": self.attributed,
        }


def error_intervals(intervals: pd.DataFrame) -> pd.DataFrame:
    """The client's errors per interval (start, end, errors): its `_ERROR` rows summed."""
    op = intervals["operation"].astype(str)
    rows = intervals[op.str.endswith("_ERROR") & ~op.str.startswith("TOTAL")]
    return rows.groupby(["start", "end"], as_index=False, sort=True).agg(errors=("count", "sum"))


def count_errors(
    intervals: pd.DataFrame | None, faults: Sequence[FaultSpan], total: float
) -> ErrorCount:
    """The one error count (module docstring). `intervals`: start, end (unix s), operation,
    count; None or empty: no per-interval errors are known, so none is put on a fault."""
    grace = faults[0].grace_s if faults else FAULT_GRACE_S
    during = {s.index: 0.0 for s in faults}
    known = intervals is not None and len(intervals) > 0
    if intervals is not None and known and faults:
        errs = error_intervals(intervals)
        for owner, n in zip(
            owners(errs["start"], errs["end"], faults), errs["errors"], strict=True
        ):
            if owner >= 0:
                during[owner] += float(n)
    return ErrorCount(float(total), during, grace, attributed=known or not faults)


def store_errors(client: Mapping[str, Any]) -> float:
    """The client's errors without those our SIGINT caused (`interrupt_errors`)."""
    return float(client.get("total_errors") or 0) - float(client.get("interrupt_errors") or 0)
