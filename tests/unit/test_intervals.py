"""The intervals' labels are their coverage: seeded coverage studies on skewed and heavy-tailed
samples, and the small sizes where no interval can honestly be given.

`pytest -s tests/unit/test_intervals.py` prints the coverage tables (the note's numbers).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats as sps
from scipy.stats import mstats

from workbench import stats

TRIALS = 2000
Draw = Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]

# name -> (draw, true median): skewed (lognormal, Pareto) and heavy-tailed (Student t, 2 df)
MEDIAN_CASES: dict[str, tuple[Draw, float]] = {
    "lognormal(0,1)": (lambda r, s: r.lognormal(0.0, 1.0, s), 1.0),
    "pareto(1.5)": (lambda r, s: r.pareto(1.5, s) + 1.0, 2.0 ** (1 / 1.5)),
    "student_t(2)": (lambda r, s: r.standard_t(2, s), 0.0),
}
# positive samples for the ratio: B is A's distribution scaled by RATIO (its medians' ratio)
RATIO = 1.25
RATIO_CASES: dict[str, Draw] = {
    "lognormal(0,1)": lambda r, s: r.lognormal(0.0, 1.0, s),
    "pareto(1.5)": lambda r, s: r.pareto(1.5, s) + 1.0,
    "|student_t(2)|": lambda r, s: np.abs(r.standard_t(2, s)),
}
SIZES = [(n, n) for n in range(3, 13)] + [(3, 5), (4, 6), (5, 8), (2, 9)]


def median_coverage() -> dict[int, dict[str, float | None]]:
    """n -> distribution -> share of TRIALS intervals covering the true median (None: no interval)."""
    table: dict[int, dict[str, float | None]] = {}
    for n in range(3, 13):
        table[n] = {}
        for i, (name, (draw, truth)) in enumerate(MEDIAN_CASES.items()):
            x = draw(np.random.default_rng([n, i]), (TRIALS, n))
            ci = stats.median_interval(x)
            if ci is None:
                table[n][name] = None
                continue
            low, high, label = ci
            assert label == stats.CONFIDENCE
            table[n][name] = float(np.mean((low <= truth) & (truth <= high)))
    return table


def ratio_coverage() -> dict[tuple[int, int], tuple[float | None, dict[str, float]]]:
    """(m, n) -> (the exact coverage labelled, distribution -> share covering RATIO)."""
    table: dict[tuple[int, int], tuple[float | None, dict[str, float]]] = {}
    for m, n in SIZES:
        label: float | None = None
        shares: dict[str, float] = {}
        for i, (name, draw) in enumerate(RATIO_CASES.items()):
            rng = np.random.default_rng([m, n, i, 7])
            a, b = draw(rng, (TRIALS, m)), RATIO * draw(rng, (TRIALS, n))
            ci = stats.ratio_interval(a, b, 0.95)
            if ci is None:
                break
            low, high, label = ci
            shares[name] = float(np.mean((low <= RATIO) & (high >= RATIO)))
        table[(m, n)] = (label, shares)
    return table


def test_median_interval_labelled_95_covers_95(capsys: pytest.CaptureFixture[str]) -> None:
    table = median_coverage()
    with capsys.disabled():
        print("\nmedian, Hettmansperger-Sheather interval labelled 95%: coverage of 2,000 trials")
        print("n   " + "  ".join(f"{d:>15}" for d in MEDIAN_CASES))
        for n, row in table.items():
            cells = ["no CI (needs 6)" if v is None else f"{v:.1%}" for v in row.values()]
            print(f"{n:<3} " + "  ".join(f"{c:>15}" for c in cells))
    for n, row in table.items():
        for name, cover in row.items():
            if n < 6:  # [min, max] of 5 covers 93.75%: no pair reaches 95%, so none is shown
                assert cover is None, (n, name)
            else:
                assert cover is not None and 0.93 <= cover <= 0.97, (n, name, cover)


def test_ratio_interval_covers_what_its_label_says(capsys: pytest.CaptureFixture[str]) -> None:
    table = ratio_coverage()
    with capsys.disabled():
        print(
            f"\nratio (B = {RATIO} x A), exp of the Moses interval of log shifts: label, coverage"
        )
        print("m+n    label  " + "  ".join(f"{d:>15}" for d in RATIO_CASES))
        for (m, n), (label, shares) in table.items():
            if label is None:
                print(f"{m}+{n:<4} no CI (needs 4+4)")
                continue
            cells = "  ".join(f"{shares[d]:>15.1%}" for d in RATIO_CASES)
            print(f"{m}+{n:<4} {label:6.1%}  {cells}")
    for (m, n), (label, shares) in table.items():
        if 2 / math.comb(m + n, m) > 0.05:  # twice P(U = 0) is over 5% already
            assert label is None, (m, n)
            continue
        assert label is not None and label >= 0.95, (m, n, label)
        for name, cover in shares.items():
            assert abs(cover - label) <= 0.02 and cover >= 0.93, (m, n, name, cover, label)


def test_median_interval_is_scipys_hettmansperger_sheather() -> None:
    rng = np.random.default_rng(3)
    for n in range(6, 30):
        x = rng.lognormal(0.0, 1.0, n)
        ci = stats.median_interval(x)
        assert ci is not None
        assert (float(ci[0]), float(ci[1])) == pytest.approx(tuple(mstats.median_cihs(x)))


def test_exact_coverages_of_the_order_statistics() -> None:
    # [x(1), x(n)] covers the median with 1 - 2 (1/2)^n: 93.75% at 5, 96.9% at 6
    assert stats.median_needed_n(0.95) == 6 and stats.median_needed_n(0.90) == 5
    # the U distribution at 4+4 (70 arrangements) and 5+5 (252): 1 - 2/70, 1 - 8/252
    assert stats.shift_rank(4, 4, 0.95) == (1, pytest.approx(1 - 2 / 70))
    assert stats.shift_rank(5, 5, 0.95) == (3, pytest.approx(1 - 8 / 252))
    assert stats.shift_rank(3, 3, 0.95) is None and stats.ratio_needed_n(0.95) == 4
    x, y = np.array([1.0, 2.0, 4.0]), np.array([0.5, 1.5, 3.0, 5.0])
    assert sps.mannwhitneyu(x, y).statistic == 6  # the U the cdf's constructed samples mimic
    assert stats.shift_rank(3, 4, 0.5) is not None


def test_small_campaigns_get_no_interval_and_say_why() -> None:
    # the A/A campaign's five runs: the bootstrap gave [min, max] = [541.80, 1,123.40] as "95%"
    five = [541.8, 1123.4, 702.9, 811.0, 650.2]
    s = stats.summarize(five)
    assert s.n == 5 and s.ci_low is None and s.ci_high is None
    assert s.ci_level is None and s.ci_needed_n == 6
    assert stats.format_ci(s) == "none¹" and "fewer than 6 runs" in stats.median_footnote()
    assert "93.8%" in stats.median_footnote()
    six = stats.summarize([*five, 700.0])
    assert six.ci_level == 0.95 and six.ci_needed_n is None
    assert six.ci_low is not None and six.ci_high is not None
    assert 541.8 <= six.ci_low <= six.median <= six.ci_high <= 1123.4
    small = stats.compare("throughput", five[:3], five[2:])
    assert small.ratio is not None and small.ratio_low is None and small.ratio_needed_n == 4
    assert stats.format_ratio(small).endswith("none²") and "4+4" in stats.ratio_footnote()
    four = stats.compare("throughput", five[:4], [2 * v for v in five[:4]])
    assert four.ratio_level == pytest.approx(1 - 2 / 70) and four.ratio_needed_n is None
    assert four.ratio_low is not None and four.ratio_high is not None
    assert four.ratio_low < 2.0 < four.ratio_high  # k = 1: the extreme pairwise ratios
    assert four.ratio_low == pytest.approx(min(2 * b / a for a in five[:4] for b in five[:4]))
    assert stats.format_ratio(four).startswith("2.000 [") and stats.format_ratio(four).endswith(
        "] 97.1%"
    )
