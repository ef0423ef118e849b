"""One run's numbers for a campaign: `run_metrics(run_dir)`, the only reader of a run directory here.

Status, start, parameters and the headline throughput come from run.json (the typed record); the
TOTAL p50/p99/p99.9 from YCSB's final block read the report's way (`report.summary.final_numbers`:
run.json's summary keeps only p99); the check verdicts counted from checks.json. Statistics are not here (stats.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.artifacts import RunDir
from workbench.errors import ConfigError
from workbench.report.summary import final_numbers

# Runs whose numbers count in the statistics: passed, and unknown (no check failed, some could not
# be told, e.g. series_aligned without per-interval counts: the measurement itself stands; the
# verdict counts are in runs.parquet and the report). Any other status (failed checks, error,
# aborted) is recorded and counted as excluded.
COUNTED_STATUSES = ("passed", "unknown")
METRIC_KEYS = ("throughput", "p50_ms", "p99_ms", "p999_ms", "errors")


def run_metrics(run_dir: Path) -> dict[str, Any]:
    """{'run_id', 'status', 'started', 'started_unix', 'ended_unix', 'params', 'throughput',
    'p50_ms', 'p99_ms', 'p999_ms', 'errors', 'verdicts': {status: count}}; missing numbers are None.
    """
    rd = RunDir(Path(run_dir))
    rec = rd.record
    total = final_numbers(rd.ycsb_final("run"))  # the report's one reading of a final block
    throughput = rec.summary.throughput
    if throughput is None:
        throughput = total.throughput
    errors = rec.summary.errors
    return {
        "run_id": rec.run_id,
        "status": rec.status,
        "started": rec.started,
        "started_unix": rec.started_unix,
        "ended_unix": rec.ended_unix,
        "params": rec.params,
        "throughput": throughput,
        "p50_ms": total.p50_ms,
        "p99_ms": total.p99_ms,
        "p999_ms": total.p999_ms,
        "errors": None if errors is None else float(errors),
        "verdicts": _verdict_counts(rd) or dict(rec.summary.verdicts),
    }


def counted(metrics: dict[str, Any]) -> bool:
    """Whether a run's numbers enter the statistics."""
    return metrics.get("status") in COUNTED_STATUSES and metrics.get("throughput") is not None


def _verdict_counts(rd: RunDir) -> dict[str, int]:
    try:
        verdicts = rd.verdicts()
    except ConfigError:  # a damaged checks.json: the record's own counts stand in
        return {}
    counts: dict[str, int] = {}
    for v in verdicts:
        counts[v.status] = counts.get(v.status, 0) + 1
    return counts
