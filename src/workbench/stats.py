"""Statistics over repeated runs: summaries, comparisons to a baseline, verdicts, benchstat strings.

The replication unit is a whole run: each sample is one number per run (its throughput, its TOTAL
p99, ...). Per sample: n, median, mean, a 95% confidence interval of the median and the coefficient
of variation. Per comparison to a baseline: the ratio of medians with a confidence interval, the
two-sided Mann-Whitney U p-value and a verdict: `better` / `worse` (significant and at least
`min_effect` away from 1), `~` (not significant, or under `min_effect`) or `unknown` (too few runs:
the exact U test cannot reach p < alpha at these sizes; `needed_n` says how many per side can).

The intervals are distribution-free and their labels are their coverage (a bootstrap of 3-5 runs
gave [min, max], which covers a median 75-94% of the time, under a "95%" label):
  - median: between order statistics. [x(k), x(n+1-k)] covers the median with the exact
    probability 1 - 2 P(Bin(n, 1/2) <= k-1) whatever the (continuous) distribution; the
    Hettmansperger-Sheather interpolation between the innermost pair at >= 95% and the next one
    in makes it about 95% (checked on skewed and heavy-tailed samples: bench/bench_intervals.py).
    Below 6 runs no pair reaches 95% ([min, max] of 5 covers 93.75%): no interval, `ci_needed_n`.
  - ratio: the shift of log values between the two samples (B = c A in distribution, c the ratio
    of medians): the Mann-Whitney (Moses) interval [D(k), D(mn+1-k)] of the m*n pairwise
    differences log b - log a around their Hodges-Lehmann median, exponentiated. Its coverage is
    exact, 1 - 2 P(U <= k-1), discrete, so it is the largest k reaching 1 - alpha and it is labelled
    with what it attains (`ratio_level`, e.g. 97.1% at 4+4). It excludes 1 exactly when the exact
    U test rejects at that level. Below the sizes that reach it: none, `ratio_needed_n`.
scipy does the statistics (`binom`, `mannwhitneyu`, `variation`); nothing is random. Which
direction is better lives in the metric registry. Nothing here reads files or draws figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import stats as sps

CONFIDENCE = 0.95
VERDICTS = ("better", "worse", "~", "unknown")


@dataclass(frozen=True)
class Metric:
    """One per-run number the campaign compares, and which way is better."""

    name: str
    label: str
    unit: str
    higher_is_better: bool


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("throughput", "throughput", "ops/s", True),
        Metric("p50_ms", "TOTAL p50", "ms", False),
        Metric("p99_ms", "TOTAL p99", "ms", False),
        Metric("p999_ms", "TOTAL p99.9", "ms", False),
        Metric("intended_p99_ms", "TOTAL-INTENDED p99 (from the intended send time)", "ms", False),
        Metric("errors", "errors", "ops", False),
    )
}
# The operator under test's scores (a run's median over its faults, from operator.json:
# workbench.campaign.metrics.operator_numbers); apart from METRICS, the headline numbers a
# campaign's [compare] metrics name, until the campaign's samples carry them.
SCORE_METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("operator_detect_s", "operator: detected after", "s", False),
        Metric("operator_action_s", "operator: first action after", "s", False),
        Metric("operator_recovery_s", "operator: recovered after", "s", False),
        Metric("operator_unavailability_s", "operator: unavailability", "s", False),
    )
}


def metric(name: str) -> Metric:
    known = {**METRICS, **SCORE_METRICS}
    if name not in known:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(known)}")
    return known[name]


@dataclass(frozen=True)
class Summary:
    """One configuration's sample of one metric."""

    n: int
    median: float | None
    mean: float | None
    ci_low: float | None  # confidence interval of the median (order statistics, interpolated)
    ci_high: float | None
    cv: float | None  # coefficient of variation (sample standard deviation / mean)
    ci_level: float | None = None  # the interval's coverage (0.95), None when there is none
    ci_needed_n: int | None = None  # runs an interval needs, set when there is none

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Comparison:
    """A configuration against the baseline, for one metric."""

    metric: str
    n_base: int
    n_other: int
    ratio: float | None  # median(other) / median(baseline)
    ratio_low: float | None  # distribution-free interval of the ratio (log-shift model)
    ratio_high: float | None
    p_value: float | None
    verdict: str  # one of VERDICTS
    needed_n: int | None  # runs per side the exact U test needs at alpha (set when unknown)
    ratio_level: float | None = None  # the ratio interval's exact coverage (>= 1 - alpha)
    ratio_needed_n: int | None = None  # runs per side a ratio interval needs, when there is none

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _clean(values: Sequence[float | None]) -> np.ndarray:
    arr = np.array([float(v) for v in values if v is not None], dtype=float)
    return arr[np.isfinite(arr)]


