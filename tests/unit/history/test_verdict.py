"""The newest run against its series: direction from the metric, the evidence, the exit codes."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.history import Point, Series, Settings, analyse, exit_code, judge
from workbench.history.verdict import Verdict


def series(values: list[float], metric: str = "throughput") -> Series:
    pts = [
        Point(f"2026-12-01T{i:02d}:00:00Z", v, {"commit": f"c{i}"}, f"r{i}")
        for i, v in enumerate(values)
    ]
    return Series("s", {"subject": "etcd"}, "etcd a", metric, pts)


def noisy(n: int, level: float = 1000.0, seed: int = 0) -> list[float]:
    return list(level * (1 + 0.01 * np.random.default_rng(seed).standard_normal(n)))


def verdict(values: list[float], metric: str = "throughput", **kw: object) -> Verdict:
    (a,) = analyse([series(values, metric)], Settings(**kw))  # type: ignore[arg-type]
    return judge(a, Settings(**kw))  # type: ignore[arg-type]


def test_a_slower_newest_run_is_a_regression_of_throughput_and_of_latency() -> None:
    v = verdict([*noisy(10), 800.0])
    assert v.outcome == "regression" and v.run_id == "r10"
    assert v.before == pytest.approx(1000, rel=0.02) and v.after == 800.0
    assert v.change == pytest.approx(-0.2, abs=0.02) and v.p_value is not None and v.p_value < 1e-3
    assert verdict([*noisy(10, 5.0), 6.0], "p99_ms").outcome == "regression"
    assert verdict([*noisy(10, 5.0), 4.0], "p99_ms").outcome == "improvement"
    assert verdict([*noisy(10), 1200.0]).outcome == "improvement"


def test_an_ordinary_newest_run_is_no_change() -> None:
    v = verdict(noisy(11))
    assert v.outcome == "~" and "against the 10 run(s)" in v.reason


def test_the_first_runs_after_a_change_point_carry_its_evidence() -> None:
    v = verdict([*noisy(8), *noisy(5, 800.0, seed=1)])
    assert v.outcome == "regression" and "change point" in v.reason
    assert v.before == pytest.approx(1000, rel=0.02) and v.after == pytest.approx(800, rel=0.02)


def test_too_few_runs_are_insufficient() -> None:
    v = verdict(noisy(5))
    assert v.outcome == "insufficient" and "4 comparable run(s)" in v.reason
    assert exit_code([v]) == 2


def test_min_change_hides_small_moves() -> None:
    values = [*[1000.0, 1000.1] * 5, 1010.0]
    assert verdict(values).outcome == "improvement"
    assert verdict(values, min_change=0.02).outcome == "~"


def test_exit_codes() -> None:
    def v(outcome: str) -> Verdict:
        return Verdict(outcome, "throughput", "s", "r", "t", 1.0, "")  # type: ignore[arg-type]

    assert exit_code([v("~"), v("improvement")]) == 0
    assert exit_code([v("~"), v("insufficient")]) == 2
    assert exit_code([v("insufficient"), v("regression")]) == 1
    assert exit_code([]) == 2
    assert "regression" in v("regression").text()
