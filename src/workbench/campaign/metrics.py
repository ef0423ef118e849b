"""One run's numbers for a campaign: `run_metrics(run_dir)`, the only reader of a run directory here.

Status, start, parameters and the headline throughput come from run.json (the typed record); the
TOTAL p50/p99/p99.9 from YCSB's final block (ycsb/run.final.csv, TOTAL row: run.json's summary
keeps only p99); the check verdicts counted from checks.json. Statistics are not here (stats.py).
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from workbench.artifacts import read_record

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
    rec = read_record(Path(run_dir))
    total = _total_row(Path(run_dir) / "ycsb" / "run.final.csv")
    throughput = rec.summary.throughput
    if throughput is None:
        throughput = _num(total.get("ops"))
    errors = rec.summary.errors
    return {
        "run_id": rec.run_id,
        "status": rec.status,
        "started": rec.started,
        "started_unix": rec.started_unix,
        "ended_unix": rec.ended_unix,
        "params": rec.params,
        "throughput": throughput,
        "p50_ms": _ms(total.get("p50_us")),
        "p99_ms": _ms(total.get("p99_us")),
        "p999_ms": _ms(total.get("p999_us")),
        "errors": None if errors is None else float(errors),
        "verdicts": _verdict_counts(Path(run_dir) / "checks.json") or dict(rec.summary.verdicts),
    }


def counted(metrics: dict[str, Any]) -> bool:
    """Whether a run's numbers enter the statistics."""
    return metrics.get("status") in COUNTED_STATUSES and metrics.get("throughput") is not None


def _total_row(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row.get("operation") == "TOTAL":
                return row
    return {}


def _num(text: str | None) -> float | None:
    try:
        value = float(text) if text not in (None, "") else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _ms(text: str | None) -> float | None:
    us = _num(text)
    return None if us is None else us / 1000.0


def _verdict_counts(path: Path) -> dict[str, int]:
    if not path.is_file():
        return {}
    counts: dict[str, int] = {}
    for v in json.loads(path.read_text()):
        status = str(v.get("status", "unknown")) if isinstance(v, dict) else "unknown"
        counts[status] = counts.get(status, 0) + 1
    return counts
