"""What a YCSB log holds, as typed objects and pandas frames (shared by parser and generator)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from workbench.model import ClientSummary

if TYPE_CHECKING:  # pandas is imported lazily: the native generator must start fast
    import pandas as pd

INTENDED_SUFFIX = "-INTENDED"
ERROR_SUFFIX = "_ERROR"
NOTFOUND_SUFFIX = "_NOTFOUND"


@dataclass(frozen=True)
class OpStats:
    """One operation's line of a block; ``None`` where the source has no such column."""

    operation: str
    takes_s: float | None = None
    count: int | None = None
    ops: float | None = None
    avg_us: float | None = None
    min_us: float | None = None
    max_us: float | None = None
    p50_us: float | None = None
    p90_us: float | None = None
    p95_us: float | None = None
    p99_us: float | None = None
    p999_us: float | None = None
    p9999_us: float | None = None

    @property
    def base_operation(self) -> str:
        """The operation without ``_ERROR``/``_NOTFOUND``/``-INTENDED`` decorations."""
        name = self.operation
        for suffix in (INTENDED_SUFFIX, ERROR_SUFFIX, NOTFOUND_SUFFIX):
            if name.endswith(suffix):
                name = name[: -len(suffix)]
        return name

    @property
    def kind(self) -> str:
        """``ok``, ``error``, ``notfound`` (the record did not exist) or ``intended`` (latency
        measured from the intended start)."""
        if self.operation.endswith(INTENDED_SUFFIX):
            return "intended"
        if self.operation.endswith(ERROR_SUFFIX):
            return "error"
        if self.operation.endswith(NOTFOUND_SUFFIX):
            return "notfound"
        return "ok"


STAT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(OpStats))


@dataclass(frozen=True)
class StatusBlock:
    """A block printed while the run was going (go-ycsb: cumulative; Java: per interval)."""

    index: int
    rows: tuple[OpStats, ...]
    t_s: float | None = None
    cumulative: bool = True


@dataclass(frozen=True)
class IntervalRow:
    """One operation in one status interval."""

    t_s: float
    operation: str
    count: int
    interval_count: int
    interval_ops: float | None


@dataclass(frozen=True)
class TargetReport:
    """How far an achieved rate fell behind ``target`` (native generator only)."""

    target_ops: float | None
    achieved_ops: float | None
    behind_pct: float | None
    max_lag_ms: float | None


@dataclass
class YcsbResult:
    """Everything one log held. ``complete`` says whether a final block was seen."""

    final: list[OpStats] = field(default_factory=list)
    status_blocks: list[StatusBlock] = field(default_factory=list)
    intervals: list[IntervalRow] = field(default_factory=list)
    run_seconds: float | None = None
    properties: dict[str, str] = field(default_factory=dict)
    target: TargetReport | None = None
    styles: list[str] = field(default_factory=list)
    unknown_lines: list[str] = field(default_factory=list)
    raw_samples: list[tuple[str, int, int]] = field(default_factory=list)
    complete: bool = False

    def get(self, operation: str) -> OpStats | None:
        """The final row for ``operation``, or ``None``."""
        for row in self.final:
            if row.operation == operation:
                return row
        return None

    def error_count(self) -> int:
        """Sum of the ``Count`` of every ``<OP>_ERROR`` final row."""
        return sum(r.count or 0 for r in self.final if r.kind == "error")

    def not_found_count(self) -> int:
        """Sum of the ``Count`` of every ``<OP>_NOTFOUND`` final row."""
        return sum(r.count or 0 for r in self.final if r.kind == "notfound")

    def client_summary(
        self,
        *,
        threads: int | None = None,
        target_ops: float | None = None,
        cpu_seconds: float | None = None,
        cpu_cores: float | None = None,
    ) -> ClientSummary:
        """The final block in the terms checks need (``workbench.model.ClientSummary``).

        Successful operations exclude TOTAL and the ``-INTENDED`` rows (same operations, other
        clock); errors and not-found counts are keyed by the base operation (READ for READ_ERROR
        and for READ_NOTFOUND).
        """
        if target_ops is None and self.target is not None:
            target_ops = self.target.target_ops
        return ClientSummary.from_final_rows(
            self.final,
            self.run_seconds,
            threads=threads,
            target_ops=target_ops,
            cpu_seconds=cpu_seconds,
            cpu_cores=cpu_cores,
        )

    def final_frame(self) -> pd.DataFrame:
        """The final block: one row per operation, columns as in ``OpStats``."""
        # imported here: pandas (0.5 s) only when a frame is asked for; the generator starts fast
        import pandas as pd

        return pd.DataFrame([asdict(r) for r in self.final], columns=list(STAT_FIELDS))

    def intervals_frame(self) -> pd.DataFrame:
        """Per-interval series: one row per operation per interval."""
        # imported here: pandas (0.5 s) only when a frame is asked for; the generator starts fast
        import pandas as pd

        cols = [f.name for f in fields(IntervalRow)]
        return pd.DataFrame([asdict(r) for r in self.intervals], columns=cols)

    def raw_frame(self) -> pd.DataFrame:
        """raw/CSV samples: operation, timestamp_us, latency_us."""
        # imported here: pandas (0.5 s) only when a frame is asked for; the generator starts fast
        import pandas as pd

        return pd.DataFrame(self.raw_samples, columns=["operation", "timestamp_us", "latency_us"])

    def to_json_dict(self) -> dict[str, Any]:
        """The ``workbench ycsb parse --json`` shape."""
        final = []
        for r in self.final:
            d = asdict(r)
            final.append({k: _json_number(v) for k, v in d.items()})
        intervals = [{k: _json_number(v) for k, v in asdict(r).items()} for r in self.intervals]
        return {"final": final, "intervals": intervals, "run_seconds": self.run_seconds}


def _json_number(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v
