"""Statistics over repeated runs: summaries, comparisons to a baseline, verdicts, benchstat strings.

The replication unit is a whole run: each sample is one number per run (its throughput, its TOTAL
p99, ...). Per sample: n, median, mean, a 95% bootstrap CI of the median and the coefficient of
variation. Per comparison to a baseline: the ratio of medians with its 95% bootstrap CI, the
two-sided Mann-Whitney U p-value and a verdict: `better` / `worse` (significant and at least
`min_effect` away from 1), `~` (not significant, or under `min_effect`) or `unknown` (too few runs:
the exact U test cannot reach p < alpha at these sizes; `needed_n` says how many per side can).
scipy does the statistics (`bootstrap`, `mannwhitneyu`, `variation`); the bootstrap is seeded, so a
campaign's numbers are reproducible; `n_resamples` (default 9999) is how many resamples each CI
takes (a campaign file may set it; quick tests use fewer). Which direction is better lives in the metric registry.
Nothing here reads files or draws figures (the campaign package does).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import stats as sps

CONFIDENCE = 0.95
DEFAULT_SEED = 1
N_RESAMPLES = 9999
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


def metric(name: str) -> Metric:
    if name not in METRICS:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(METRICS)}")
    return METRICS[name]


@dataclass(frozen=True)
class Summary:
    """One configuration's sample of one metric."""

    n: int
    median: float | None
    mean: float | None
    ci_low: float | None  # 95% bootstrap CI of the median
    ci_high: float | None
    cv: float | None  # coefficient of variation (sample standard deviation / mean)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Comparison:
    """A configuration against the baseline, for one metric."""

    metric: str
    n_base: int
    n_other: int
    ratio: float | None  # median(other) / median(baseline)
    ratio_low: float | None
    ratio_high: float | None
    p_value: float | None
    verdict: str  # one of VERDICTS
    needed_n: int | None  # runs per side the exact U test needs at alpha (set when unknown)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _clean(values: Sequence[float | None]) -> np.ndarray:
    arr = np.array([float(v) for v in values if v is not None], dtype=float)
    return arr[np.isfinite(arr)]


def _ci(
    sample: tuple[np.ndarray, ...], statistic: Any, seed: int, n_resamples: int
) -> tuple[float, float]:
    res = sps.bootstrap(
        sample,
        statistic,
        confidence_level=CONFIDENCE,
        n_resamples=n_resamples,
        method="percentile",
        vectorized=True,
        rng=np.random.default_rng(seed),
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def _median(x: np.ndarray, axis: int = -1) -> Any:
    return np.median(x, axis=axis)


def _ratio_of_medians(base: np.ndarray, other: np.ndarray, axis: int = -1) -> Any:
    return np.median(other, axis=axis) / np.median(base, axis=axis)


def summarize(
    values: Sequence[float | None], seed: int = DEFAULT_SEED, n_resamples: int = N_RESAMPLES
) -> Summary:
    """n, median, mean, 95% bootstrap CI of the median, CV of one sample (None/NaN dropped)."""
    x = _clean(values)
    if len(x) == 0:
        return Summary(0, None, None, None, None, None)
    median, mean = float(np.median(x)), float(np.mean(x))
    if len(x) == 1:
        return Summary(1, median, mean, None, None, None)
    low, high = _ci((x,), _median, seed, n_resamples)
    cv = float(sps.variation(x, ddof=1)) if mean != 0 else None
    return Summary(len(x), median, mean, low, high, cv)


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
    seed: int = DEFAULT_SEED,
    n_resamples: int = N_RESAMPLES,
) -> Comparison:
    """`other` against `base` for metric `name`: ratio of medians (CI), U-test p, verdict."""
    m = metric(name)
    a, b = _clean(base), _clean(other)
    ratio = low = high = None
    if len(a) and len(b) and np.all(a > 0):
        ratio = float(_ratio_of_medians(a, b))
        if len(a) > 1 and len(b) > 1:
            low, high = _ci((a, b), _ratio_of_medians, seed, n_resamples)
    if min_p_value(len(a), len(b)) >= alpha:
        need = needed_n(alpha)
        return Comparison(name, len(a), len(b), ratio, low, high, None, "unknown", need)
    p = float(sps.mannwhitneyu(a, b, alternative="two-sided").pvalue)
    verdict = _verdict(m, a, b, p, ratio, alpha, min_effect)
    return Comparison(name, len(a), len(b), ratio, low, high, p, verdict, None)


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
