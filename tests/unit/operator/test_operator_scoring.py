"""workbench.operator.scoring on synthetic timelines: a kill of etcd1 at 15 s of a 60 s run,
300 ops/s at 5 ms p99 before it, membership sampled every second."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.faults.outcome import FaultRecord
from workbench.faults.schedule import FaultSpec
from workbench.operator.contract import ContainerEvent, MembershipSample, OperatorEvent
from workbench.operator.scoring import OperatorInputs, score

T0 = 1_000.0
ONSET = 15.0
MEMBERS = ("etcd0", "etcd1", "etcd2")
Spans = list[tuple[float, float]]


def inside(t: float, spans: Spans) -> bool:
    return any(a <= t < b for a, b in spans)


def series(slow: Spans = (), dead: Spans = (), end: int = 60) -> pd.DataFrame:
    """1 s intervals (t_s: the end); `slow`: half the rate at 4x the p99; `dead`: nothing."""
    rows = []
    for t in range(1, end + 1):
        mid = t - 0.5
        ops, p99 = (0.0, float("nan")) if inside(mid, dead) else (300.0, 5.0)
        if inside(mid, slow):
            ops, p99 = 150.0, 20.0
        rows.append({"t_s": float(t), "operation": "READ", "ops": ops, "p99_ms": p99})
        if inside(mid, dead):
            rows.append({"t_s": float(t), "operation": "READ_ERROR", "ops": 10.0})
    return pd.DataFrame(rows)


def membership(down: Spans = (), removed_from: float | None = None, end: int = 60) -> list:
    out = []
    for t in range(end + 1):
        for m in MEMBERS:
            if m == "etcd1" and removed_from is not None and t >= removed_from:
                continue
            healthy = not (m == "etcd1" and inside(float(t), down))
            out.append(
                MembershipSample(t=T0 + t, member=m, healthy=healthy, is_leader=m == "etcd0")
            )
    return out


def kill(index: int = 0, onset: float = ONSET) -> FaultRecord:
    spec = FaultSpec(action="kill", target="follower", start_s=onset, duration_s=0, text="kill")
    return FaultRecord(
        index=index, spec=spec, label="kill:follower", scheduled_start=T0 + onset,
        scheduled_end=T0 + onset, service="etcd1", container="wb-x-etcd1-1",
        start=T0 + onset, applied=T0 + onset + 0.1, end=T0 + 61, took_effect=True,
    )  # fmt: skip


def ev(t: float, kind: str, target: str | None = None) -> OperatorEvent:
    return OperatorEvent(ts=T0 + t, kind=kind, target=target)


def inputs(**kw: object) -> OperatorInputs:
    base: dict = {
        "records": [kill()],
        "t0": T0,
        "run_end_s": 60.0,
        "series": series(),
        "membership": membership(),
        "readback": (1000, 1000),
        "persistent": {0},
    }
    base.update(kw)
    return OperatorInputs(**base)


def test_a_clean_recovery_is_scored_from_the_onset_with_what_the_clients_paid() -> None:
    got = score(
        inputs(
            series=series(dead=[(15, 17)], slow=[(17, 20)]),
            membership=membership(down=[(15, 22)]),
            events=[ev(16.5, "detect", "etcd1"), ev(19, "act", "etcd1"), ev(23, "resolved")],
            container_events=[
                ContainerEvent(t=T0 + 19.4, action="start", service="etcd1", attributed="operator")
            ],
        )
    )
    (f,) = got.faults
    assert f.detect_s == pytest.approx(1.5) and f.detect_named_target is True
    assert f.first_act_s == pytest.approx(4.0) and f.first_action_s == pytest.approx(4.4)
    assert f.first_action == "start etcd1" and f.resolved_claim_s == pytest.approx(8.0)
    assert f.recovered and not f.censored and f.recovery_s == pytest.approx(7.0)  # at 22 s
    assert (f.pre_throughput, f.pre_p99_ms) == (300.0, 5.0)
    assert f.unavailability_s == 2.0 and f.unavailability_from == "client intervals"
    assert f.failed_ops == 20.0  # 10 errors/s for 2 s
    assert f.ops_below_pre == pytest.approx(2 * 300 + 3 * 150)
    assert f.p99_excess_ms_s == pytest.approx(3 * 15.0)
    assert got.false_alarms == [] and got.actions_without_fault == []
    assert got.integrity.ok is True and got.integrity.voting_start == 3 == got.integrity.voting_end


def test_a_detection_before_the_onset_is_a_false_alarm() -> None:
    got = score(inputs(events=[ev(10, "detect", "etcd1"), ev(16, "detect", "etcd2")]))
    assert [e.ts - T0 for e in got.false_alarms] == [10]
    (f,) = got.faults
    assert f.detect_s == pytest.approx(1.0) and f.detect_named_target is False


def test_recovery_that_holds_5_s_and_breaks_again_counts_from_the_later_stable_point() -> None:
    got = score(inputs(membership=membership(down=[(15, 25), (30, 35)])))
    (f,) = got.faults
    assert f.recovered and f.recovery_s == pytest.approx(20.0)  # whole from 35 s, not 25 s
    assert got.integrity.ok is True


def test_a_late_resolved_claim_with_the_service_still_degraded_is_not_recovery() -> None:
    got = score(
        inputs(
            series=series(slow=[(15, 61)]),
            membership=membership(down=[(15, 20)]),
            events=[ev(40, "resolved", "etcd1")],
        )
    )
    (f,) = got.faults
    assert f.resolved_claim_s == pytest.approx(25.0)
    assert not f.recovered and f.censored and f.recovery_s is None
    assert f.censored_at_s == pytest.approx(45.0) and "not recovered" in f.reasons["recovery_s"]
    assert got.censored == 1 and got.recovered == 0


def test_removing_the_dead_member_shrinks_the_cluster_fails_integrity_and_is_not_recovery() -> None:
    got = score(
        inputs(
            membership=membership(down=[(15, 20)], removed_from=20),
            container_events=[ContainerEvent(t=T0 + 19, action="destroy", service="etcd1")],
        )
    )
    assert got.integrity.ok is False
    assert (got.integrity.voting_start, got.integrity.voting_end) == (3, 2)
    assert got.integrity.members_end == ["etcd0", "etcd2"]
    assert got.faults[0].censored  # two healthy voters where there were three is not whole


def test_unreadable_keys_fail_integrity_and_no_data_cannot_tell() -> None:
    assert score(inputs(readback=(1000, 998))).integrity.ok is False
    blind = score(inputs(membership=[], readback=None))
    assert blind.integrity.ok is None and len(blind.integrity.reasons) == 2
    (f,) = blind.faults
    assert not f.recovered and not f.censored and f.reasons["recovery_s"].startswith("cannot tell")


def test_actions_with_no_fault_and_the_probes_unavailability() -> None:
    probe = pd.DataFrame(
        {
            "t_s": [14.0, 15.2, 15.4, 16.4, 30.0],
            "target": ["cluster"] * 5,
            "attempt": [1, 2, 3, 4, 5],
            "op": ["put"] * 5,
            "ok": [True, False, False, True, True],
            "error": [None, "timeout", "timeout", None, None],
            "latency_s": [0.01] * 5,
        }
    )
    got = score(
        inputs(
            probe=probe,
            membership=membership(down=[(15, 18)]),
            container_events=[ContainerEvent(t=T0 + 5, action="restart", service="etcd2")],
        )
    )
    assert [c.action for c in got.actions_without_fault] == ["restart"]
    f = got.faults[0]
    assert f.unavailability_from == "probe" and f.unavailability_s == pytest.approx(1.2)


def test_one_noisy_interval_neither_makes_nor_breaks_a_recovery() -> None:
    """An undisturbed run's per-interval p99 swings several-fold (a handful of operations each):
    the hold is judged on the stretch's median per-interval p99, like the pre-fault level."""
    noisy = series(dead=[(15, 20)])
    noisy.loc[(noisy["t_s"] == 24.0) & (noisy["operation"] == "READ"), "p99_ms"] = 60.0  # 12x
    got = score(inputs(series=noisy, membership=membership(down=[(15, 20)])))
    (f,) = got.faults
    assert f.recovered and f.recovery_s == pytest.approx(5.0)  # whole from 20 s despite t=24
    slow = series(dead=[(15, 20)], slow=[(20, 35)])  # 15 s at half the rate and 4x the p99
    got = score(inputs(series=slow, membership=membership(down=[(15, 20)])))
    # from 33 s: the 10 s stretch holds two slow intervals, 270 ops/s on average = 90 %
    assert got.faults[0].recovered and got.faults[0].recovery_s == pytest.approx(18.0)


def test_a_member_down_inside_the_hold_breaks_it_whatever_the_clients_saw() -> None:
    got = score(inputs(membership=membership(down=[(15, 20), (27, 28)])))
    (f,) = got.faults
    assert f.recovered and f.recovery_s == pytest.approx(13.0)  # from 28: the round at 27 was down
