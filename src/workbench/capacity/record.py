"""capacity.json: one search, typed: the objective, the settings, every probe (offered, achieved,
percentile and its bound, slope, verdict and why, its run directory), the search path and the
capacity as an interval (or the limit that stopped the search). Schema 1 is the first shape; a
newer reader migrates older ones in `read_capacity` (nothing older exists yet)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from workbench.capacity.judge import Limit, ProbeVerdict
from workbench.capacity.objective import Objective
from workbench.errors import ConfigError
from workbench.jsonio import write_json

CAPACITY_SCHEMA = 1
Step = Literal["unthrottled", "widen", "step-down", "bisect", "repeat", "final"]
SearchStatus = Literal["running", "found", "limited", "unknown", "interrupted", "error"]
# the one exit-code contract: 0 a capacity was found, 2 unknown with the limit named, 3 error
EXIT_CODES = {"found": 0, "limited": 2, "unknown": 2, "error": 3, "interrupted": 130, "running": 3}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Probe(_Model):
    index: int
    step: Step
    offered: float  # ops/s; 0: unthrottled
    achieved: float
    verdict: ProbeVerdict | Literal["measured"]  # measured: an unthrottled probe, not judged
    why: list[str] = Field(default_factory=list)
    limit: Limit | None = None
    percentile_ms: float | None = None
    percentile_bound_ms: float | None = None
    samples: int = 0
    slope_ms_per_s: float | None = None
    slope_p: float | None = None
    errors: int = 0
    operations: int = 0
    service_p50_ms: float | None = None
    service_p99_ms: float | None = None
    intended_p50_ms: float | None = None
    intended_p99_ms: float | None = None
    run_id: str = ""
    run_dir: str = ""
    wall_s: float | None = None

    def as_json(self) -> dict[str, Any]:
        """The probe as `findmax --json` prints it."""
        keep = ("offered", "achieved", "percentile_ms", "percentile_bound_ms", "verdict")
        return {**{k: getattr(self, k) for k in keep}, "why": "; ".join(self.why)}


class Interval(_Model):
    low: float
    high: float
    unit: str = "ops/s"

    @property
    def middle(self) -> float:
        return (self.low + self.high) / 2


class Settings(_Model):
    start: float | None = None  # ops/s; None: from an unthrottled probe
    start_fraction: float = 0.5
    factor: float = 2.0
    precision: float = 0.05  # relative bracket width to stop at
    repeats: int = 3  # the final bracket's re-runs, each end
    max_probes: int = 30
    max_error_rate: float = 0.0
    probe_duration_s: float = 10.0
    confidence: float = 0.95
    noise_z: float = 1.5  # the interval is at least the middle ± noise_z × the measured noise
    tolerate_host: bool = False  # a contended host named, not refused (a shared machine)


class CapacityDoc(_Model):
    schema_version: int = Field(default=CAPACITY_SCHEMA, alias="schema")
    id: str
    subject: str = ""
    workload: str = ""
    target: str = ""  # what was probed: "etcd (stack wb-etcd-…)" / "basic binding, no stack"
    objective: Objective
    settings: Settings = Field(default_factory=Settings)
    status: SearchStatus = "running"
    capacity: Interval | None = None
    limit: Limit | None = None
    limit_text: str = ""
    noise: float | None = None  # relative run-to-run spread measured by repeated probes
    probes: list[Probe] = Field(default_factory=list)
    path: list[tuple[float | None, float | None]] = Field(default_factory=list)  # (lo, hi)
    started_unix: float | None = None
    wall_s: float | None = None
    notes: list[str] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def headline(self) -> str:
        """`capacity 2,340 ops/s [2,210, 2,460] at p99 ≤ 50 ms (14 probes, 4m10s)`."""
        n = len(self.probes)
        took = ""
        if self.wall_s is not None:
            m, s = divmod(round(self.wall_s), 60)
            took = f", {m}m{s:02d}s" if m else f", {s}s"
        tail = f"at {self.objective.text()} ({n} probes{took})"
        if self.capacity is not None:
            c = self.capacity
            return f"capacity {c.middle:,.0f} ops/s [{c.low:,.0f}, {c.high:,.0f}] {tail}"
        return f"capacity unknown: {self.limit_text or self.status} {tail}"

    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def as_json(self) -> dict[str, Any]:
        """`findmax --json`: capacity, objective, limit, probes."""
        cap = None
        if self.capacity is not None:
            cap = {"low": self.capacity.low, "high": self.capacity.high, "unit": "ops/s"}
        return {
            "capacity": cap,
            "objective": self.objective.text(),
            "limit": self.limit,
            "probes": [p.as_json() for p in self.probes],
        }


def write_capacity(path: Path, doc: CapacityDoc) -> Path:
    write_json(path, doc.model_dump(mode="json", by_alias=True))
    return path


def read_capacity(path: Path) -> CapacityDoc:
    """capacity.json of any schema; a damaged one is a ConfigError naming it."""
    try:
        data = json.loads(Path(path).read_text())
        return CapacityDoc.model_validate(migrate_capacity(data))
    except (OSError, ValueError, ValidationError) as exc:
        raise ConfigError(f"{path}: not a readable capacity.json ({exc})") from None


def migrate_capacity(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 1 is the only shape so far: refuse a newer one rather than misread it."""
    version = int(data.get("schema", 1))
    if version > CAPACITY_SCHEMA:
        raise ValueError(f"schema {version} is newer than this workbench reads ({CAPACITY_SCHEMA})")
    return data
