"""Verdicts on faults (post phase): unavailability, recovery and errors per fault, thresholds as
options (`max_unavailability_s`, `max_recovery_s`, `max_errors_per_fault`).

The observation is the run's fault record with its recovery numbers: `ctx.faults` (the conductor's
post checks pass `RunFaults.observation()`) = {"faults": [FaultRecord dicts], "recoveries":
[Recovery dicts], "healthy_after": {...}}, as faults.json holds them. A fault that never took
effect, or a number the data cannot tell, makes the verdict `unknown` with the reason; no faults
scheduled: `skipped`. `fault_stack_healthy`: healthy again after the last fault, and how long.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.checks.base import CheckContext, Judgement, NotApplicable, Unobservable, register


def gather_healthy(ctx: CheckContext) -> dict[str, Any]:
    obs = ctx.faults
    if not obs or not obs.get("faults"):
        raise NotApplicable("no faults in this run")
    if not obs.get("healthy_after"):
        raise Unobservable("the stack's health after the last fault was not observed")
    return {"healthy_after": obs["healthy_after"], "labels": [f["label"] for f in obs["faults"]]}


def judge_healthy(obs: Mapping[str, Any], options: Mapping[str, Any]) -> Judgement:
    """Every healthy service healthy again after the last fault's undo, within
    `max_healthy_after_s` (default 60 s), and nothing left behind (paused, stopped, rules)."""
    h = obs["healthy_after"]
    limit = float(options.get("max_healthy_after_s", 60.0))
    ev = {**h, "limit": limit, "faults": obs["labels"]}
    left = h.get("leftovers") or []
    if left:
        return Judgement("fail", f"fault state left behind: {'; '.join(left)}", ev)
    if not h.get("healthy"):
        bad = {s: v for s, v in (h.get("health") or {}).items() if v != "healthy"}
        return Judgement(
            "fail", f"not healthy {h.get('waited_s', 0):.1f} s after the last fault: {bad}", ev
        )
    took = float(h["took_s"])
    return Judgement(
        "pass" if took <= limit else "fail",
        f"stack healthy {took:.1f} s after the last fault (limit {limit:g})",
        ev,
    )


def gather_faults(ctx: CheckContext) -> dict[str, Any]:
    obs = ctx.faults
    if obs is None:
        raise NotApplicable("no faults in this run")
    if not obs.get("faults"):
        raise NotApplicable("no faults in this run")
    if len(obs.get("recoveries") or []) != len(obs["faults"]):
        raise Unobservable("recovery numbers missing for some faults", {"faults": obs["faults"]})
    return dict(obs)


def _judge(obs: Mapping[str, Any], metric: str, limit: float | None, what: str) -> Judgement:
    if limit is None:
        return Judgement("skipped", f"no threshold for {what}")
    rows, unknown, failed = [], [], []
    applied = {r["label"]: r for r in obs["faults"]}
    for rec, fault in zip(obs["recoveries"], obs["faults"], strict=True):
        value = rec.get(metric)
        row = {"fault": fault["label"], "start": fault.get("start"), metric: value}
        if not fault.get("took_effect"):
            row["reason"] = fault.get("error") or "the fault did not take effect"
            unknown.append(row)
        elif value is None:
            row["reason"] = (rec.get("reasons") or {}).get(metric, "cannot tell")
            unknown.append(row)
        elif float(value) > limit:
            failed.append(row)
        rows.append(row)
    ev = {"limit": limit, "metric": metric, "faults": rows, "labels": sorted(applied)}
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


def judge_unavailability(obs: Any, options: Mapping[str, Any]) -> Judgement:
    limit = options.get("max_unavailability_s")
    return _judge(
        obs, "unavailability_s", None if limit is None else float(limit), "unavailability s"
    )


def judge_recovery(obs: Any, options: Mapping[str, Any]) -> Judgement:
    limit = options.get("max_recovery_s")
    return _judge(
        obs, "throughput_recovery_s", None if limit is None else float(limit), "recovery s"
    )


def judge_errors(obs: Any, options: Mapping[str, Any]) -> Judgement:
    limit = options.get("max_errors_per_fault")
    total = [
        {**r, "errors": (r.get("errors_during") or 0) + (r.get("errors_after") or 0)}
        if r.get("errors_during") is not None
        else {**r, "errors": None}
        for r in obs["recoveries"]
    ]
    return _judge(
        {**obs, "recoveries": total},
        "errors",
        None if limit is None else float(limit),
        "errors per fault",
    )


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
    "errors during and after each fault under `max_errors_per_fault`",
    gather_faults,
    judge_errors,
)
