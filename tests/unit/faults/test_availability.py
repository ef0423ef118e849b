"""The probe's numbers on synthetic samples: outages, first error, served again, members."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.cluster.probe import Sample
from workbench.faults.availability import (
    attempts,
    availability,
    counter_frame,
    first_rise,
    outages,
    samples_frame,
)
from workbench.faults.recovery import FaultWindow


def synthetic(down: dict[str, tuple[float, float]], until: float = 30.0) -> pd.DataFrame:
    """Ticks every 0.1 s from 0 to `until`: each target's write+read, failed in its down span."""
    rows = []
    for k in range(round(until * 10)):
        t = k / 10
        for target in ("etcd0", "etcd1", "etcd2", "cluster"):
            lo, hi = down.get(target, (-1.0, -1.0))
            ok = not lo <= t < hi
            rows.append(
                (t, target, k, "write", ok, None if ok else "timeout", 0.5 if not ok else 0.004)
            )
            if ok:
                rows.append((t + 0.004, target, k, "read", True, None, 0.002))
    return pd.DataFrame(
        rows, columns=["t_s", "target", "attempt", "op", "ok", "error", "latency_s"]
    )


def test_a_leader_kill_as_the_probe_sees_it() -> None:
    # leader etcd0 killed at 10 s for 15 s; the cluster cannot serve from 10.0 until 11.2
    frame = synthetic({"etcd0": (10.0, 25.0), "cluster": (10.0, 11.2), "etcd1": (10.0, 11.2),
                       "etcd2": (10.0, 11.2)})  # fmt: skip
    (n,) = availability(frame, [FaultWindow(10.0, 25.0, "kill:leader")])
    assert n.unavailability_s == pytest.approx(1.2) and not n.unavailability_open
    assert n.time_to_first_error_s == pytest.approx(0.0)
    assert n.serve_again_s == pytest.approx(1.2)
    assert n.members["etcd0"] == pytest.approx(15.0) and n.members["etcd1"] == pytest.approx(1.2)
    assert n.errors == {"timeout": 12} and n.failed == 12 and n.attempts == 200


def test_the_longest_outage_counts_and_an_open_one_is_marked() -> None:
    frame = synthetic({"cluster": (12.0, 12.3)})
    extra = synthetic({"cluster": (14.0, 30.0)})
    both = pd.concat([frame[frame["t_s"] < 13.0], extra[extra["t_s"] >= 13.0]])
    (n,) = availability(both, [FaultWindow(11.0, 20.0)])
    assert n.time_to_first_error_s == pytest.approx(1.0)
    # open: to the window's end, the last sample (29.904 s: a member's read)
    assert n.unavailability_s == pytest.approx(29.904 - 14.0) and n.unavailability_open
    assert n.serve_again_s == pytest.approx(1.3)  # the first success after the first error


def test_served_throughout_and_no_samples() -> None:
    frame = synthetic({})
    (n,) = availability(frame, [FaultWindow(5.0, 8.0)])
    assert n.unavailability_s == 0.0 and n.time_to_first_error_s is None
    assert n.value("serve_again_s") == (None, "the probe was served throughout")
    empty = frame[frame["t_s"] < 0]
    (m,) = availability(empty, [FaultWindow(5.0, 8.0)])
    assert m.unavailability_s is None and "no probe attempt" in m.reasons["unavailability_s"]


def test_each_fault_is_measured_up_to_the_next_one() -> None:
    frame = synthetic({"cluster": (10.0, 11.0)})
    first, second = availability(frame, [FaultWindow(20.0, 22.0), FaultWindow(9.0, 12.0)])
    assert first.unavailability_s == pytest.approx(1.0)  # sorted by start: 9 s first
    assert second.unavailability_s == 0.0


def test_an_attempt_fails_when_any_of_its_operations_fails() -> None:
    rows = pd.DataFrame(
        {
            "t_s": [0.0, 0.01, 0.1, 0.2, 0.21],
            "target": ["cluster"] * 5,
            "attempt": [0, 0, 1, 2, 2],
            "op": ["write", "read", "write", "write", "read"],
            "ok": [True, False, True, True, True],
            "error": [None, "deadline", None, None, None],
            "latency_s": [0.01, 0.6, 0.01, 0.01, 0.01],
        }
    )
    att = attempts(rows, "cluster")
    assert att["ok"].tolist() == [False, True, True] and att["error"].iloc[0] == "deadline"
    assert outages(att, 1.0) == [(0.0, 0.1, False)]


def test_samples_frame_is_on_the_run_clock() -> None:
    s = [Sample(1000.5, "cluster", 3, "write", False, "refused", 0.001)]
    frame = samples_frame(s, 1000.0)
    assert frame["t_s"].tolist() == [0.5] and frame["t"].tolist() == [1000.5]
    assert frame.loc[0, "error"] == "refused" and not frame.loc[0, "ok"]


def test_first_rise_of_the_leader_counter() -> None:
    ts = pd.to_datetime([1000.0, 1010.25, 1010.5, 1011.0, 1011.25], unit="s", utc=True)
    raw = pd.DataFrame(
        {
            "timestamp": list(ts) * 2,
            "value": [1, 1, 1, 2, 2, 1, 1, 1, 1, 2],
            "instance": ["etcd1"] * 5 + ["etcd2"] * 5,
        }
    )
    frame = counter_frame(raw, 1000.0)
    assert frame is not None
    assert first_rise(frame, 10.0, 30.0) == pytest.approx(1.0)  # etcd1 at 11.0
    assert first_rise(frame, 11.5, 30.0) is None
    assert counter_frame(None, 0.0) is None