def _pair_coverage(n: int) -> np.ndarray:
    """Exact coverage of [x(k), x(n+1-k)] for k = 1 .. ceil(n/2) (index k-1): 1 - 2 P(B <= k-1)."""
    k = np.arange(1, (n + 1) // 2 + 1)
    return np.clip(1.0 - 2.0 * sps.binom.cdf(k - 1, n, 0.5), 0.0, 1.0)


@lru_cache(maxsize=256)
def _median_pair(n: int, level: float) -> tuple[int, float, float] | None:
    """(k, lambda, label): the innermost pair at coverage >= level and the Hettmansperger-Sheather
    weight towards the next pair in (0 when there is none, the label then the pair's own)."""
    cover = _pair_coverage(n)
    reach = np.flatnonzero(cover >= level)
    if n < 2 or not len(reach):
        return None
    k = int(reach[-1]) + 1
    if k + 1 > n - k:  # no inner pair to interpolate towards: the exact pair, labelled exactly
        return k, 0.0, float(cover[k - 1])
    gk, g_in = float(cover[k - 1]), float(cover[k])
    i = (gk - level) / (gk - g_in)
    return k, (n - k) * i / (k + (n - 2 * k) * i), level


def median_needed_n(level: float = CONFIDENCE, limit: int = 1000) -> int:
    """Runs the widest pair [min, max] needs to cover a median at `level`: 1 - 2 (1/2)^n >= level."""
    return next(n for n in range(2, limit) if 1.0 - 2.0 * 0.5**n >= level)


def median_interval(
    x: np.ndarray, level: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """The interval of the median of each sample along the last axis (low, high, label), or None
    below `median_needed_n(level)` runs. Matches scipy.stats.mstats.median_cihs where that has
    one; vectorised, so a coverage study can draw thousands of samples at once."""
    n = x.shape[-1]
    pair = _median_pair(n, level)
    if pair is None:
        return None
    k, lam, label = pair
    s = np.sort(x, axis=-1)
    low = (1 - lam) * s[..., k - 1] + lam * s[..., min(k, n - 1)]
    high = (1 - lam) * s[..., n - k] + lam * s[..., max(n - k - 1, 0)]
    return low, high, label


def _u_cdf(u: int, m: int, n: int) -> float:
    """P(U <= u) under the null for sizes m, n: scipy's exact one-sided p of samples whose U is u
    (x(i) above min(n, u - n i) of the y's)."""
    y = np.arange(n, dtype=float)
    above = [min(n, max(0, u - n * i)) for i in range(m)]
    x = np.array([a - 0.5 + 1e-6 * i for i, a in enumerate(above)])
    return float(sps.mannwhitneyu(x, y, alternative="less", method="exact").pvalue)


@lru_cache(maxsize=1024)
def shift_rank(m: int, n: int, level: float) -> tuple[int, float] | None:
    """(k, coverage): the largest k whose interval [D(k), D(mn+1-k)] of pairwise differences covers
    a shift with exact probability 1 - 2 P(U <= k-1) >= level, or None when k = 1 falls short."""
    best = None
    for k in range(1, m * n // 2 + 1):
        cover = 1.0 - 2.0 * _u_cdf(k - 1, m, n)
        if cover < level:
            break
        best = (k, cover)
    return best


def ratio_interval(
    base: np.ndarray, other: np.ndarray, level: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """The interval of the ratio other/base (positive values, samples along the last axis):
    exp of the Moses interval of the shift of log values, with its exact coverage; None when the
    sizes cannot reach `level`."""
    m, n = base.shape[-1], other.shape[-1]
    rank = shift_rank(m, n, level)
    if rank is None:
        return None
    k, cover = rank
    diffs = np.log(other)[..., None, :] - np.log(base)[..., :, None]
    d = np.sort(diffs.reshape(*diffs.shape[:-2], m * n), axis=-1)
    return np.exp(d[..., k - 1]), np.exp(d[..., m * n - k]), cover


def ratio_needed_n(level: float, limit: int = 100) -> int:
    """The smallest n per side for which a ratio interval reaches `level`."""
    return next(n for n in range(1, limit) if shift_rank(n, n, level) is not None)


def summarize(values: Sequence[float | None], level: float = CONFIDENCE) -> Summary:
    """n, median, mean, the median's interval at `level`, CV of one sample (None/NaN dropped)."""
    x = _clean(values)
    if len(x) == 0:
        return Summary(0, None, None, None, None, None, None, median_needed_n(level))
    median, mean = float(np.median(x)), float(np.mean(x))
    cv = float(sps.variation(x, ddof=1)) if len(x) > 1 and mean != 0 else None
    ci = median_interval(x, level)
    if ci is None:
        return Summary(len(x), median, mean, None, None, cv, None, median_needed_n(level))
    low, high, label = ci
    return Summary(len(x), median, mean, float(low), float(high), cv, label, None)


@lru_cache(maxsize=256)
def min_p_value(n1: int, n2: int) -> float:
    """The smallest two-sided p the exact U test can give at these sample sizes."""
    if n1 < 1 or n2 < 1:
        return 1.0
    a, b = np.arange(n1, dtype=float), np.arange(n1, n1 + n2, dtype=float)
    return float(sps.mannwhitneyu(a, b, alternative="two-sided", method="exact").pvalue)


def needed_n(alpha: float, limit: int = 100) -> int:
    """The smallest n per side for which the exact two-sided U test can reach p < alpha."""
    for n in range(1, limit + 1):
        if min_p_value(n, n) < alpha:
            return n
    raise ValueError(f"alpha {alpha:g}: more than {limit} runs per side needed")


def compare(
    name: str,
    base: Sequence[float | None],
    other: Sequence[float | None],
    *,
    alpha: float = 0.05,
    min_effect: float = 0.05,
) -> Comparison:
    """`other` against `base` for metric `name`: ratio of medians (interval at 1 - alpha), U-test
    p, verdict."""
    m = metric(name)
    a, b = _clean(base), _clean(other)
    ratio = low = high = level = short = None
    if len(a) and len(b) and np.all(a > 0):
        ratio = float(np.median(b) / np.median(a))
    if np.all(a > 0) and np.all(b > 0):  # the interval is on log values
        ci = ratio_interval(a, b, 1.0 - alpha)
        if ci is None:
            short = ratio_needed_n(1.0 - alpha)
        else:
            low, high, level = float(ci[0]), float(ci[1]), ci[2]
    if min_p_value(len(a), len(b)) >= alpha:
        return Comparison(
            name, len(a), len(b), ratio, low, high, None, "unknown", needed_n(alpha), level, short
        )
    p = float(sps.mannwhitneyu(a, b, alternative="two-sided").pvalue)
    verdict = _verdict(m, a, b, p, ratio, alpha, min_effect)
    return Comparison(name, len(a), len(b), ratio, low, high, p, verdict, None, level, short)


def _verdict(
    m: Metric,
    a: np.ndarray,
    b: np.ndarray,
    p: float,
    ratio: float | None,
    alpha: float,
    min_effect: float,
) -> str:
    if math.isnan(p) or p >= alpha:
        return "~"
    if ratio is not None and abs(ratio - 1.0) < min_effect:
        return "~"
    diff = float(np.median(b) - np.median(a))
    if diff == 0:
        return "~"
    return "better" if (diff > 0) == m.higher_is_better else "worse"


@dataclass(frozen=True)
class CountComparison:
    """Recovered / not recovered faults of a configuration against the baseline's: Fisher's exact
    test on the 2x2 table (two-sided); `verdict` better (more recovered, p < alpha), worse, ~, or
    unknown when either side has no fault at all."""

    base: tuple[int, int]  # (recovered, not recovered)
    other: tuple[int, int]
    p_value: float | None
    odds_ratio: float | None
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare_recovered(
    base: tuple[int, int], other: tuple[int, int], *, alpha: float = 0.05
) -> CountComparison:
    """Fisher's exact test of recovered / not-recovered counts (the censored faults counted, never
    dropped, so a configuration that never recovers is compared, not left out)."""
    if sum(base) == 0 or sum(other) == 0:
        return CountComparison(base, other, None, None, "unknown")
    res = sps.fisher_exact([list(other), list(base)], alternative="two-sided")
    p, odds = float(res.pvalue), float(res.statistic)
    rate_b, rate_o = base[0] / sum(base), other[0] / sum(other)
    better = "better" if rate_o > rate_b else "worse"
    verdict = "~" if p >= alpha or rate_b == rate_o else better
    return CountComparison(base, other, p, odds if math.isfinite(odds) else None, verdict)


def format_p(p: float) -> str:
    return f"{p:.2f}" if p >= 0.01 else f"{p:.1g}"


def format_comparison(c: Comparison) -> str:
    """benchstat-style: `+12.3% (p=0.008 n=5+5)`, `~ (p=0.42 n=5+5)`, `? (n=2+2, needs 4+4)`."""
    sizes = f"n={c.n_base}+{c.n_other}"
    if c.verdict == "unknown":
        return f"? ({sizes}, needs {c.needed_n}+{c.needed_n})"
    p = "" if c.p_value is None else f"p={format_p(c.p_value)} "
    if c.verdict == "~":
        return f"~ ({p}{sizes})"
    delta = "n/a" if c.ratio is None else f"{(c.ratio - 1.0) * 100:+.1f}%"
    return f"{delta} ({p}{sizes})"


def format_summary(s: Summary, digits: int = 1) -> str:
    """`709.1 ±1%` style: median and the CI's half-width relative to the median."""
    if s.median is None:
        return "—"
    text = f"{s.median:,.{digits}f}"
    if s.ci_low is None or s.ci_high is None or s.median == 0:
        return text
    half = max(s.median - s.ci_low, s.ci_high - s.median) / abs(s.median) * 100
    return f"{text} ±{half:.0f}%"


def format_ci(s: Summary, digits: int = 2) -> str:
    """`[698.70, 711.40]`, or `none¹` when the sample is too small for an interval (footnote:
    `median_footnote`)."""
    if s.ci_low is None or s.ci_high is None:
        return "" if s.ci_needed_n is None else "none¹"
    return f"[{s.ci_low:,.{digits}f}, {s.ci_high:,.{digits}f}]"


def format_ratio(c: Comparison) -> str:
    """`1.985 [1.951, 2.020] 96.8%`: the ratio, its interval and that interval's exact coverage;
    `1.985 none²` below the sizes that reach one (footnote: `ratio_footnote`)."""
    if c.ratio is None:
        return ""
    text = f"{c.ratio:.3f}"
    if c.ratio_low is not None and c.ratio_high is not None and c.ratio_level is not None:
        return f"{text} [{c.ratio_low:.3f}, {c.ratio_high:.3f}] {c.ratio_level:.1%}"
    return f"{text} none²" if c.ratio_needed_n is not None else text


def median_footnote(level: float = CONFIDENCE) -> str:
    need = median_needed_n(level)
    widest = 1.0 - 2.0 * 0.5 ** (need - 1)
    return (
        f"¹ no {level:.0%} CI of a median from fewer than {need} runs "
        f"(the widest, [min, max] of {need - 1}, covers it {widest:.1%} of the time)"
    )


def ratio_footnote(level: float = CONFIDENCE) -> str:
    need = ratio_needed_n(level)
    return f"² no ratio CI reaching {level:.0%} from so few runs ({need}+{need} can)"


def interval_notes(marks: set[str] | frozenset[str], alpha: float) -> list[str]:
    """What a table's intervals are, then the footnotes of the marks it used (`¹`, `²`)."""
    notes = [
        "CI of a median: between order statistics (Hettmansperger-Sheather), distribution-free.",
        "Ratio CI: exp of the Mann-Whitney interval of the shift of log values (B = c A), "
        f"followed by its exact coverage (>= {1 - alpha:.0%}).",
    ]
    notes += [median_footnote()] if "¹" in marks else []
    return notes + ([ratio_footnote(1.0 - alpha)] if "²" in marks else [])


def metrics_json(
    metrics: Sequence[str],
    summaries: Mapping[str, Mapping[str, Summary]],
    comparisons: Mapping[str, Mapping[str, Comparison]],
) -> dict[str, Any]:
    """stats.json's per-metric section (the headline metrics and the operator's alike): each
    metric's unit and direction, each group's summary and its comparison with benchstat's words."""
    return {
        m: {
            "unit": metric(m).unit,
            "higher_is_better": metric(m).higher_is_better,
            "summaries": {g: s.to_dict() for g, s in summaries[m].items()},
            "comparisons": {
                g: {**c.to_dict(), "text": format_comparison(c)} for g, c in comparisons[m].items()
            },
        }
        for m in metrics
    }
