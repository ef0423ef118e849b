"""The operator under test's checks (post phase), judged on its scores (workbench.operator):

- operator_detected: every applied fault had a `detect` event after its onset (within
  `operator_max_detect_s` when set; naming the faulted service when `operator_require_target`);
- operator_recovered: every fault's service whole again and holding (workbench.operator.scoring)
  within `operator_max_recovery_s` when set, else within the run; a censored fault fails;
- operator_integrity: as many voting members at the end as at the start, every loaded key read;
- operator_false_alarms: detections outside every fault's window at most
  `operator_max_false_alarms` (0), operator actions with no fault at most
  `operator_max_actions_without_fault` (0).

The options are prefixed: a subject's options are one table, and `max_recovery_s` is already
fault_recovery's (the throughput's recovery while the workbench undoes its own faults).
They are `skipped` when no operator ran and no fault stayed (the workbench undid its faults), and
operator_detected and operator_false_alarms are `skipped` in the no-operator control;
`unknown` with the reason when the operator crashed or the scores could not be computed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.checks.base import CheckContext, Judgement, NotApplicable, Unobservable, register
from workbench.operator.scores import FaultScore, OperatorObservation, OperatorScores


def gather_operator(ctx: CheckContext) -> OperatorScores:
    obs: OperatorObservation | None = ctx.operator
    if obs is None or not obs.applies:
        raise NotApplicable("no operator ran and no fault stayed (the workbench undid its faults)")
    if obs.crashed:
        raise Unobservable(f"the operator exited during the run: {obs.crashed}")
    if obs.scores is None:
        raise Unobservable(obs.reason or "no operator scores")
    return obs.scores


def gather_operator_word(ctx: CheckContext) -> OperatorScores:
    """What only an operator can do (detect, alarm, act): skipped in the no-operator control."""
    obs: OperatorObservation | None = ctx.operator
    if obs is not None and obs.applies and obs.operator == "none":
        raise NotApplicable("no operator ran (the control): nothing to detect or act")
    return gather_operator(ctx)


def _limit(options: Mapping[str, Any], name: str) -> float | None:
    value = options.get(name)
    return None if value is None else float(value)


def _row(f: FaultScore, value: float | None) -> dict[str, Any]:
    return {"fault": f.label, "onset_s": round(f.onset_s, 3), "value": value}


def judge_detected(scores: OperatorScores, options: Mapping[str, Any]) -> Judgement:
    if not scores.faults:
        raise NotApplicable("no fault was applied: nothing to detect")
    limit = _limit(options, "operator_max_detect_s")
    named = bool(options.get("operator_require_target", False))
    bad = []
    for f in scores.faults:
        if f.detect_s is None:
            bad.append(f"{f.label}: not detected")
        elif limit is not None and f.detect_s > limit:
            bad.append(f"{f.label}: detected after {f.detect_s:.1f} s > {limit:g} s")
        elif named and not f.detect_named_target:
            bad.append(f"{f.label}: the detection did not name {f.target}")
    ev = {
        "detect_s": [_row(f, f.detect_s) for f in scores.faults],
        "named_target": [f.detect_named_target for f in scores.faults],
        "max_detect_s": limit,
    }
    if bad:
        return Judgement("fail", "; ".join(bad), ev)
    worst = max(f.detect_s or 0.0 for f in scores.faults)
    return Judgement(
        "pass", f"{len(scores.faults)} fault(s) detected, the slowest after {worst:.1f} s", ev
    )


def judge_recovered(scores: OperatorScores, options: Mapping[str, Any]) -> Judgement:
    if not scores.faults:
        raise NotApplicable("no fault was applied: nothing to recover from")
    limit = _limit(options, "operator_max_recovery_s")
    bad, unsure = [], []
    for f in scores.faults:
        if f.censored:
            bad.append(f"{f.label}: not recovered ({f.reasons.get('recovery_s', '')})")
        elif f.recovery_s is None:
            unsure.append(f"{f.label}: {f.reasons.get('recovery_s', 'cannot tell')}")
        elif limit is not None and f.recovery_s > limit:
            bad.append(f"{f.label}: recovered after {f.recovery_s:.1f} s > {limit:g} s")
    ev = {
        "recovery_s": [_row(f, f.recovery_s) for f in scores.faults],
        "censored": scores.censored,
        "hold_s": scores.hold_s,
        "max_recovery_s": limit,
        "reasons": {f.label: f.reasons.get("recovery_s") for f in scores.faults},
    }
    if bad:
        return Judgement("fail", "; ".join(bad + unsure), ev)
    if unsure:
        return Judgement("unknown", "; ".join(unsure), ev)
    worst = max(f.recovery_s or 0.0 for f in scores.faults)
    return Judgement(
        "pass",
        f"{len(scores.faults)} fault(s) recovered (whole for {scores.hold_s:g} s), "
        f"the slowest after {worst:.1f} s",
        ev,
    )


def judge_integrity(scores: OperatorScores, options: Mapping[str, Any]) -> Judgement:
    i = scores.integrity
    ev = i.model_dump(mode="json")
    if i.ok is False:
        return Judgement("fail", "; ".join(i.reasons), ev)
    if i.ok is None:
        return Judgement("unknown", "; ".join(i.reasons) or "cannot tell", ev)
    left = [f.target for f in scores.faults if f.persistent and not f.recovered and f.target]
    note = f" ({', '.join(left)} left down by its fault: operator_recovered)" if left else ""
    return Judgement(
        "pass",
        f"{i.voting_end} voting members as at the start, {i.keys_readable} keys read{note}",
        ev,
    )


def judge_false_alarms(scores: OperatorScores, options: Mapping[str, Any]) -> Judgement:
    max_alarms = _limit(options, "operator_max_false_alarms") or 0.0
    max_actions = _limit(options, "operator_max_actions_without_fault") or 0.0
    alarms, actions = scores.false_alarms, scores.actions_without_fault
    ev = {
        "false_alarms": [e.model_dump(mode="json") for e in alarms[:20]],
        "actions_without_fault": [c.model_dump(mode="json") for c in actions[:20]],
        "n_false_alarms": len(alarms),
        "n_actions_without_fault": len(actions),
        "grace_s": scores.grace_s,
    }
    summary = (
        f"{len(alarms)} detection(s) outside every fault window (+{scores.grace_s:g} s), "
        f"{len(actions)} action(s) with no fault"
    )
    ok = len(alarms) <= max_alarms and len(actions) <= max_actions
    return Judgement("pass" if ok else "fail", summary, ev)


register(
    "operator_detected",
    "the operator reported each fault (`detect`) after its onset",
    gather_operator_word,
    judge_detected,
)
register(
    "operator_recovered",
    "the service whole again and holding after each fault within `operator_max_recovery_s`",
    gather_operator,
    judge_recovered,
)
register(
    "operator_integrity",
    "as many voting members at the end as at the start, every loaded key still readable",
    gather_operator,
    judge_integrity,
)
register(
    "operator_false_alarms",
    "no detection outside a fault's window, no operator action with no fault",
    gather_operator_word,
    judge_false_alarms,
)
