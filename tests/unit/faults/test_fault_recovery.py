"""Recovery metrics on synthetic per-interval series and completion times."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.faults.outcome import Distribution
from workbench.faults.recovery import FaultWindow, distribution, recoveries, recovery


def _series(
    thr: dict[int, float],
    *,
    n: int = 40,
    level: float = 1000.0,
    p99: float = 5.0,
    errors: dict[int, float] | None = None,
    slow: dict[int, float] | None = None,
) -> pd.DataFrame:
    """Two operations (READ, UPDATE) at level/2 each, 1 s intervals ending at t_s = 1..n."""
    rows = []
    for t in range(1, n + 1):
        total = thr.get(t, level)
        for op in ("READ", "UPDATE"):
            lat = (slow or {}).get(t, p99) if total > 0 else np.nan
            rows.append({"t_s": float(t), "operation": op, "ops": total / 2, "p99_ms": lat})
        e = (errors or {}).get(t, 0.0)
        if e:
            rows.append({"t_s": float(t), "operation": "READ_ERROR", "ops": e, "p99_ms": 7000.0})
    return pd.DataFrame(rows)


def test_clean_dip() -> None:
    # fault at 10-15 s: one interval with nothing (11), two low ones, back at 14
    s = _series(
        {11: 0.0, 12: 300.0, 13: 700.0}, errors={11: 2.0, 12: 1.0}, slow={12: 900.0, 13: 40.0}
    )
    r = recovery(s, FaultWindow(10.0, 15.0, "kill:leader"))
    assert r.pre_throughput == 1000.0 and r.pre_p99_ms == 5.0
    assert r.time_to_first_error_s == 0.0  # interval (10, 11]
    assert r.unavailability_s == 1.0 and r.unavailability_from == "intervals"
    assert r.throughput_recovery_s == 3.0  # last low interval ends at 13
    assert r.p99_recovery_s == 3.0  # 40 ms at 13 > 2 x 5 ms
    assert r.errors_during == 3.0 and r.errors_after == 0.0
    assert r.reasons == {}


def test_dip_that_never_recovers() -> None:
    s = _series({t: 0.0 for t in range(11, 41)})
    r = recovery(s, FaultWindow(10.0, 15.0, "partition:leader"))
    assert r.throughput_recovery_s is None and "not back" in r.reasons["throughput_recovery_s"]
    assert r.p99_recovery_s is None
    assert r.unavailability_s is None and "at least 30.0 s" in r.reasons["unavailability_s"]
    assert r.time_to_first_error_s is None and "no error" in r.reasons["time_to_first_error_s"]


def test_two_overlapping_effects_count_until_the_last() -> None:
    # the fault's own dip (11-12) and a second one when the member comes back (17)
    s = _series({11: 100.0, 12: 500.0, 17: 400.0})
    r = recovery(s, FaultWindow(10.0, 15.0, "kill:leader"))
    assert r.throughput_recovery_s == 7.0
    assert r.unavailability_s == 0.0


def test_two_faults_each_observed_until_the_next() -> None:
    s = _series({11: 0.0, 12: 0.0, 21: 200.0, 22: 200.0, 23: 200.0, 24: 200.0, 25: 200.0})
    first, second = recoveries(s, [FaultWindow(20.0, 22.0, "b"), FaultWindow(10.0, 12.0, "a")])
    assert (first.label, first.throughput_recovery_s, first.unavailability_s) == ("a", 2.0, 2.0)
    assert second.throughput_recovery_s == 5.0 and second.pre_throughput == 1000.0
    d = distribution([first, second])
    assert d["throughput_recovery_s"] == Distribution(
        values=[2.0, 5.0], n=2, unknown=0, median=3.5, max=5.0
    )


def test_a_fault_observed_only_until_the_next_one_starts() -> None:
    s = _series({t: 200.0 for t in range(11, 22)})
    first, _ = recoveries(s, [FaultWindow(10.0, 12.0, "a"), FaultWindow(18.0, 20.0, "b")])
    assert first.throughput_recovery_s is None
    assert "observed span (18.0 s)" in first.reasons["throughput_recovery_s"]


def test_no_pre_fault_data() -> None:
    s = _series({}, n=20)
    r = recovery(s, FaultWindow(0.0, 3.0, "kill:etcd1"))
    assert r.throughput_recovery_s is None
    assert "no 3 s of full intervals before" in r.reasons["throughput_recovery_s"]


def test_unavailability_from_completions_at_100ms() -> None:
    s = _series({})
    ok_times = np.concatenate([np.arange(0.0, 10.35, 0.01), np.arange(12.8, 20.0, 0.01)])
    comp = pd.DataFrame(
        {
            "t_s": np.concatenate([ok_times, [10.9, 11.5]]),
            "ok": [True] * len(ok_times) + [False, False],
        }
    )
    r = recovery(s, FaultWindow(10.0, 15.0, "pause:follower"), completions=comp)
    assert r.unavailability_from == "completions"
    assert r.unavailability_s == pytest.approx(2.4)  # bins 10.4 .. 12.7 were empty
    assert r.time_to_first_error_s == pytest.approx(0.9)


def test_distribution_keeps_unknowns() -> None:
    s = _series({t: 0.0 for t in range(11, 41)})
    good = recovery(_series({11: 0.0}), FaultWindow(10.0, 12.0))
    bad = recovery(s, FaultWindow(10.0, 12.0))
    d = distribution([good, bad, good])
    assert d["throughput_recovery_s"].values == [1.0, None, 1.0]
    assert d["throughput_recovery_s"].unknown == 1 and d["throughput_recovery_s"].max == 1.0


# --- the README's two-fault run: kill:leader@10+5, pause:follower@25+3 at --target 300 --------


def _readme_run(p99: dict[int, float] | None = None) -> pd.DataFrame:
    """300 ops/s; the kill (10.004-15.004) empties 11-15 and slows 16-17, the catch-up burst
    (479-678 ops/s) runs 18-24: back from 18 on; the pause (25.004-28.004) empties 26-27."""
    thr = {t: 0.0 for t in range(11, 16)} | {16: 100.0, 17: 200.0}
    burst = [479.0, 678.0, 600.0, 549.0, 560.0, 530.0, 549.0]
    thr.update({18 + i: v for i, v in enumerate(burst)})
    thr.update({26: 0.0, 27: 0.0})
    return _series(thr, level=300.0, slow=p99)


READMES_FAULTS = [FaultWindow(10.004, 15.004, "kill:leader"), FaultWindow(25.004, 28.004, "pause")]


def test_a_fault_span_ends_where_the_next_fault_starts() -> None:
    # the interval (25, 26] is inside the pause: it is not the kill's, whose throughput was
    # back at 18 s and stayed there until the pause began
    kill, _ = recoveries(_readme_run(), READMES_FAULTS)
    assert kill.throughput_recovery_s == pytest.approx(17.0 - 10.004)
    assert "throughput_recovery_s" not in kill.reasons


def test_pre_fault_level_never_from_an_earlier_faults_catch_up() -> None:
    _, pause = recoveries(_readme_run(), READMES_FAULTS)
    # the 10 s before the pause are the kill's catch-up burst (median 549 ops/s): not a level
    assert pause.pre_throughput == 300.0
    assert pause.pre_from == "window" and pause.pre_window_s == [1.0, 10.0]
    assert pause.throughput_recovery_s == pytest.approx(27.0 - 25.004)


def test_pre_fault_level_from_the_target_when_no_clean_window() -> None:
    s = _series({2: 0.0, 3: 0.0, 4: 900.0, 5: 800.0, 6: 0.0}, level=300.0)
    faults = [FaultWindow(1.0, 2.0, "a"), FaultWindow(5.0, 6.0, "b")]
    a, b = recoveries(s, faults, target_ops=300.0)
    assert (a.pre_from, a.pre_throughput) == ("target", 300.0)  # [0, 1]: one interval only
    assert (b.pre_from, b.pre_throughput) == ("target", 300.0)  # a's burst touches [1, 5]
    assert b.throughput_recovery_s == pytest.approx(1.0)
    assert b.pre_p99_ms is None and "target" in b.reasons["p99_recovery_s"]
    a, b = recoveries(s, faults)  # no target: unknown, with the reason
    assert b.pre_throughput is None and b.throughput_recovery_s is None
    assert "untouched by an earlier fault" in b.reasons["throughput_recovery_s"]


def test_a_missing_p99_is_missing_not_nothing_succeeded() -> None:
    # p99 unknown (NaN) at 20 s although 300 ops/s succeeded there: no "bad" interval
    s = _series({11: 0.0}, level=300.0)
    s.loc[s["t_s"] == 20.0, "p99_ms"] = np.nan
    r = recovery(s, FaultWindow(10.004, 15.0, "kill"))
    assert r.throughput_recovery_s == pytest.approx(11.0 - 10.004)
    assert r.p99_recovery_s is None  # 20 s could have been slow: not known, never "10 s"
    assert "no p99" in r.reasons["p99_recovery_s"]
    s.loc[s["t_s"] == 20.0, "p99_ms"] = 5.0
    s.loc[s["t_s"] == 11.0, "p99_ms"] = np.nan  # nothing succeeded at 11: that one is bad
    assert recovery(s, FaultWindow(10.004, 15.0)).p99_recovery_s == pytest.approx(11 - 10.004)


def test_partial_intervals_decide_no_recovery_number() -> None:
    s = _series({11: 0.0}, n=20, level=300.0)
    sliver = pd.DataFrame(
        [{"t_s": 20.03, "operation": op, "ops": 20.0, "p99_ms": 50.0} for op in ("READ", "UPDATE")]
    )
    s = pd.concat([s.assign(interval_s=1.0, partial=False),
                   sliver.assign(interval_s=0.03, partial=True)], ignore_index=True)  # fmt: skip
    r = recovery(s, FaultWindow(10.004, 15.0, "kill"))
    assert r.throughput_recovery_s == pytest.approx(11.0 - 10.004)
    assert r.p99_recovery_s == pytest.approx(11.0 - 10.004)
