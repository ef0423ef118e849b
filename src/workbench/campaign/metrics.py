"""One run's numbers for a campaign: `run_metrics(run_dir)`, the only reader of a run directory here.

Status and start come from run.json (the typed record); the headline numbers are the
report's one reading of YCSB's final block (`report.summary.final_numbers`, a `Headline`: TOTAL
p50/p99/p99.9 service time, the TOTAL-INTENDED p99 with a target rate), the throughput and errors
the record's own when it has them; the check verdicts counted from checks.json. Statistics are
not here (stats.py).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

from workbench.artifacts import OperatorDoc, RunDir
from workbench.artifacts.record import Headline
from workbench.errors import ConfigError
from workbench.model import Verdict
from workbench.operator.scores import FaultScore
from workbench.report.summary import final_numbers

# Runs whose numbers count in the statistics: passed, and unknown (no check failed, some could not
# be told, e.g. series_aligned without per-interval counts: the measurement itself stands; the
# verdict counts are in runs.parquet and the report). Any other status (failed checks, error,
# aborted) is recorded and counted as excluded.
COUNTED_STATUSES = ("passed", "unknown")
# A run the host spoiled (not the subject): its host_contention check saw other load (fail) or
# could not tell (unknown), or the workbench itself broke (status error). A campaign queues it
# again (CampaignFile.rerun_spoiled).
HOST_CHECK = "host_contention"
OPERATOR_CHECK_PREFIX = "operator_"


@dataclass(frozen=True)
class RunNumbers:
    """What a campaign keeps of one run directory."""

    run_id: str
    status: str
    started: str
    numbers: Headline
    verdicts: dict[str, int] = field(default_factory=dict)
    host: str | None = None  # the host_contention verdict, when the run has one
    #: every failed check was an operator check (operator_*): the operator's score failed, not
    #: the measurement (the no-operator control of a persistent fault fails operator_recovered)
    operator_fail_only: bool = False

    @property
    def counted(self) -> bool:
        """Whether the run's numbers enter the statistics (a run failed only by the operator
        checks does: its numbers are what the campaign compares)."""
        ok = self.status in COUNTED_STATUSES or (
            self.status == "failed" and self.operator_fail_only
        )
        return ok and self.numbers.throughput is not None

    @property
    def spoiled(self) -> str | None:
        """Why the host spoiled this run (`host_contention fail`, `workbench error`), or None."""
        if self.status == "error":
            return "workbench error"
        if self.host in ("fail", "unknown"):
            return f"{HOST_CHECK} {self.host}"
        return None


def run_metrics(run_dir: Path) -> RunNumbers:
    """A run directory's status and headline numbers (missing numbers are None)."""
    rd = RunDir(Path(run_dir))
    rec = rd.record
    total = final_numbers(rd.ycsb_final("run"))  # the report's one reading of a final block
    kept = rec.summary
    verdicts = _verdicts(rd)
    numbers = total.model_copy(
        update={
            "throughput": total.throughput if kept.throughput is None else kept.throughput,
            "errors": total.errors if kept.errors is None else kept.errors,
        }
    )
    return RunNumbers(
        run_id=rec.run_id,
        status=rec.status,
        started=rec.started,
        numbers=numbers,
        verdicts=_verdict_counts(verdicts) or dict(kept.verdicts),
        host=next((v.status for v in verdicts if v.name == HOST_CHECK), None),
        operator_fail_only=_operator_fail_only(verdicts),
    )


def _operator_fail_only(verdicts: list[Verdict]) -> bool:
    failed = [v.name for v in verdicts if v.status == "fail"]
    return bool(failed) and all(n.startswith(OPERATOR_CHECK_PREFIX) for n in failed)


@dataclass(frozen=True)
class OperatorNumbers:
    """One run's operator scores for a campaign: each score's median over the run's faults
    (None: no fault had it), and how many faults recovered / were censored (watched to the end,
    never whole: not recovered) / neither (`undetermined`: the scores could not tell)."""

    values: dict[str, float | None] = field(default_factory=dict)
    recovered: int = 0
    not_recovered: int = 0
    undetermined: int = 0


# campaign metric (workbench.stats) -> FaultScore field
OPERATOR_METRICS = {
    "operator_detect_s": "detect_s",
    "operator_action_s": "first_action_s",
    "operator_recovery_s": "recovery_s",
    "operator_unavailability_s": "unavailability_s",
}


def operator_faults(run_dir: Path) -> list[FaultScore] | None:
    """A run's scored faults (None: no operator.json, or it is unreadable or has no scores)."""
    doc = RunDir(Path(run_dir)).operator()
    if not isinstance(doc, OperatorDoc) or doc.scores is None:
        return None
    return list(doc.scores.faults)


def operator_numbers(run_dir: Path) -> OperatorNumbers | None:
    """A run's operator scores (None: no operator.json, or it is unreadable or has no scores)."""
    faults = operator_faults(run_dir)
    if faults is None:
        return None
    values: dict[str, float | None] = {}
    for metric, name in OPERATOR_METRICS.items():
        known = [float(v) for f in faults if (v := getattr(f, name)) is not None]
        values[metric] = statistics.median(known) if known else None
    return OperatorNumbers(
        values,
        recovered=sum(1 for f in faults if f.recovered),
        not_recovered=sum(1 for f in faults if f.censored),
        undetermined=sum(1 for f in faults if not f.recovered and not f.censored),
    )


def _verdicts(rd: RunDir) -> list[Verdict]:
    try:
        return list(rd.verdicts())
    except ConfigError:  # a damaged checks.json: the record's own counts stand in
        return []


def _verdict_counts(verdicts: list[Verdict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in verdicts:
        counts[v.status] = counts.get(v.status, 0) + 1
    return counts
