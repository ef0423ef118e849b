"""The operator's scores as types (workbench.operator.scoring computes them; operator.json and the
checks read them). Times in seconds: `*_s` from the fault's onset, `onset_s` on the run phase's
clock (t=0: the run phase's start). Every None has its reason in `reasons`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from workbench.operator.contract import ContainerEvent, OperatorEvent

HOLD_S = 10.0  # the service must stay whole this long to count as recovered
GRACE_S = 30.0  # a detection this long after a fault's end still belongs to it


class FaultScore(BaseModel):
    """One fault, scored from its onset."""

    model_config = ConfigDict(extra="allow")
    index: int
    label: str
    target: str | None = None  # the service the fault hit
    onset_s: float
    persistent: bool = False
    detect_s: float | None = None
    detect_named_target: bool | None = None
    first_action_s: float | None = None  # first operator-attributed container event
    first_action: str | None = None  # e.g. "start etcd1"
    first_act_s: float | None = None  # first `act` event
    resolved_claim_s: float | None = None  # first `resolved` event after onset
    recovered: bool = False
    censored: bool = False  # watched to its horizon, never whole for the hold (not recovered)
    recovery_s: float | None = None  # None: not recovered within the run (censored)
    censored_at_s: float | None = None  # a censored fault: how long it was watched
    unavailability_s: float | None = None
    unavailability_from: str | None = None  # "probe" | "client intervals"
    failed_ops: float | None = None
    ops_below_pre: float | None = None  # operations short of the pre-fault rate
    p99_excess_ms_s: float | None = None
    pre_throughput: float | None = None
    pre_p99_ms: float | None = None
    reasons: dict[str, str] = Field(default_factory=dict)


class Integrity(BaseModel):
    """Whether the cluster is what it was: voting members at start and end, loaded keys
    readable afterwards. `ok` None: the data cannot tell (reasons say why)."""

    model_config = ConfigDict(extra="forbid")
    voting_start: int | None = None
    voting_end: int | None = None
    members_start: list[str] = Field(default_factory=list)
    members_end: list[str] = Field(default_factory=list)
    down_end: list[str] = Field(default_factory=list)  # up at the start, down at the end
    keys_loaded: int | None = None
    keys_readable: int | None = None
    ok: bool | None = None
    reasons: list[str] = Field(default_factory=list)


class OperatorScores(BaseModel):
    """Every fault's score, the cluster's integrity, and what the operator said or did with no
    fault to answer."""

    model_config = ConfigDict(extra="forbid")
    hold_s: float = HOLD_S
    grace_s: float = GRACE_S
    faults: list[FaultScore] = Field(default_factory=list)
    integrity: Integrity = Field(default_factory=Integrity)
    false_alarms: list[OperatorEvent] = Field(default_factory=list)
    actions_without_fault: list[ContainerEvent] = Field(default_factory=list)

    @property
    def recovered(self) -> int:
        return sum(1 for f in self.faults if f.recovered)

    @property
    def censored(self) -> int:
        return sum(1 for f in self.faults if f.censored)


@dataclass(frozen=True)
class OperatorObservation:
    """`CheckContext.operator`: what the operator checks judge. `operator`: none | reference |
    IMAGE; `persistent`: a fault of the run stays until someone fixes it; `scores` None with
    `reason` when they could not be computed; `crashed`: the operator exited or crashed during
    the run (its code and last lines), so its verdicts cannot be told."""

    operator: str = "none"
    persistent: bool = False
    scores: OperatorScores | None = None
    reason: str | None = None
    crashed: str | None = None

    @property
    def applies(self) -> bool:
        """Judged whenever an operator runs or a fault stays (with `none`: the control)."""
        return self.operator != "none" or self.persistent
