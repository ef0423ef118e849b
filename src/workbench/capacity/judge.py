"""One probe judged: did the system sustain the offered rate under the objective?

A probe passes only when all of these hold (each with its own line in `why`):
  - achieved ≥ 95% of offered (`ACHIEVED_MIN`, as PKB's dynamic load and `target_rate`);
  - the backlog does not grow: the least-squares slope of intended-time latency over the probe's
    intervals is not significantly positive (one-sided p < `SLOPE_ALPHA`) AND material (the
    fitted growth over the probe ≥ `SLOPE_MATERIAL` of the objective's bound): Karimov et al.'s
    sustainable throughput, no continuously increasing latency;
  - an upper confidence bound of the objective's percentile is under the bound: the k-th smallest
    of n samples, k the least integer with P(Bin(n, q) ≤ k−1) ≥ 1−α (order statistics, as MLPerf
    LoadGen's early stopping), not the point estimate;
  - errors ≤ the limit (a share of the operations).
A probe on a contended host, or where the client was the limit, is `unknown` (it names the limit):
its numbers are not the system's. Too few samples for the bound: `unknown` too.
Pure: numbers in, a verdict out (scipy for the binomial and the regression).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import stats as sps

from workbench.capacity.objective import Objective

ProbeVerdict = Literal["pass", "fail", "unknown"]
Limit = Literal["client", "host", "samples", "error"]
ACHIEVED_MIN = 0.95
SLOPE_ALPHA = 0.01
SLOPE_MATERIAL = 0.1  # growth over the probe below this share of the bound is not a backlog
CONFIDENCE = 0.95
MIN_SLOPE_POINTS = 4


def bound_rank(n: int, q: float, confidence: float = CONFIDENCE) -> int | None:
    """The 1-based rank k of the order statistic that bounds the q-quantile from above with
    `confidence`: the least k with P(Bin(n, q) ≤ k−1) ≥ confidence. None when n is too small
    (even the largest sample is not a bound at that confidence)."""
    if n < 1:
        return None
    k = int(sps.binom.ppf(confidence, n, q)) + 1
    # ppf is the least x with cdf(x) >= confidence; guard its floating edge both ways
    while k > 1 and sps.binom.cdf(k - 2, n, q) >= confidence:
        k -= 1
    while k <= n and sps.binom.cdf(k - 1, n, q) < confidence:
        k += 1
    return k if k <= n else None


def min_samples(q: float, confidence: float = CONFIDENCE) -> int:
    """The fewest samples whose largest bounds the q-quantile with `confidence`: q^n ≤ 1 − c."""
    return math.ceil(math.log(1 - confidence) / math.log(q))


def value_at_rank(distribution: Sequence[tuple[float, int]], k: int) -> float:
    """The k-th smallest (1-based) of a distribution given as ascending (value, count) pairs."""
    seen = 0
    for value, count in distribution:
        seen += count
        if seen >= k:
            return value
    raise ValueError(f"rank {k} beyond the {seen} samples")


def percentile_bound(
    distribution: Sequence[tuple[float, int]], q: float, confidence: float = CONFIDENCE
) -> tuple[float | None, float | None, int]:
    """(point estimate, upper bound or None, n) of the q-quantile of a (value, count) list."""
    dist = sorted((v, int(c)) for v, c in distribution if c > 0)
    n = sum(c for _, c in dist)
    if n == 0:
        return None, None, 0
    point = value_at_rank(dist, max(1, math.ceil(q * n)))
    k = bound_rank(n, q, confidence)
    return point, (value_at_rank(dist, k) if k is not None else None), n


@dataclass(frozen=True)
class Slope:
    """Least-squares slope of latency (ms) over time (s), its one-sided p-value (H1: > 0) and
    the fitted growth over the span."""

    slope_ms_per_s: float
    p_value: float
    growth_ms: float
    points: int

    def growing(self, material_ms: float, alpha: float = SLOPE_ALPHA) -> bool:
        return self.p_value < alpha and self.growth_ms >= material_ms


def backlog_slope(t_s: Sequence[float], latency_ms: Sequence[float]) -> Slope | None:
    """The slope test over a probe's intervals; None with fewer than MIN_SLOPE_POINTS."""
    t = np.asarray(t_s, dtype=float)
    y = np.asarray(latency_ms, dtype=float)
    ok = np.isfinite(t) & np.isfinite(y)
    t, y = t[ok], y[ok]
    if len(t) < MIN_SLOPE_POINTS or np.ptp(t) == 0:
        return None
    if np.ptp(y) == 0:  # flat: no slope at all (linregress divides by the spread)
        return Slope(0.0, 1.0, 0.0, len(t))
    fit = sps.linregress(t, y, alternative="greater")
    return Slope(float(fit.slope), float(fit.pvalue), float(fit.slope * np.ptp(t)), len(t))


