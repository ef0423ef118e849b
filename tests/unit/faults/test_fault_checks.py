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


def _obs(*recs: dict[str, Any], took: bool = True) -> dict[str, Any]:
    faults = [
        {"label": f"kill:leader#{i}", "start": 10.0 * i, "took_effect": took, "error": None}
        for i in range(len(recs))
    ]
    return {"faults": faults, "recoveries": list(recs)}


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
    e = judge_errors(_obs(GOOD, SLOW), opts)
    assert e.status == "fail" and e.evidence["faults"][0]["errors"] == 3.0


def test_a_fault_that_did_not_take_effect_is_unknown() -> None:
    j = judge_unavailability(_obs(GOOD, took=False), {"max_unavailability_s": 5})
    assert j.status == "unknown" and "did not take effect" in j.summary


def test_no_threshold_and_no_faults() -> None:
    assert judge_recovery(_obs(GOOD), {}).status == "skipped"
    with pytest.raises(NotApplicable):
        gather_faults(CheckContext(subject="etcd", endpoints={}))
