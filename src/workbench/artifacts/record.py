"""The run record (run.json) as one typed model, schema 2, and the migration from schema 1.

One process writes it at a time: the CLI's supervisor creates it and hands it to the notebook's
kernel (`handoff`), the kernel's conductor writes it while the run goes, and the supervisor takes
it back when the kernel has ended (salvage). Every reader (report, `ls`, compare, the index) reads
it through `RunRecord`, never through free keys. Schema-1 records (written before this model)
are migrated on read; unknown keys of old records are dropped, never guessed at.
"""

from __future__ import annotations

import os
import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from workbench.faults.outcome import FaultRecord
from workbench.faults.schedule import FaultSpec
from workbench.jsonio import utc_iso

from .fingerprint import Fingerprint

SCHEMA = 2
# passed: every verdict pass/skipped; failed: a verdict failed; unknown: none failed, some could
# not be verified; error: the workbench or its input failed; aborted: interrupted (or abandoned)
RunStatus = Literal["running", "passed", "failed", "unknown", "error", "aborted"]
RUN_STATUSES: tuple[str, ...] = ("running", "passed", "failed", "unknown", "error", "aborted")
FINAL_STATUSES: tuple[str, ...] = ("passed", "failed", "unknown", "error", "aborted")
# the one exit-code contract of every command that ends in a status (README: Exit codes)
EXIT_CODES = {"passed": 0, "failed": 1, "unknown": 2, "error": 3, "aborted": 130}
SIGNAL_EXIT = {"SIGINT": 130, "SIGTERM": 143}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Stage(_Model):
    name: str
    started: float
    ended: float | None = None
    status: Literal["running", "ok", "error", "aborted"] = "running"
    error: str = ""


class RequestPolicyInfo(BaseModel):
    """The native generator's request policy as its errors.json and run.json record it (the
    shape of ycsb.native.policy.RequestPolicy.info(); artifacts cannot import ycsb's type)."""

    model_config = ConfigDict(extra="allow")  # a newer generator's extra knobs are kept
    deadline_s: float | None = None  # 0: none
    retries: int | None = None
    backoff_s: float | None = None
    retry_on: list[str] = Field(default_factory=list)


class Mark(_Model):
    """A span on the run's clock drawn on every time axis: a stage (load, run, warmup) or, with
    source `fault`, an injected fault."""

    name: str
    start: float
    end: float
    source: str = "stage"


class Span(_Model):
    started_unix: float
    ended_unix: float | None = None


class StackUp(_Model):
    started_unix: float
    healthy_unix: float


class Teardown(_Model):
    started_unix: float
    ended_unix: float
    background: bool = False


class Prestart(_Model):
    """The stack the supervisor began creating while the kernel started (the notebook adopts it)."""

    project: str
    started_unix: float


class Gate(_Model):
    ready_unix: float
    released_unix: float | None = None


class GeneratorInfo(_Model):
    """One of several generators of a phase: its share of the load and what it did."""

    index: int
    container: str = ""
    insertstart: int | None = None
    insertcount: int | None = None
    operationcount: int | None = None
    target: int | None = None
    first_line_unix: float | None = None  # its t=0
    ended_unix: float | None = None
    run_seconds: float | None = None
    ops: int | None = None  # successful operations (its TOTAL)
    errors: int | None = None
    cpu_seconds: float | None = None
    cpu_cores: float | None = None
    failed: str | None = None  # why it produced no result (the run went on with the others)


class PhaseInfo(_Model):
    """One YCSB phase as run: the argv, its place on the clock, what the tool reported."""

    tool: str = ""
    argv: list[str] = Field(default_factory=list)
    wall_s: float | None = None
    launched_unix: float | None = None
    ended_unix: float | None = None
    gate: Gate | None = None
    run_seconds: float | None = None
    errors: int | None = None
    # what the tool cannot measure (`Tool.limitations`): the report says so instead of a blank
    limitations: list[str] = Field(default_factory=list)
    # the native generator's worker processes, request policy (deadline, retries) and, per
    # operation, attempts/retries/final errors (its <phase>.errors.json); None: not reported
    processes: int | None = None
    request_policy: RequestPolicyInfo | None = None
    requests: dict[str, dict[str, int]] | None = None
    # several generators (`generators` > 1): each one's share and result, and how far apart
    # their t=0 were (max - min, s); None: one generator
    generators: list[GeneratorInfo] | None = None
    start_spread_s: float | None = None


class Settle(_Model):
    after: float
    seen: float | None = None
    waited_s: float


class Headline(_Model):
    """A run phase's headline numbers: the one type of the run record's summary, `ls`, the index,
    the report's result block, `compare` and a campaign's per-run numbers. Missing stays None.

    `p50_ms`/`p99_ms`/`p999_ms`/`avg_ms` are YCSB's TOTAL row: SERVICE time (from the moment the
    operation was sent). `intended_p99_ms` is the TOTAL-INTENDED p99: latency from the INTENDED
    send time of the target-rate schedule, which counts the time an operation waited behind a
    stalled one (only with a target rate; None otherwise). `worst_p99_ms` is the worst single
    operation's service-time p99, with its operation."""

    throughput: float | None = None  # client ops/s of the phase (TOTAL row)
    p50_ms: float | None = None
    p99_ms: float | None = None
    p999_ms: float | None = None
    avg_ms: float | None = None
    intended_p99_ms: float | None = None
    worst_p99_ms: float | None = None
    worst_p99_operation: str | None = None
    operations: int | None = None
    errors: int | None = None

    def value(self, name: str) -> float | None:
        """One number by its field name (a campaign's metric names are these names)."""
        if name not in NUMBER_FIELDS:
            raise KeyError(f"unknown headline number {name!r}; known: {', '.join(NUMBER_FIELDS)}")
        v = getattr(self, name)
        return None if v is None else float(v)

    def headline(self) -> Headline:
        """Only the numbers (a Summary without its verdicts)."""
        return Headline.model_validate(self.model_dump(include=set(Headline.model_fields)))


