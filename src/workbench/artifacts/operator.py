"""operator.json: the operator under test's run file (schema 1), typed.

    {"schema": 1, "operator": "reference", "docker": true, "t0": ..., "run_start": ...,
     "run_end": ..., "events": {<EventsRead>}, "container_events": [{<ContainerEvent>}],
     "membership": {"samples": 180, "members": ["etcd0", ...], ...},
     "exit": {"code": 0, "log_tail": [...]}, "readback": {"loaded": 1000, "found": 1000},
     "scores": {<OperatorScores>} | null, "scores_reason": null, "problems": []}

Written by the run layer through `RunDir.save_operator`, read through `RunDir.operator()`: a
damaged file is a `FileProblem`, never a traceback. The types inside are workbench.operator's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from workbench.jsonio import read_json
from workbench.operator.contract import ContainerEvent, EventsRead
from workbench.operator.scores import OperatorObservation, OperatorScores

from .faults import FileProblem

OPERATOR_FILE = "operator.json"
OPERATOR_SCHEMA = 1


class MembershipSummary(BaseModel):
    """The membership samples in short (the samples themselves are a side file)."""

    model_config = ConfigDict(extra="allow")
    samples: int = 0
    members: list[str] = Field(default_factory=list)
    first_t: float | None = None
    last_t: float | None = None
    errors: int = 0
    file: str | None = None  # the samples themselves (RunDir.membership)


class OperatorExit(BaseModel):
    """How the operator's container ended (None code: still running at the end)."""

    model_config = ConfigDict(extra="allow")
    code: int | None = None
    running_at_end: bool = False
    log_tail: list[str] = Field(default_factory=list)


class ReadBack(BaseModel):
    """The read-back pass after the run phase: keys loaded, keys found."""

    model_config = ConfigDict(extra="allow")
    loaded: int
    found: int
    errors: int = 0


class OperatorDoc(BaseModel):
    """The operator of a run: what it said, what it did, what it scored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    schema_version: int = Field(default=OPERATOR_SCHEMA, alias="schema")
    operator: str = "none"  # none | reference | IMAGE[:TAG]
    docker: bool = False  # the Docker socket was mounted into it
    persistent_faults: list[int] = Field(default_factory=list)  # indexes of faults left in place
    t0: float | None = None  # the run phase's t=0 (unix s)
    run_start: float | None = None
    run_end: float | None = None
    events: EventsRead = Field(default_factory=EventsRead)
    container_events: list[ContainerEvent] = Field(default_factory=list)
    membership: MembershipSummary = Field(default_factory=MembershipSummary)
    exit: OperatorExit | None = None
    readback: ReadBack | None = None
    scores: OperatorScores | None = None
    scores_reason: str | None = None  # why there are no scores
    problems: list[str] = Field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    @property
    def crashed(self) -> str | None:
        """Why the operator's verdicts cannot be told: it exited before the run's end (its code
        and last log line); None while it ran to the end (or none ran)."""
        e = self.exit
        if self.operator == "none" or e is None or e.running_at_end or e.code is None:
            return None
        last = next((line for line in reversed(e.log_tail) if line.strip()), None)
        return f"exit code {e.code}" + (f"; last line: {last[:200]}" if last else "")

    def marks(self) -> list[dict[str, Any]]:
        """The timeline's `operator` marks (unix s, like RunDir.marks()): each event it wrote
        (`detect:etcd1`), each container event attributed to it (`start:etcd1`), and per scored
        fault its recovery span from the onset (`recovered:LABEL`, or `not recovered:LABEL` to
        the end of its watch)."""
        out: list[dict[str, Any]] = []
        for e in self.events.events:
            name = f"{e.kind}:{e.target}" if e.target else e.kind
            out.append({"name": name, "start": e.ts, "end": e.ts, "source": "operator"})
        for c in self.container_events:
            if c.attributed == "operator":
                name = f"{c.action}:{c.service or c.container or c.id[:12]}"
                out.append({"name": name, "start": c.t, "end": c.t, "source": "operator"})
        if self.scores is not None and self.t0 is not None:
            for f in self.scores.faults:
                span = f.recovery_s if f.recovered else f.censored_at_s
                if span is None:
                    continue
                what = "recovered" if f.recovered else "not recovered"
                start = self.t0 + f.onset_s
                out.append(
                    {"name": f"{what}:{f.label}", "start": start, "end": start + span,
                     "source": "operator"}
                )  # fmt: skip
        return out

    def observation(self) -> OperatorObservation:
        """`CheckContext.operator` for the operator checks."""
        return OperatorObservation(
            operator=self.operator,
            persistent=bool(self.persistent_faults),
            scores=self.scores,
            reason=self.scores_reason,
            crashed=self.crashed,
        )


def read_operator(path: Path) -> OperatorDoc | FileProblem | None:
    """operator.json of a run directory; None when the run had none (no operator, no
    persistent fault: every run before this file)."""
    file = path / OPERATOR_FILE
    if not file.is_file():
        return None
    try:
        data = read_json(file)
        if not isinstance(data, dict):
            return FileProblem(OPERATOR_FILE, "not an object")
        return OperatorDoc.model_validate(data)
    except (OSError, ValueError, ValidationError, TypeError) as exc:
        return FileProblem(OPERATOR_FILE, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
