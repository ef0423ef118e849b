"""Campaign statistics against scipy's own results on fixed samples."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps
from scipy.stats import mstats

from workbench import stats

# Two etcd-like throughput samples (ops/s), five runs each, well separated.
T2 = [709.1, 702.9, 711.4, 698.7, 705.0]
T8 = [1390.2, 1402.8, 1378.5, 1411.0, 1399.3]


def test_summary_matches_numpy_and_scipy() -> None:
    six = [*T2, 700.5]
    s = stats.summarize(six)
    assert s.n == 6 and s.median == pytest.approx(np.median(six))
    assert s.mean == pytest.approx(np.mean(six))
    ref = mstats.median_cihs(np.array(six), alpha=0.05)
    assert (s.ci_low, s.ci_high) == pytest.approx(tuple(ref)) and s.ci_level == 0.95
    assert s.ci_low is not None and s.ci_high is not None
    assert min(six) <= s.ci_low <= s.median <= s.ci_high <= max(six)
    assert s.cv == pytest.approx(np.std(six, ddof=1) / np.mean(six))
    five = stats.summarize(T2)  # no pair of 5 order statistics covers a median 95% of the time
    assert five.cv == pytest.approx(np.std(T2, ddof=1) / np.mean(T2)) and five.ci_low is None


def test_ratio_interval_is_the_u_tests_shift_interval() -> None:
    c = stats.compare("throughput", T2, T8)
    assert c.ratio_low is not None and c.ratio_high is not None and c.ratio is not None
    assert c.ratio_low <= c.ratio <= c.ratio_high and c.verdict == "better"
    # 5+5: k = 3, P(U <= 2) = 4/252; the 3rd smallest and 3rd largest of 25 log ratios
    logs = np.sort([np.log(b) - np.log(a) for a in T2 for b in T8])
    assert (c.ratio_low, c.ratio_high) == pytest.approx((np.exp(logs[2]), np.exp(logs[-3])))
    assert c.ratio_level == pytest.approx(1 - 8 / 252) and c.ratio_needed_n is None
    # its duality with the test: shifted by the interval's ends, the exact U test is at the edge
    inside = sps.mannwhitneyu(np.log(T2), np.log(T8) - np.log(c.ratio), method="exact")
    assert inside.pvalue > 0.05


def test_intervals_are_deterministic() -> None:
    noisy = [1.0, 7.0, 3.0, 9.0, 4.0, 12.0, 2.0]
    assert stats.summarize(noisy) == stats.summarize(list(reversed(noisy)))
    c = stats.compare("throughput", noisy, [x * 2 for x in noisy])
    assert c == stats.compare("throughput", noisy, [x * 2 for x in noisy])


def test_u_test_and_ratio_match_scipy() -> None:
    c = stats.compare("throughput", T2, T8, alpha=0.05)
    ref = sps.mannwhitneyu(T2, T8, alternative="two-sided")
    assert c.p_value == pytest.approx(ref.pvalue) and c.p_value == pytest.approx(2 / 252)
    assert c.ratio == pytest.approx(np.median(T8) / np.median(T2))
    assert c.verdict == "better" and c.needed_n is None
    assert stats.format_comparison(c) == "+98.5% (p=0.008 n=5+5)"


def test_direction_depends_on_the_metric() -> None:
    faster = stats.compare("throughput", T2, T8)
    slower_latency = stats.compare("p99_ms", T2, T8)  # the same numbers read as latency
    assert faster.verdict == "better" and slower_latency.verdict == "worse"
    assert stats.compare("p99_ms", T8, T2).verdict == "better"
    with pytest.raises(KeyError, match="unknown metric"):
        stats.compare("bogus", T2, T8)


def test_a_a_is_not_a_difference() -> None:
    c = stats.compare("throughput", T2, T2)
    assert c.verdict == "~" and c.p_value == pytest.approx(1.0) and c.ratio == 1.0
    assert stats.format_comparison(c) == "~ (p=1.00 n=5+5)"
    overlapping = stats.compare("throughput", T2, [712.0, 715.0, 704.0, 709.0, 716.0])
    assert overlapping.verdict == "~" and overlapping.p_value is not None
    p = sps.mannwhitneyu(T2, [712.0, 715.0, 704.0, 709.0, 716.0]).pvalue
    assert overlapping.p_value == pytest.approx(p) and 0.05 < p < 1
    assert stats.format_comparison(overlapping) == f"~ (p={p:.2f} n=5+5)"


def test_significant_but_small_is_not_a_difference() -> None:
    base = [100.0, 100.1, 100.2, 100.3, 100.4]
    plus2 = [x * 1.02 for x in base]
    c = stats.compare("throughput", base, plus2, min_effect=0.05)
    assert c.p_value is not None and c.p_value < 0.05 and c.verdict == "~"
    assert stats.compare("throughput", base, plus2, min_effect=0.01).verdict == "better"


def test_needed_n_is_the_exact_tests_limit() -> None:
    # exact two-sided U test, fully separated samples: min p = 2 / C(2n, n)
    assert stats.min_p_value(3, 3) == pytest.approx(2 / 20)
    assert stats.min_p_value(4, 4) == pytest.approx(2 / 70)
    assert stats.needed_n(0.05) == 4
    assert stats.needed_n(0.002) == 7  # asv's threshold: 2/924 > 0.002 > 2/3432
    c = stats.compare("throughput", T2[:3], T8[:3], alpha=0.05)
    assert c.verdict == "unknown" and c.needed_n == 4 and c.p_value is None
    assert stats.format_comparison(c) == "? (n=3+3, needs 4+4)"
    # 4+4 separated reaches p=0.029 < 0.05
    assert stats.compare("throughput", T2[:4], T8[:4], alpha=0.05).verdict == "better"


def test_degenerate_samples() -> None:
    empty = stats.summarize([])
    assert empty.n == 0 and empty.median is None
    one = stats.summarize([5.0, None, float("nan")])
    assert one.n == 1 and one.median == 5.0 and one.ci_low is None and one.cv is None
    flat = stats.summarize([3.0] * 6)
    assert (flat.ci_low, flat.ci_high, flat.cv) == (3.0, 3.0, 0.0)
    zeros = stats.compare("errors", [0.0] * 5, [0.0] * 5)
    assert zeros.ratio is None and zeros.verdict == "~"
    more_errors = stats.compare("errors", [0.0] * 5, [3.0, 4.0, 5.0, 6.0, 7.0])
    assert more_errors.verdict == "worse" and more_errors.ratio is None
    assert stats.format_summary(stats.summarize(T2)) == "705.0"  # 5 runs: no interval
    assert stats.format_summary(stats.summarize([*T2, 700.5])) == "704.0 ±1%"
