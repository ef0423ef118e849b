"""Several runs side by side as one frame (the compare notebook's table): the run phase's numbers
from each final block and their difference to a baseline run in percent. Statistics over
repeated runs (confidence intervals, tests) are not here: they live in workbench.stats. Runs with
faults also show their recovery numbers side by side (report.faults.compare_columns)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.artifacts import RunDir

from .faults import compare_columns
from .summary import summarize

COMPARE_METRICS = (
    "ops/s",
    "p50 ms",
    "p99 ms",
    "intended p99 ms",
    "worst op p99 ms",
    "avg ms",
    "operations",
    "errors",
)


def _row(path: Path | str) -> dict[str, Any]:
    rd = RunDir(Path(path))
    s = summarize(rd)
    n = s.numbers
    params = rd.record.params
    return {
        "run": s.run_id,
        "subject": s.subject,
        "workload": s.workload,
        "status": s.status,
        "threads": params.get("threads"),
        "target": params.get("target"),
        "ops/s": n.throughput,
        "p50 ms": n.p50_ms,
        "p99 ms": n.p99_ms,
        "intended p99 ms": n.intended_p99_ms,
        "worst op p99 ms": n.worst_p99_ms,
        "worst op": n.worst_p99_operation,
        "avg ms": n.avg_ms,
        "operations": n.operations,
        "errors": n.errors,
        **compare_columns(rd),  # faults and their recovery numbers (median, max)
    }


def compare_runs(run_dirs: Iterable[Path | str], baseline: int = 0) -> pd.DataFrame:
    """One row per run (run phase numbers from the final block) plus `Δ% <metric>` columns: the
    difference to the baseline run in percent (missing when either side is missing or zero).
    `p99 ms` is YCSB's TOTAL p99 (service time); `intended p99 ms` the TOTAL-INTENDED p99 (from
    the intended send time, with a target rate); `worst op p99 ms` the worst operation's."""
    df = pd.DataFrame([_row(d) for d in run_dirs])
    if df.empty:
        return df
    df = df.set_index("run")
    base = df.iloc[baseline]
    for m in COMPARE_METRICS:
        vals = pd.to_numeric(df[m], errors="coerce").astype(float)
        b = pd.to_numeric(pd.Series([base[m]]), errors="coerce").astype(float).iloc[0]
        df[f"Δ% {m}"] = (vals - b) / b * 100.0 if b and not pd.isna(b) else float("nan")
    return df
