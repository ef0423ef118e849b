"""Verdicts on faults (post phase): unavailability, recovery and errors per fault, thresholds as
options (`max_unavailability_s`, `max_recovery_s`, `max_errors_per_fault`).

The observation is the run's faults with their recovery numbers: `ctx.faults`, a
`workbench.faults.outcome.FaultObservation` (the conductor's post checks pass
`RunFaults.observation()`; a written run's `FaultsDoc.observation()` is the same). A fault that never took
effect, or a number the data cannot tell, makes the verdict `unknown` with the reason; no faults
scheduled: `skipped`. `fault_stack_healthy`: healthy again after the last fault, and how long.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from workbench.checks.base import CheckContext, Judgement, NotApplicable, Unobservable, register
from workbench.faults.outcome import FaultObservation, FaultOutcome, HealthAfter

Number = Callable[[FaultOutcome], tuple[float | None, str]]  # a fault's number and why it is None


@dataclass(frozen=True)
class HealthObservation:
    healthy_after: HealthAfter
    labels: list[str]


def gather_healthy(ctx: CheckContext) -> HealthObservation:
    obs = ctx.faults
    if obs is None or not obs.faults:
        raise NotApplicable("no faults in this run")
    if obs.healthy_after is None:
        raise Unobservable("the stack's health after the last fault was not observed")
    return HealthObservation(obs.healthy_after, obs.labels)


def judge_healthy(obs: HealthObservation, options: Mapping[str, Any]) -> Judgement:
    """Every healthy service healthy again after the last fault's undo, within
    `max_healthy_after_s` (default 60 s), and nothing left behind (paused, stopped, rules)."""
    h = obs.healthy_after
    limit = float(options.get("max_healthy_after_s", 60.0))
    ev = {**h.model_dump(mode="json"), "limit": limit, "faults": obs.labels}
    if h.leftovers:
        return Judgement("fail", f"fault state left behind: {'; '.join(h.leftovers)}", ev)
    if not h.healthy or h.took_s is None:
        bad = {s: v for s, v in h.health.items() if v != "healthy"}
        return Judgement(
            "fail", f"not healthy {h.waited_s or 0:.1f} s after the last fault: {bad}", ev
        )
    return Judgement(
        "pass" if h.took_s <= limit else "fail",
        f"stack healthy {h.took_s:.1f} s after the last fault (limit {limit:g})",
        ev,
    )


def gather_faults(ctx: CheckContext) -> FaultObservation:
    obs = ctx.faults
    if obs is None or not obs.faults:
        raise NotApplicable("no faults in this run")
    return obs


def _judge(
    obs: FaultObservation, metric: str, limit: float | None, what: str, number: Number
) -> Judgement:
    if limit is None:
        return Judgement("skipped", f"no threshold for {what}")
    rows: list[dict[str, Any]] = []
    unknown, failed = [], []
    for fault in obs.faults:
        value, why = number(fault)
        row: dict[str, Any] = {"fault": fault.label, "start": fault.start, metric: value}
        if not fault.took_effect:
            row["reason"] = fault.error or "the fault did not take effect"
            unknown.append(row)
        elif value is None:
            row["reason"] = why
            unknown.append(row)
        elif value > limit:
            failed.append(row)
        rows.append(row)
    ev = {"limit": limit, "metric": metric, "faults": rows, "labels": sorted(set(obs.labels))}
    if failed:
        worst = max(float(r[metric]) for r in failed)
        return Judgement("fail", f"{what} {worst:g} > {limit:g} in {len(failed)} fault(s)", ev)
    if unknown:
        return Judgement(
            "unknown", f"{what} unknown for {len(unknown)} fault(s): {unknown[0]['reason']}", ev
        )
    worst = max(float(r[metric]) for r in rows)
    return Judgement(
        "pass", f"{what} at most {worst:g} (limit {limit:g}) over {len(rows)} fault(s)", ev
    )


def _limit(options: Mapping[str, Any], key: str) -> float | None:
    value = options.get(key)
    return None if value is None else float(value)


def judge_unavailability(obs: FaultObservation, options: Mapping[str, Any]) -> Judgement:
    limit = _limit(options, "max_unavailability_s")
    return _judge(
        obs, "unavailability_s", limit, "unavailability s", lambda f: f.metric("unavailability_s")
    )


def judge_recovery(obs: FaultObservation, options: Mapping[str, Any]) -> Judgement:
    limit = _limit(options, "max_recovery_s")
    return _judge(
        obs,
        "throughput_recovery_s",
        limit,
        "recovery s",
        lambda f: f.metric("throughput_recovery_s"),
    )


def _errors(fault: FaultOutcome) -> tuple[float | None, str]:
    """The fault's errors: the one error count (workbench.faults.spans: the intervals it owns,
    applied..undo + grace), put on its recovery when the run finished; later errors are the
    run's own (error_rate)."""
    return fault.metric("errors_during")


def judge_errors(obs: FaultObservation, options: Mapping[str, Any]) -> Judgement:
    limit = _limit(options, "max_errors_per_fault")
    return _judge(obs, "errors", limit, "errors per fault", _errors)


register(
    "fault_stack_healthy",
    "the stack is healthy again after the last fault (how long it took), nothing left behind",
    gather_healthy,
    judge_healthy,
)
register(
    "fault_unavailability",
    "longest stretch without success per fault under `max_unavailability_s`",
    gather_faults,
    judge_unavailability,
)
register(
    "fault_recovery",
    "throughput back to 90 % within `max_recovery_s` of each fault",
    gather_faults,
    judge_recovery,
)
register(
    "fault_errors",
    "errors during each fault (applied..undo + grace) under `max_errors_per_fault`",
    gather_faults,
    judge_errors,
)