NUMBER_FIELDS: tuple[str, ...] = tuple(
    n for n in Headline.model_fields if n != "worst_p99_operation"
)


class Summary(Headline):
    """run.json's summary: the headline numbers, kept so `workbench run` and `ls` print them
    without pandas, and the verdict counts. (Records written before Headline hold a subset of
    these keys: throughput, p99_ms, worst_p99_ms, worst_p99_operation, operations, errors,
    verdicts; they read as they are.)"""

    verdicts: dict[str, int] = Field(default_factory=dict)

    @classmethod
    def of(cls, numbers: Headline, verdicts: dict[str, int]) -> Summary:
        return cls(**numbers.headline().model_dump(), verdicts=dict(verdicts))


class Supervisor(_Model):
    """The process that created the record and handed it to a kernel; it takes it back."""

    pid: int
    handoff: bool = True


class RunRecord(_Model):
    schema_version: int = Field(default=SCHEMA, alias="schema")
    run_id: str
    kind: str = "benchmark"
    subject: str
    params: dict[str, Any] = Field(default_factory=dict)
    status: RunStatus = "running"
    error: str | None = None
    interrupted_by: str | None = None  # the signal that aborted the run (SIGINT, SIGTERM)
    started: str
    started_unix: float
    ended: str | None = None
    ended_unix: float | None = None
    pid: int = Field(default_factory=os.getpid)  # the process writing the record now
    supervisor: Supervisor | None = None
    stages: list[Stage] = Field(default_factory=list)
    marks: list[Mark] = Field(default_factory=list)
    fingerprint: Fingerprint = Field(default_factory=Fingerprint)
    summary: Summary = Field(default_factory=Summary)
    project: str | None = None
    ports: dict[str, int] = Field(default_factory=dict)
    attached: bool = False
    prestart: Prestart | None = None
    stack_up_s: float | None = None
    stack_up: StackUp | None = None
    phases: dict[str, PhaseInfo] = Field(default_factory=dict)
    baseline_window: tuple[float, float] | None = None
    settle_after_load: Settle | None = None
    teardown_s: float | None = None
    teardown: Teardown | None = None
    # the run phase's faults as they happened (the full document with recoveries is faults.json,
    # artifacts.faults) and the seed of its `random`/follower choices
    faults: list[FaultRecord] = Field(default_factory=list)
    fault_seed: int | None = None

    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True)

    @classmethod
    def new(cls, run_id: str, subject: str, params: dict[str, Any], kind: str) -> RunRecord:
        now = time.time()
        return cls(
            run_id=run_id,
            subject=subject,
            params=params,
            kind=kind,
            started=utc_iso(now),
            started_unix=now,
        )

    def exit_code(self) -> int:
        """The status as a process exit code (130/143 for a run interrupted by SIGINT/SIGTERM)."""
        if self.status == "aborted" and self.interrupted_by in SIGNAL_EXIT:
            return SIGNAL_EXIT[self.interrupted_by]
        return EXIT_CODES.get(self.status, 3)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


_V1_KEYS = set(RunRecord.model_fields) | {"schema"}


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """A record of any schema as schema-2 fields (schema 1: `ycsb_<phase>` keys become `phases`,
    a free `summary` dict is kept where it fits, keys no longer written are dropped)."""
    version = int(data.get("schema", 1))
    if version >= SCHEMA:
        return {**data, "faults": _faults(data.get("faults"))} if data.get("faults") else data
    out = {k: v for k, v in data.items() if k in _V1_KEYS and k != "schema"}
    phases = {}
    for key, value in data.items():
        if key.startswith("ycsb_") and isinstance(value, dict):
            known = {k: v for k, v in value.items() if k in PhaseInfo.model_fields}
            phases[key.removeprefix("ycsb_")] = known
    out["phases"] = phases
    summary = data.get("summary") or {}
    out["summary"] = {k: v for k, v in summary.items() if k in Summary.model_fields}
    if isinstance(data.get("settle_after_load"), dict):
        settle = data["settle_after_load"]
        out["settle_after_load"] = {k: v for k, v in settle.items() if k in Settle.model_fields}
    out["stages"] = [
        {k: v for k, v in s.items() if k in Stage.model_fields} for s in data.get("stages", [])
    ]
    out["faults"] = _faults(data.get("faults"))
    out["schema"] = SCHEMA
    return out


def _faults(items: Any) -> list[dict[str, Any]]:
    """Fault records of any earlier writer: the keys FaultRecord (and its spec) still has."""
    out = []
    for f in items if isinstance(items, list) else []:
        if isinstance(f, dict):
            rec = {k: v for k, v in f.items() if k in FaultRecord.model_fields}
            if isinstance(rec.get("spec"), dict):
                rec["spec"] = {k: v for k, v in rec["spec"].items() if k in FaultSpec.model_fields}
            out.append(rec)
    return out
