"""Model types shared by every layer: what a check says (`Verdict`, with the evidence that made it
say so) and what a load generator reported in the terms checks need (`ClientSummary`, built by
ONE rule from a YCSB final block). Plain frozen dataclasses that round-trip through JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

VerdictStatus = Literal["pass", "fail", "unknown", "skipped"]
Phase = Literal["pre", "during", "post"]

VERDICT_STATUSES: tuple[str, ...] = ("pass", "fail", "unknown", "skipped")
PHASES: tuple[str, ...] = ("pre", "during", "post")


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check.

    status: `pass` (verified), `fail` (verified wrong), `unknown` (could not be verified: never a
    silent pass), `skipped` (does not apply, with the reason in `summary`).
    evidence: the observed values the judgement was made on (JSON-serialisable).
    started_at: unix seconds when the check started; duration_s: how long it took.
    """

    name: str
    phase: Phase
    status: VerdictStatus
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    started_at: float = 0.0
    duration_s: float = 0.0

    def __post_init__(self) -> None:
        if self.status not in VERDICT_STATUSES:
            raise ValueError(f"invalid verdict status {self.status!r}; valid: {VERDICT_STATUSES}")
        if self.phase not in PHASES:
            raise ValueError(f"invalid verdict phase {self.phase!r}; valid: {PHASES}")

    @property
    def ok(self) -> bool:
        """True when the verdict does not block a run (pass or skipped)."""
        return self.status in ("pass", "skipped")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "phase": self.phase,
            "status": self.status,
            "summary": self.summary,
            "evidence": self.evidence,
            "started_at": self.started_at,
            "duration_s": self.duration_s,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Verdict:
        return cls(
            name=str(d["name"]),
            phase=d["phase"],
            status=d["status"],
            summary=str(d.get("summary", "")),
            evidence=dict(d.get("evidence") or {}),
            started_at=float(d.get("started_at", 0.0)),
            duration_s=float(d.get("duration_s", 0.0)),
        )


@dataclass(frozen=True)
class ClientSummary:
    """What the load generator reported about one run phase, in the terms checks need.

    operations: successful operations by name (READ, UPDATE, ...; no TOTAL, no *_ERROR rows);
    errors: failed operations by name (READ for READ_ERROR, ...). `total_ops` prefers the tool's
    TOTAL row (READ_MODIFY_WRITE is not in it: its inner READ and UPDATE are).
    cpu_seconds / cpu_cores: the generator's CPU time over the run and the cores it could use
    (None when not measured; the client-saturation check is then `unknown`).
    """

    operations: dict[str, int]
    errors: dict[str, int]
    run_seconds: float | None
    total: int | None = None
    threads: int | None = None
    target_ops: float | None = None
    cpu_seconds: float | None = None
    cpu_cores: float | None = None
    # reads/updates/scans that found no record (READ for READ_NOTFOUND, ...), apart from both
    not_found: dict[str, int] = field(default_factory=dict)
    # the tool's facts: errors caused by our own SIGINT ending a time-bounded run (counted apart
    # by error_rate and ycsb_traffic, with the reason) and whether it reports NOTFOUND rows at all
    interrupt_errors: int = 0
    interrupt_reason: str = ""
    not_found_reported: bool = True

    @property
    def total_ops(self) -> int:
        if self.total is not None:
            return self.total
        return sum(n for op, n in self.operations.items() if op != "READ_MODIFY_WRITE")

    @property
    def total_errors(self) -> int:
        return sum(self.errors.values())

    @property
    def achieved_ops(self) -> float | None:
        if not self.run_seconds or self.run_seconds <= 0:
            return None
        return self.total_ops / self.run_seconds

    def to_dict(self) -> dict[str, Any]:
        return {
            "operations": dict(self.operations),
            "errors": dict(self.errors),
            "run_seconds": self.run_seconds,
            "total_ops": self.total_ops,
            "total_errors": self.total_errors,
            "threads": self.threads,
            "target_ops": self.target_ops,
            "cpu_seconds": self.cpu_seconds,
            "cpu_cores": self.cpu_cores,
            "not_found": dict(self.not_found),
            "interrupt_errors": self.interrupt_errors,
            "interrupt_reason": self.interrupt_reason,
            "not_found_reported": self.not_found_reported,
        }

    @classmethod
    def from_final_rows(
        cls,
        rows: Any,
        run_seconds: float | None,
        *,
        threads: int | None = None,
        target_ops: float | None = None,
        cpu_seconds: float | None = None,
        cpu_cores: float | None = None,
    ) -> ClientSummary:
        """Build from a YCSB final block: any rows with `.operation` and `.count` attributes.

        `<OP>_ERROR` rows count as errors, `<OP>_NOTFOUND` rows as operations that found no
        record (neither success nor error); TOTAL is kept as the total; rows with a `-` in the
        name (the native generator's `READ-INTENDED`) and the TARGET row are not operations.
        This is the one rule: the parser's result, the conductor and the report all use it.
        """
        ops: dict[str, int] = {}
        errs: dict[str, int] = {}
        nf: dict[str, int] = {}
        total: int | None = None
        for row in rows:
            name = str(row.operation).upper()
            count = row.count
            if count is None or "-" in name or name == "TARGET":
                continue
            if name == "TOTAL":
                total = int(count)
            elif name.endswith("_ERROR"):
                errs[name.removesuffix("_ERROR")] = int(count)
            elif name.endswith("_NOTFOUND"):
                nf[name.removesuffix("_NOTFOUND")] = int(count)
            else:
                ops[name] = int(count)
        return cls(ops, errs, run_seconds, total, threads, target_ops, cpu_seconds, cpu_cores, nf)
