"""The fault checks' judges on hand-made fault records and recovery numbers."""

from __future__ import annotations

from typing import Any

import pytest

from workbench.checks.base import CheckContext, NotApplicable
from workbench.checks.faults import (
    gather_faults,
    judge_errors,
    judge_recovery,
    judge_unavailability,
)
from workbench.faults.outcome import FaultObservation, FaultOutcome, RecoveryNumbers
from workbench.faults.schedule import parse_fault


def _obs(*recs: dict[str, Any], took: bool = True) -> FaultObservation:
    spec = parse_fault("kill:leader@0+1")
    faults = [
        FaultOutcome(
            index=i,
            spec=spec,
            label=f"kill:leader#{i}",
            scheduled_start=10.0 * i,
            scheduled_end=10.0 * i + 1,
            start=10.0 * i,
            applied=10.0 * i if took else None,
            took_effect=took,
            recovery=RecoveryNumbers.model_validate(r) if took else None,
        )
        for i, r in enumerate(recs)
    ]
    return FaultObservation(tuple(faults))


GOOD = {
    "unavailability_s": 1.2,
    "throughput_recovery_s": 3.0,
    "errors_during": 2.0,
    "errors_after": 1.0,
}
SLOW = {
    "unavailability_s": 7.0,
    "throughput_recovery_s": None,
    "errors_during": 9.0,
    "errors_after": 0.0,
    "reasons": {"throughput_recovery_s": "not back by the end of the observed span (40.0 s)"},
}


def test_pass_fail_unknown() -> None:
    opts = {"max_unavailability_s": 5, "max_recovery_s": 10, "max_errors_per_fault": 5}
    assert judge_unavailability(_obs(GOOD, GOOD), opts).status == "pass"
    j = judge_unavailability(_obs(GOOD, SLOW), opts)
    assert j.status == "fail" and "7 > 5" in j.summary
    r = judge_recovery(_obs(GOOD, SLOW), opts)
    assert r.status == "unknown" and "not back" in r.summary
    # the one error count: errors_during (the fault's span + grace); no second count after it
    e = judge_errors(_obs(GOOD, SLOW), opts)
    assert e.status == "fail" and [f["errors"] for f in e.evidence["faults"]] == [2.0, 9.0]
    blind = {**SLOW, "errors_during": None, "reasons": {"errors_during": "no per-interval"}}
    u = judge_errors(_obs(GOOD, blind), {**opts, "max_errors_per_fault": 10})
    assert u.status == "unknown" and "no per-interval" in u.summary


def test_a_fault_that_did_not_take_effect_is_unknown() -> None:
    j = judge_unavailability(_obs(GOOD, took=False), {"max_unavailability_s": 5})
    assert j.status == "unknown" and "did not take effect" in j.summary


def test_no_threshold_and_no_faults() -> None:
    assert judge_recovery(_obs(GOOD), {}).status == "skipped"
    with pytest.raises(NotApplicable):
        gather_faults(CheckContext(subject="etcd", endpoints={}))
    with pytest.raises(NotApplicable):
        gather_faults(CheckContext(subject="etcd", endpoints={}, faults=FaultObservation(())))


def test_a_number_that_cannot_be_told_is_unknown_with_its_reason() -> None:
    """An applied fault without recovery numbers (no client series) is unknown with why."""
    obs = _obs(GOOD)
    bare = obs.faults[0].model_copy(update={"recovery": None, "recovery_reason": "no series"})
    j = judge_unavailability(FaultObservation((bare,)), {"max_unavailability_s": 5})
    assert j.status == "unknown" and "no series" in j.summary
