"""faults.json as one typed document (schema 2), and the migration from the free shape of schema 1.

    {"schema": 2, "seed": 7, "t0": ..., "run_t0": ..., "repeat": 1, "every_s": null,
     "faults": [{<FaultRecord>, "recovery": {...} | null, "recovery_reason": ..., "server": ...}],
     "distribution": {"unavailability_s": {"values": [...], "n": 1, "unknown": 0, ...}, ...},
     "healthy_after": {"healthy": true, "took_s": 2.5, ...}, "server_counters": [...],
     "server_problem": null}

Each fault carries its own recovery numbers and server counters (schema 1 kept them in parallel
lists, matched back by the order of applied faults' starts, and the server's view as free rows).
Written by the run layer through `RunDir.save_faults`, read by every reader through
`RunDir.faults()`: a damaged file is a `FileProblem`, never a traceback. The per-fault types are
the faults room's (workbench.faults.outcome), so the checks judge the same objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from workbench.faults.outcome import (
    Distribution,
    FaultObservation,
    FaultOutcome,
    FaultRecord,
    HealthAfter,
    ProbeInfo,
    RecoveryNumbers,
    ServerCounters,
    outcomes,
)
from workbench.faults.schedule import FaultSpec
from workbench.jsonio import read_json

FAULTS_FILE = "faults.json"
FAULTS_SCHEMA = 2


@dataclass(frozen=True)
class FileProblem:
    """A run file that exists but cannot be read: which one and why (the report says so)."""

    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name} is unreadable: {self.reason}"


class FaultsDoc(BaseModel):
    """A run phase's faults: the schedule's seed and repetition, each fault with what it came to,
    the distribution of each recovery metric, the stack's health after the last fault."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    schema_version: int = Field(default=FAULTS_SCHEMA, alias="schema")
    seed: int | None = None
    t0: float | None = None  # the injector's t=0 (unix s)
    run_t0: float | None = None  # the run phase's own t=0 (its first line), when known
    repeat: int = 1
    every_s: float | None = None
    faults: list[FaultOutcome] = Field(default_factory=list)
    distribution: dict[str, Distribution] = Field(default_factory=dict)
    healthy_after: HealthAfter | None = None
    server_counters: list[str] = Field(default_factory=list)  # the counters' names, in order
    server_problem: str | None = None  # why the server's view could not be taken at all
    #: the one error count's grace (workbench.faults.spans): each recovery's errors_during is it;
    #: None: written before it (errors_during / errors_after are that file's own two counts)
    error_grace_s: float | None = None
    probe: ProbeInfo | None = None  # the independent availability probe (None: it did not run)

    @property
    def zero(self) -> float | None:
        """The clock's zero for times shown relative to the run phase."""
        return self.run_t0 if self.run_t0 is not None else self.t0

    def observation(self) -> FaultObservation:
        return FaultObservation(tuple(self.faults), self.healthy_after)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


SERVER_KEYS = frozenset({"index", "label", "start", "end"})  # a schema-1 server row's own fields


def _known(d: Any, model: type[BaseModel]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k in model.model_fields} if isinstance(d, dict) else {}


def _server_v1(rows: Any) -> tuple[list[str], dict[int, ServerCounters], str | None]:
    """Schema 1's `server_view`: free rows {index, label, start, end, <counter>: value} or
    [{"error": ...}] → the names, each fault's counters by index, the problem."""
    view = [v for v in rows or [] if isinstance(v, dict)]
    names: list[str] = []
    for v in view:
        names += [k for k in v if k not in SERVER_KEYS and k != "error" and k not in names]
    by_index = {
        int(v["index"]): ServerCounters(
            start=v["start"], end=v["end"], counters={n: v.get(n) for n in names}
        )
        for v in view
        if "index" in v
    }
    return names, by_index, next((str(v["error"]) for v in view if "error" in v), None)


def migrate_faults(data: dict[str, Any]) -> dict[str, Any]:
    """A faults.json of any schema as schema-2 fields. Schema 1 (written before this model):
    free fault dicts, recoveries in a parallel list (one per applied fault, in the order of their
    starts), the server's view as free rows; keys no longer written are dropped."""
    if int(data.get("schema", 1)) >= FAULTS_SCHEMA:
        return data
    records = []
    for f in data.get("faults") or []:
        rec = _known(f, FaultRecord)
        rec["spec"] = _known(rec.get("spec"), FaultSpec)
        records.append(FaultRecord.model_validate(rec))
    recs = [RecoveryNumbers.model_validate(r) for r in data.get("recoveries") or []]
    names, server, problem = _server_v1(data.get("server_view"))
    healthy = data.get("healthy_after")
    return {
        "schema": FAULTS_SCHEMA,
        "seed": data.get("seed"),
        "t0": data.get("t0"),
        "run_t0": data.get("run_t0"),
        "repeat": data.get("repeat", 1),
        "every_s": data.get("every_s"),
        "faults": outcomes(records, recs, server),
        "distribution": data.get("distribution") or {},
        "healthy_after": _known(healthy, HealthAfter) if isinstance(healthy, dict) else None,
        "server_counters": names,
        "server_problem": problem,
    }


def read_faults(path: Path) -> FaultsDoc | FileProblem | None:
    """faults.json of a run directory; None when the run had no faults."""
    file = path / FAULTS_FILE
    if not file.is_file():
        return None
    try:
        data = read_json(file)
        if not isinstance(data, dict):
            return FileProblem(FAULTS_FILE, "not an object")
        return FaultsDoc.model_validate(migrate_faults(data))
    except (OSError, ValueError, ValidationError, TypeError, AttributeError, KeyError) as exc:
        return FileProblem(FAULTS_FILE, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
