"""A run's faults for the report and compare, read through `RunDir.faults()` (the typed
faults.json, workbench.artifacts.faults): one row per fault with its recovery numbers, the
distribution over all faults (median, max, every value), and the server's own view of each fault
(the increase of the subject's raw counters). The unavailability shown is the independent
probe's (workbench.faults.availability: the cluster endpoint could not serve its own small write
and read); the client's longest stretch without a success is the workload's stall, shown as
what it is: its threads were blocked (in a closed loop, a lost proposal holds a thread for the
server's own request timeout, whatever the cluster did meanwhile). Only reading and shaping here; the numbers are
computed by workbench.faults.recovery when the run ends, the shading of fault marks on plots is
plots.py's.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from workbench.artifacts import Distribution, FaultsDoc, RunDir
from workbench.faults.outcome import HealthAfter, ProbeInfo
from workbench.faults.spans import FAULT_GRACE_S

# the probe's numbers: metric -> (column title, unit), shown first
PROBE_METRICS: dict[str, tuple[str, str]] = {
    "unavailability_s": ("unavailability (probe)", "s"),
    "time_to_first_error_s": ("first error (probe)", "s"),
    "serve_again_s": ("served again (probe)", "s"),
    "new_leader_seen_s": ("new leader seen (server)", "s"),
}
# the workload's recovery numbers: metric -> (column title, unit) in the order the report shows
METRICS: dict[str, tuple[str, str]] = {
    "unavailability_s": ("workload stall: threads blocked", "s"),
    "throughput_recovery_s": ("throughput back to 90 %", "s"),
    "p99_recovery_s": ("p99 back under 2x", "s"),
    "time_to_first_error_s": ("first error (workload)", "s"),
    "errors_during": (f"errors (applied..undo + {FAULT_GRACE_S:g} s)", ""),
}
# faults.json written before the one error count (no `error_grace_s`): its two counts, as labelled
OLD_ERRORS: dict[str, tuple[str, str]] = {
    "errors_during": ("errors during", ""),
    "errors_after": ("errors after", ""),
}


@dataclass(frozen=True)
class FaultRow:
    """One scheduled fault as the report shows it: what was hit, when (s from the run phase's
    t=0), whether it took effect, its recovery numbers (None with the reason when they cannot be
    told) and the server's counters (None: not applied, so the server has no view of it)."""

    label: str
    service: str | None
    resolved_by: str | None
    scheduled: float
    start: float | None
    end: float | None
    took_effect: bool
    error: str | None
    metrics: dict[str, float | None]
    reasons: dict[str, str]
    server: dict[str, float | None] | None
    # the independent probe's numbers (None with the reason in probe_reasons when unknown)
    probe: dict[str, float | None] = field(default_factory=dict)
    probe_reasons: dict[str, str] = field(default_factory=dict)
    probe_open: bool = False  # the outage ran to the end of the fault's window
    probe_members: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class FaultSection:
    """What the report's Faults section shows; `problem`: faults.json could not be read."""

    rows: list[FaultRow] = field(default_factory=list)
    server: list[str] = field(default_factory=list)
    server_problem: str | None = None
    metrics: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(METRICS))
    distribution: dict[str, Distribution] = field(default_factory=dict)
    seed: int | None = None
    healthy_after: HealthAfter | None = None
    problem: str | None = None
    probe: ProbeInfo | None = None  # how the probe ran (None: no probe in this run)
    probe_metrics: dict[str, tuple[str, str]] = field(default_factory=dict)
    probe_distribution: Distribution | None = None


def _rel(t: float | None, t0: float | None) -> float | None:
    return None if t is None or t0 is None else t - t0


def metrics_of(doc: FaultsDoc) -> dict[str, tuple[str, str]]:
    """The columns of this document: the one error count, or an older file's own two."""
    return METRICS if doc.error_grace_s is not None else {**METRICS, **OLD_ERRORS}


def fault_rows(doc: FaultsDoc) -> list[FaultRow]:
    """One row per scheduled fault, in the schedule's order."""
    t0 = doc.zero
    rows = []
    for f in doc.faults:
        numbers = {m: f.metric(m) for m in metrics_of(doc)}
        probe = {
            m: (None, "no probe in this run") if f.probe is None else f.probe.value(m)
            for m in PROBE_METRICS
        }
        rows.append(
            FaultRow(
                label=f.label,
                service=f.service,
                resolved_by=f.resolved_by,
                scheduled=f.spec.start_s,
                start=_rel(f.start, t0),
                end=_rel(f.end, t0),
                took_effect=f.took_effect,
                error=f.error or f.undo_error,
                metrics={m: value for m, (value, _) in numbers.items()},
                reasons={m: why for m, (value, why) in numbers.items() if value is None},
                server=None if f.server is None else dict(f.server.counters),
                probe={m: value for m, (value, _) in probe.items()},
                probe_reasons={m: why for m, (value, why) in probe.items() if value is None},
                probe_open=f.probe is not None and f.probe.unavailability_open,
                probe_members={} if f.probe is None else dict(f.probe.members),
            )
        )
    return rows


def fault_summary(rd: RunDir) -> FaultSection | None:
    """What the report's Faults section shows (None: no faults in this run)."""
    doc = rd.faults()
    if doc is None:
        return None
    if not isinstance(doc, FaultsDoc):
        return FaultSection(problem=str(doc))
    metrics = metrics_of(doc)
    rows = fault_rows(doc)
    return FaultSection(
        rows=rows,
        probe=doc.probe,
        probe_metrics=dict(PROBE_METRICS) if doc.probe is not None else {},
        probe_distribution=_probe_distribution(rows) if doc.probe is not None else None,
        server=list(doc.server_counters),
        server_problem=doc.server_problem,
        metrics=metrics,
        distribution={m: doc.distribution[m] for m in metrics if m in doc.distribution},
        seed=doc.seed,
        healthy_after=doc.healthy_after,
    )


def _probe_distribution(rows: list[FaultRow]) -> Distribution:
    """The probe's unavailability over the faults that took effect: every value, median, max."""
    values = [r.probe.get("unavailability_s") for r in rows if r.took_effect]
    known = [v for v in values if v is not None]
    return Distribution(
        values=values,
        n=len(known),
        unknown=len(values) - len(known),
        median=statistics.median(known) if known else None,
        max=max(known) if known else None,
    )


def compare_columns(rd: RunDir) -> dict[str, Any]:
    """compare's recovery columns of one run (empty values without faults)."""
    doc = rd.faults()
    ok = doc if isinstance(doc, FaultsDoc) else None
    out: dict[str, Any] = {"faults": len(ok.faults) if ok else 0}
    for metric, short in (("unavailability_s", "unavail"), ("throughput_recovery_s", "recovery")):
        d = ok.distribution.get(metric) if ok else None
        out[f"{short} median s"] = d.median if d else None
        out[f"{short} max s"] = d.max if d else None
    healthy = ok.healthy_after if ok else None
    out["healthy after s"] = healthy.took_s if healthy else None
    return out
