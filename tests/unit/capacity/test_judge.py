"""One probe's judgement: the percentile bound against exact binomial order statistics, the slope
test on a growing and a flat backlog, the objective's parsing, and the verdict's reasons."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from workbench.capacity import Objective, ProbeObservation, judge, parse_objective
from workbench.capacity.judge import (
    backlog_slope,
    bound_rank,
    min_samples,
    percentile_bound,
    value_at_rank,
)
from workbench.errors import ParameterError

OBJ = Objective(percentile=99, threshold_ms=50)


@pytest.mark.parametrize("n", [299, 300, 459, 1000, 12_345])
@pytest.mark.parametrize("q", [0.5, 0.9, 0.99])
def test_the_bound_rank_is_the_least_k_the_exact_binomial_allows(n: int, q: float) -> None:
    k = bound_rank(n, q, 0.95)
    cdf = sps.binom.cdf(np.arange(n), n, q)  # cdf[j] = P(Bin(n, q) <= j)
    reach = np.flatnonzero(cdf >= 0.95)
    exact = int(reach[0]) + 1 if reach.size else None  # the least k with cdf(k-1) >= 0.95
    assert k == exact


def test_min_samples_is_the_first_n_with_a_bound() -> None:
    for q in (0.5, 0.9, 0.99, 0.999):
        n = min_samples(q)
        assert bound_rank(n, q) == n and bound_rank(n - 1, q) is None


def test_too_few_samples_have_no_bound() -> None:
    # P(all n below the p99) = 0.99^n: n = 298 still leaves more than 5% that the max is under it
    assert bound_rank(298, 0.99, 0.95) is None and bound_rank(299, 0.99, 0.95) == 299
    assert bound_rank(0, 0.5) is None


def test_the_bound_covers_the_true_quantile_at_least_as_often_as_promised() -> None:
    rng = np.random.default_rng(7)
    true_p99 = float(sps.expon.ppf(0.99))
    hits = 0
    for _ in range(2000):
        x = np.sort(rng.exponential(size=500))
        hits += bool(x[bound_rank(500, 0.99) - 1] >= true_p99)  # type: ignore[operator]
    assert hits / 2000 >= 0.94  # 95% promised; 2000 trials of sampling error


def test_percentile_bound_reads_a_histogram_by_rank() -> None:
    dist = [(1.0, 500), (2.0, 480), (30.0, 15), (80.0, 5)]  # 1000 samples, ascending
    point, bound, n = percentile_bound(dist, 0.99)
    assert n == 1000 and point == 30.0  # the 990th sample
    assert bound == value_at_rank(dist, bound_rank(1000, 0.99)) == 80.0  # k = 996 > 995
    assert percentile_bound([], 0.99) == (None, None, 0)


def test_the_slope_test_tells_a_growing_backlog_from_a_flat_one() -> None:
    t = np.arange(1.0, 21.0)
    rng = np.random.default_rng(3)
    flat = backlog_slope(t, 10 + rng.normal(0, 1.0, t.size))
    growing = backlog_slope(t, 10 + 40 * t + rng.normal(0, 5.0, t.size))  # the queue builds
    assert flat is not None and growing is not None
    assert not flat.growing(material_ms=5.0)
    assert growing.growing(material_ms=5.0) and growing.p_value < 1e-6
    assert growing.growth_ms == pytest.approx(40 * 19, rel=0.05)
    # significant but tiny (a 0.5 ms drift over 20 s) is not a backlog at a 50 ms objective
    tiny = backlog_slope(t, 10 + 0.025 * t)
    assert tiny is not None and tiny.p_value < 0.01 and not tiny.growing(material_ms=5.0)
    assert backlog_slope([1, 2, 3], [1, 2, 3]) is None  # too few intervals
    assert backlog_slope(t, np.full(t.size, 3.0)).p_value == 1.0  # type: ignore[union-attr]


def _obs(**kw: object) -> ProbeObservation:
    base: dict[str, object] = {
        "offered": 1000.0, "achieved": 990.0, "operations": 10_000, "errors": 0,
        "distribution": [(5.0, 9_900), (20.0, 100)],
        "interval_t_s": list(range(1, 11)), "interval_latency_ms": [5.0] * 10,
    }  # fmt: skip
    return ProbeObservation(**{**base, **kw})  # type: ignore[arg-type]


def test_a_sustained_probe_passes_with_every_reason_given() -> None:
    j = judge(_obs(), OBJ)
    assert j.verdict == "pass" and j.limit is None
    assert j.checks == {"achieved": True, "backlog": True, "latency": True, "errors": True}
    assert len(j.why) == 4 and j.percentile_ms == 5.0 and j.percentile_bound_ms == 20.0


def test_each_criterion_fails_the_probe_on_its_own() -> None:
    assert judge(_obs(achieved=900.0), OBJ).checks["achieved"] is False
    grow = judge(_obs(interval_latency_ms=[5.0 + 30 * i for i in range(10)]), OBJ)
    assert grow.verdict == "fail" and grow.checks["backlog"] is False
    # the point p99 is under 50 ms, its upper bound is not: fail
    tail = judge(_obs(distribution=[(5.0, 9_905), (60.0, 95)]), OBJ)
    assert tail.percentile_ms == 5.0 and tail.percentile_bound_ms == 60.0
    assert tail.verdict == "fail"
    assert judge(_obs(errors=2), OBJ).verdict == "fail"
    assert judge(_obs(errors=2), OBJ, max_error_rate=0.001).verdict == "pass"


def test_a_contended_host_or_a_client_bound_probe_is_unknown_naming_the_limit() -> None:
    host = judge(_obs(host_contended="1.3 cores busy outside"), OBJ)
    assert host.verdict == "unknown" and host.limit == "host"
    assert host.why[0].startswith("host contended")
    client = judge(_obs(achieved=500.0, client_bound="client used 97% of 1 cores"), OBJ)
    assert client.verdict == "unknown" and client.limit == "client"
    few = judge(_obs(operations=100, distribution=[(5.0, 100)]), OBJ)
    assert few.verdict == "unknown" and few.limit == "samples"
    assert "too few" in " ".join(few.why)


@pytest.mark.parametrize(
    ("text", "pct", "ms", "op"),
    [("p99=50ms", 99, 50, "TOTAL"), ("p99.9<=2s", 99.9, 2000, "TOTAL"),
     ("read:p50=500us", 50, 0.5, "READ"), ("p99 50ms", 99, 50, "TOTAL"), ("p95≤1s", 95, 1000, "TOTAL"), ("UPDATE.p90 < 7.5ms", 90, 7.5, "UPDATE")],
)  # fmt: skip
def test_objectives_parse(text: str, pct: float, ms: float, op: str) -> None:
    o = parse_objective(text)
    assert (o.percentile, o.threshold_ms, o.operation) == (pct, ms, op)


@pytest.mark.parametrize(
    ("text", "says"),
    [("p99", "cannot read"), ("p100=5ms", "(0, 100)"), ("p0=5ms", "(0, 100)"),
     ("p99=0ms", "> 0"), ("99=5ms", "cannot read"), ("p99=5 parsecs", "cannot read")],
)  # fmt: skip
def test_bad_objectives_are_refused_clearly(text: str, says: str) -> None:
    with pytest.raises(ParameterError) as exc:
        parse_objective(text)
    assert says in str(exc.value)
