"""The change-point detector on synthetic series of known truth (seeded, so every count is exact)."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.history.detect import (
    Settings,
    change_points,
    earlier_abs_sums,
    energy_split,
    scan_adjusted,
    welch_p,
)
from workbench.history.synthetic import noise_series, score_noise, score_steps, step_series


def test_earlier_abs_sums_match_the_pairwise_definition() -> None:
    y = np.random.default_rng(3).standard_normal(300)  # several blocks
    ref = np.array([np.abs(y[j] - y[:j]).sum() for j in range(len(y))])
    assert np.allclose(earlier_abs_sums(y), ref)


def test_energy_split_matches_the_published_statistic() -> None:
    y = np.random.default_rng(4).standard_normal(40)
    y[17:] += 1.5

    def q(tau: int) -> float:
        a, b = y[:tau], y[tau:]
        m, k = len(a), len(b)
        cross = np.abs(a[:, None] - b[None, :]).mean()
        wa = np.abs(a[:, None] - a[None, :]).sum() / (m * (m - 1))
        wb = np.abs(b[:, None] - b[None, :]).sum() / (k * (k - 1))
        return m * k / (m + k) * (2 * cross - wa - wb)

    tau, value = energy_split(y, 5)  # type: ignore[misc]
    ref = [q(t) for t in range(5, 36)]
    assert tau == 5 + int(np.argmax(ref))
    assert value == pytest.approx(max(ref))
    assert energy_split(y[:9], 5) is None


@pytest.mark.parametrize(("step", "noise"), [(0.05, 0.01), (0.05, 0.02), (0.1, 0.03), (0.2, 0.05)])
def test_steps_are_found_at_the_right_index(step: float, noise: float) -> None:
    score = score_steps(step, noise, range(40))
    assert score.recall >= 0.9, score
    assert score.false_positives <= 4, score


@pytest.mark.parametrize("step", [0.05, 0.1, 0.2])
def test_a_clear_step_is_found_within_one_point_in_every_seed(step: float) -> None:
    for seed in range(20):
        x, k = step_series(seed, step=step, noise=0.01)
        idx = [c.index for c in change_points(x).strong]
        assert any(abs(i - k) <= 1 for i in idx), (seed, k, idx)


def test_the_evidence_of_a_change() -> None:
    x, _k = step_series(7, at=30, step=-0.2, noise=0.01)
    (c,) = change_points(x).strong
    assert c.index == 30
    assert c.before == pytest.approx(100, rel=0.02)
    assert c.after == pytest.approx(80, rel=0.02)
    assert c.change == pytest.approx(-0.2, abs=0.02)
    assert c.p_value < 1e-6
    assert c.to_dict()["strength"] == "strong"


def test_noise_only_gives_no_strong_change_in_95_percent_of_seeds() -> None:
    score = score_noise(range(100), n=50, noise=0.03)
    assert score.true_positives >= 95, score


def test_single_outliers_and_short_spikes_are_not_change_points() -> None:
    for seed in range(50):
        rng = np.random.default_rng(seed)
        x = noise_series(seed, n=50, noise=0.02)
        length = 1 + seed % 3
        at = int(rng.integers(10, 38))
        x[at : at + length] *= 1.5
        assert not change_points(x).strong, (seed, at, length)


def test_a_regression_later_fixed_gives_two_change_points() -> None:
    for seed in range(10):
        x = noise_series(seed, n=60, noise=0.02)
        x[20:40] *= 1.15
        a = change_points(x)
        assert [c.index for c in a.strong] == [20, 40], seed
        assert a.strong[0].change > 0.1 and a.strong[1].change < -0.1  # type: ignore[operator]
        assert {0, 20, 40} <= {s.start for s in a.segments}


def test_a_change_of_variance_alone_is_not_a_level_change() -> None:
    hits = 0
    for seed in range(50):
        rng = np.random.default_rng(seed)
        x = 100 + rng.standard_normal(60) * np.r_[np.full(30, 1.0), np.full(30, 5.0)]
        hits += bool(change_points(x).strong)
    assert hits <= 2


def test_too_few_points_are_insufficient() -> None:
    a = change_points([1.0, 2.0, 3.0, 10, 10, 10, 10, 10, 10])
    assert a.insufficient and "at least 5 on each side" in a.insufficient
    assert a.change_points == []
    assert change_points(np.r_[np.ones(5), np.ones(5) * 2]).strong[0].index == 5


def test_constant_and_bad_input() -> None:
    assert change_points(np.full(30, 5.0)).change_points == []
    with pytest.raises(ValueError, match="finite"):
        change_points([1.0, float("nan")] * 10)
    with pytest.raises(ValueError, match="min_size"):
        Settings(min_size=1)


def test_the_permutation_re_test_is_seeded_and_agrees() -> None:
    x, _k = step_series(2, at=25, step=0.1, noise=0.01)
    s = Settings(test="permutation", seed=1)
    a, b = change_points(x, s), change_points(x, s)
    assert a == b
    assert [c.index for c in a.strong] == [25]
    clean = sum(not change_points(noise_series(seed), s).strong for seed in range(20))
    assert clean >= 19


def test_welch_and_the_scan_adjustment() -> None:
    assert welch_p(np.ones(5), np.ones(5)) == 1.0
    assert welch_p(np.ones(5), np.ones(5) * 2) == 0.0
    assert scan_adjusted(0.001, 60, 5) == pytest.approx(0.028, abs=0.006)
    assert 1e-300 <= scan_adjusted(1e-300, 60, 5) < 1e-290
    assert scan_adjusted(0.5, 60, 5) == pytest.approx(1.0)