@dataclass(frozen=True)
class ProbeObservation:
    """What one probe measured, as the judge needs it."""

    offered: float  # ops/s asked for
    achieved: float  # ops/s done
    operations: int
    errors: int
    distribution: Sequence[tuple[float, int]]  # intended-time latency (ms, count), ascending
    interval_t_s: Sequence[float] = ()  # each full interval's end, s into the probe
    interval_latency_ms: Sequence[float] = ()  # its intended-time latency (p50)
    client_bound: str | None = None  # why the client was the limit, None when it was not
    host_contended: str | None = None  # why the host was not the run's own, None when it was
    service_p50_ms: float | None = None
    service_p99_ms: float | None = None
    intended_p50_ms: float | None = None
    intended_p99_ms: float | None = None


@dataclass(frozen=True)
class Judged:
    verdict: ProbeVerdict
    why: list[str]
    percentile_ms: float | None
    percentile_bound_ms: float | None
    samples: int
    slope: Slope | None
    limit: Limit | None = None
    checks: dict[str, bool] = field(default_factory=dict)


def judge(
    obs: ProbeObservation,
    objective: Objective,
    *,
    max_error_rate: float = 0.0,
    confidence: float = CONFIDENCE,
) -> Judged:
    """The probe's verdict and every reason (see the module's docstring)."""
    point, bound, n = percentile_bound(obs.distribution, objective.quantile, confidence)
    slope = backlog_slope(obs.interval_t_s, obs.interval_latency_ms)
    why: list[str] = []
    checks: dict[str, bool] = {}
    share = obs.achieved / obs.offered if obs.offered > 0 else 0.0
    checks["achieved"] = share >= ACHIEVED_MIN
    why.append(
        f"achieved {obs.achieved:,.1f} of {obs.offered:,.1f} ops/s ({share:.1%}, "
        f"{'≥' if checks['achieved'] else '<'} {ACHIEVED_MIN:.0%})"
    )
    material = SLOPE_MATERIAL * objective.threshold_ms
    if slope is None:
        why.append("backlog slope: too few intervals to test (not judged)")
    else:
        checks["backlog"] = not slope.growing(material)
        why.append(
            f"backlog slope {slope.slope_ms_per_s:+.3g} ms/s (p={slope.p_value:.2g}, growth "
            f"{slope.growth_ms:.3g} ms over the probe): "
            + ("not growing" if checks["backlog"] else "growing")
        )
    label = objective.label
    if bound is None:
        why.append(
            f"{label}: {n} samples are too few for a {confidence:.0%} upper bound"
            + (f" (point {point:.3g} ms)" if point is not None else "")
        )
    else:
        assert point is not None
        checks["latency"] = bound <= objective.threshold_ms
        why.append(
            f"{label} {point:.3g} ms, {confidence:.0%} upper bound {bound:.3g} ms "
            f"{'≤' if checks['latency'] else '>'} {objective.threshold_ms:g} ms"
        )
    rate = obs.errors / obs.operations if obs.operations else (1.0 if obs.errors else 0.0)
    checks["errors"] = rate <= max_error_rate
    why.append(f"errors {obs.errors} of {obs.operations} ({rate:.3%}, limit {max_error_rate:.3%})")
    limit: Limit | None = None
    if obs.host_contended:
        limit = "host"
        why.insert(0, f"host contended: {obs.host_contended}")
    elif obs.client_bound:
        limit = "client"
        why.insert(0, f"client-bound: {obs.client_bound}")
    elif bound is None and all(checks.values()):
        limit = "samples"
    if limit is not None:
        verdict: ProbeVerdict = "unknown"
    else:
        verdict = "pass" if all(checks.values()) else "fail"
    return Judged(verdict, why, point, bound, n, slope, limit, checks)
