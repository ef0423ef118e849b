"""The operator checks: judged on typed scores, skipped without an operator or a persistent fault,
unknown when the operator crashed or the data cannot tell."""

from __future__ import annotations

from workbench.artifacts import OperatorDoc, OperatorExit
from workbench.checks import CheckContext, run_check
from workbench.operator.contract import ContainerEvent, OperatorEvent
from workbench.operator.scores import FaultScore, Integrity, OperatorObservation, OperatorScores

NAMES = ("operator_detected", "operator_recovered", "operator_integrity", "operator_false_alarms")


def verdicts(obs: OperatorObservation | None, **options: object) -> dict[str, tuple[str, str]]:
    ctx = CheckContext(subject="etcd", endpoints={}, options=dict(options), operator=obs)
    return {n: (v.status, v.summary) for n in NAMES for v in [run_check(n, ctx, "post")]}


def fault(**kw: object) -> FaultScore:
    base: dict = {"index": 0, "label": "kill:follower", "target": "etcd1", "onset_s": 15.0}
    base.update(kw)
    return FaultScore(**base)


GOOD = OperatorScores(
    faults=[fault(detect_s=1.5, detect_named_target=True, recovered=True, recovery_s=7.0)],
    integrity=Integrity(voting_start=3, voting_end=3, keys_loaded=10, keys_readable=10, ok=True),
)


def test_a_good_operator_passes_every_check() -> None:
    got = verdicts(OperatorObservation("reference", True, GOOD))
    assert {s for s, _ in got.values()} == {"pass"}
    assert "after 7.0 s" in got["operator_recovered"][1]


def test_without_an_operator_or_a_persistent_fault_they_are_skipped() -> None:
    for obs in (None, OperatorObservation("none", False, GOOD)):
        assert {s for s, _ in verdicts(obs).values()} == {"skipped"}


def test_the_control_leaves_the_member_down_and_fails_recovered() -> None:
    control = OperatorScores(
        faults=[fault(censored=True, censored_at_s=45.0, reasons={"recovery_s": "not recovered"})],
        integrity=GOOD.integrity,
    )
    got = verdicts(OperatorObservation("none", True, control))
    assert (
        got["operator_recovered"][0] == "fail" and "not recovered" in got["operator_recovered"][1]
    )
    assert got["operator_detected"][0] == "skipped"  # nobody to detect: the control
    assert got["operator_false_alarms"][0] == "skipped"
    assert got["operator_integrity"][0] == "pass"


def test_thresholds_are_options() -> None:
    got = verdicts(
        OperatorObservation("reference", True, GOOD),
        operator_max_recovery_s=5,
        operator_max_detect_s=1,
    )
    assert got["operator_recovered"][0] == "fail" and "> 5 s" in got["operator_recovered"][1]
    assert got["operator_detected"][0] == "fail"
    named = GOOD.model_copy(update={"faults": [fault(detect_s=1.0, detect_named_target=False)]})
    got = verdicts(OperatorObservation("x", True, named), operator_require_target=True)
    assert "did not name etcd1" in got["operator_detected"][1]


def test_a_crashed_operator_or_missing_data_is_unknown_with_the_reason() -> None:
    got = verdicts(OperatorObservation("img:1", True, GOOD, crashed="exit 1: panic"))
    assert {s for s, _ in got.values()} == {"unknown"}
    assert "exit 1: panic" in got["operator_integrity"][1]
    blind = OperatorScores(
        faults=[fault(reasons={"recovery_s": "cannot tell: no membership samples"})],
        integrity=Integrity(reasons=["cannot tell the keys: no read-back"]),
    )
    got = verdicts(OperatorObservation("reference", True, blind))
    assert got["operator_recovered"] == (
        "unknown",
        "kill:follower: cannot tell: no membership samples",
    )
    assert got["operator_integrity"] == ("unknown", "cannot tell the keys: no read-back")
    got = verdicts(OperatorObservation("reference", True, None, reason="no events file"))
    assert got["operator_detected"] == ("unknown", "no events file")


def test_integrity_and_false_alarms_fail_on_what_the_operator_did() -> None:
    harmful = GOOD.model_copy(
        update={
            "integrity": Integrity(voting_start=3, voting_end=2, ok=False, reasons=["2 vs 3"]),
            "false_alarms": [OperatorEvent(ts=1.0, kind="detect")],
            "actions_without_fault": [ContainerEvent(t=2.0, action="stop", service="etcd2")],
        }
    )
    got = verdicts(OperatorObservation("bad", True, harmful))
    assert got["operator_integrity"] == ("fail", "2 vs 3")
    assert got["operator_false_alarms"][0] == "fail"
    assert "1 detection(s)" in got["operator_false_alarms"][1]
    lenient = verdicts(
        OperatorObservation("bad", True, harmful),
        operator_max_false_alarms=1,
        operator_max_actions_without_fault=1,
    )
    assert lenient["operator_false_alarms"][0] == "pass"


def test_the_run_files_observation_feeds_the_checks() -> None:
    doc = OperatorDoc(operator="reference", persistent_faults=[0], scores=GOOD)
    assert {s for s, _ in verdicts(doc.observation()).values()} == {"pass"}
    control = OperatorDoc(operator="none", persistent_faults=[], scores=GOOD)
    assert {s for s, _ in verdicts(control.observation()).values()} == {"skipped"}
    dead = doc.model_copy(update={"exit": OperatorExit(code=2, log_tail=["boom", ""])})
    assert dead.crashed == "exit code 2; last line: boom"
    got = verdicts(dead.observation())
    assert got["operator_recovered"] == (
        "unknown",
        "the operator exited during the run: exit code 2; last line: boom",
    )
    alive = doc.model_copy(update={"exit": OperatorExit(code=None, running_at_end=True)})
    assert alive.crashed is None
