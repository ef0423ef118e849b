"""What a run's faults came to, as types every room above reads (no pandas, no I/O).

- `FaultRecord`: one scheduled fault as it happened (the injector fills it): the spec (action,
  target, times), the service and container it hit and how they were chosen, start / applied /
  end (unix s), whether it took effect, its error.
- `RecoveryNumbers`: the client's recovery numbers of one applied fault (workbench.faults.recovery
  computes them); each number is a value or None with its reason in `reasons`.
- `ServerCounters`: the server's own view of one fault: each counter's increase (None: unreadable).
- `FaultOutcome`: a record with its recovery and server view (one entry of faults.json).
- `HealthAfter`: the stack's health after the last fault's undo.
- `FaultObservation`: what the fault checks judge (frozen): the outcomes and the health after.

The file these land in (faults.json) is workbench.artifacts.faults's; recovery and server numbers
are added as optional fields (a newer measurement adds a field with a default, old files still
read).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from workbench.faults.schedule import FaultSpec

NOT_MEASURED = "the fault was not applied, or no client series"


class Distribution(BaseModel):
    """One recovery metric over all faults: every value (None kept), median and max of the
    known ones."""

    model_config = ConfigDict(extra="allow")
    values: list[float | None] = Field(default_factory=list)
    n: int = 0
    unknown: int = 0
    median: float | None = None
    max: float | None = None


class FaultRecord(BaseModel):
    """What happened to one scheduled fault (unix seconds; None: it did not get that far)."""

    model_config = ConfigDict(extra="forbid")
    index: int
    spec: FaultSpec
    label: str
    scheduled_start: float
    scheduled_end: float
    service: str | None = None
    container: str | None = None
    resolved_by: str | None = None
    resolution: dict[str, Any] = Field(default_factory=dict)  # the resolver's own evidence
    start: float | None = None  # just before the action's command
    applied: float | None = None  # when the action's command returned
    end: float | None = None  # when the undo returned
    took_effect: bool = False
    evidence: dict[str, Any] = Field(default_factory=dict)  # the action's own evidence
    undone: bool = False
    error: str | None = None
    undo_error: str | None = None


class RecoveryNumbers(BaseModel):
    """One applied fault's recovery numbers (seconds from the run phase's t=0; see
    workbench.faults.recovery for each definition). Fields a newer computation adds are kept
    (extra allowed) until they are typed here."""

    model_config = ConfigDict(extra="allow")
    label: str = ""
    start_s: float | None = None
    end_s: float | None = None
    pre_throughput: float | None = None
    pre_p99_ms: float | None = None
    pre_from: str | None = None  # "window" | "target"
    pre_window_s: list[float] | None = None  # [start, end] of the intervals the level is from
    time_to_first_error_s: float | None = None
    unavailability_s: float | None = None
    unavailability_from: str | None = None  # "completions" | "intervals"
    throughput_recovery_s: float | None = None
    p99_recovery_s: float | None = None
    settled_s: float | None = None
    errors_during: float | None = None
    errors_after: float | None = None
    reasons: dict[str, str] = Field(default_factory=dict)

    def value(self, metric: str) -> tuple[float | None, str]:
        """A number and, when it is None, why (`cannot tell` when nobody said)."""
        got = getattr(self, metric, None)
        if got is None:
            return None, self.reasons.get(metric, "cannot tell")
        return float(got), ""

    @property
    def errors(self) -> float | None:
        """Errors during and after the fault; None when either is unknown."""
        if self.errors_during is None or self.errors_after is None:
            return None
        return self.errors_during + self.errors_after


class ServerCounters(BaseModel):
    """The server's counters over one fault: each one's increase from the fault's start to
    `end` (a few seconds after the fault's end); None: the counter could not be read."""

    model_config = ConfigDict(extra="forbid")
    start: float
    end: float
    counters: dict[str, float | None] = Field(default_factory=dict)


class ProbeNumbers(BaseModel):
    """One fault as the independent availability probe saw it (seconds; see
    workbench.faults.availability for each definition): the cluster endpoint's unavailability,
    first error and service again, each member's own unavailability, the failed attempts by
    error class, and the server's view of the new leader (its leader-change counter)."""

    model_config = ConfigDict(extra="allow")
    target: str = "cluster"
    attempts: int = 0
    failed: int = 0
    unavailability_s: float | None = None
    unavailability_open: bool = False  # the outage ran to the window's end
    time_to_first_error_s: float | None = None
    serve_again_s: float | None = None
    new_leader_seen_s: float | None = None
    members: dict[str, float] = Field(default_factory=dict)
    errors: dict[str, int] = Field(default_factory=dict)
    reasons: dict[str, str] = Field(default_factory=dict)

    def value(self, metric: str) -> tuple[float | None, str]:
        got = getattr(self, metric, None)
        if got is None:
            return None, self.reasons.get(metric, "cannot tell")
        return float(got), ""


class ProbeInfo(BaseModel):
    """How the probe ran: what it asked (`scope`), how often, its deadline, its targets, the
    file of its samples in the run directory, the ticks it made and skipped; `problem`: why it
    could not run at all."""

    model_config = ConfigDict(extra="allow")
    scope: str = ""
    every_s: float | None = None
    deadline_s: float | None = None
    targets: list[str] = Field(default_factory=list)
    samples_file: str | None = None
    ticks: int = 0
    skipped: int = 0
    problem: str | None = None


class FaultOutcome(FaultRecord):
    """A fault as scheduled and applied, with what it came to. `recovery` is None (with
    `recovery_reason`) when the fault was not applied or the client wrote no series."""

    recovery: RecoveryNumbers | None = None
    recovery_reason: str | None = None
    server: ServerCounters | None = None
    probe: ProbeNumbers | None = None  # the independent availability probe (None: no probe)

    def metric(self, name: str) -> tuple[float | None, str]:
        """A recovery number of this fault and, when None, the reason."""
        if self.recovery is None:
            return None, self.recovery_reason or NOT_MEASURED
        return self.recovery.value(name)


class HealthAfter(BaseModel):
    """The stack's health after the last fault's undo: healthy again at `at` (`took_s` after
    `since`), or not within `waited_s`; `leftovers`: fault state found left behind."""

    model_config = ConfigDict(extra="forbid")
    healthy: bool
    since: float | None = None
    at: float | None = None
    took_s: float | None = None
    waited_s: float | None = None
    health: dict[str, str] = Field(default_factory=dict)
    note: str | None = None
    leftovers: list[str] = Field(default_factory=list)


def outcomes(
    records: Sequence[FaultRecord],
    recoveries: Sequence[RecoveryNumbers],
    server: dict[int, ServerCounters] | None = None,
) -> list[FaultOutcome]:
    """Each record with its recovery (recoveries are one per applied fault, in the order of
    their starts: workbench.faults.recovery.recoveries) and its server counters by index."""
    applied = sorted((r for r in records if r.applied is not None), key=lambda r: r.start or 0.0)
    by_index = {r.index: rec for r, rec in zip(applied, recoveries, strict=False)}
    out = []
    for r in records:
        rec = by_index.get(r.index)
        out.append(
            FaultOutcome(
                **dict(r),
                recovery=rec,
                recovery_reason=None if rec is not None else NOT_MEASURED,
                server=(server or {}).get(r.index),
            )
        )
    return out


@dataclass(frozen=True)
class FaultObservation:
    """`CheckContext.faults`: the run's faults with their numbers, and the health after."""

    faults: tuple[FaultOutcome, ...]
    healthy_after: HealthAfter | None = None

    @property
    def applied(self) -> tuple[FaultOutcome, ...]:
        """The faults whose action ran (not applied: nothing happened to the stack)."""
        return tuple(f for f in self.faults if f.applied is not None)

    @property
    def labels(self) -> list[str]:
        return [f.label for f in self.faults]
