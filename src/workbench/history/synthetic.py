"""Synthetic series of known truth: the accuracy suite the unit tests and bench/bench_history.py
share. Every series is seeded (numpy's default_rng), so a count is the same on every machine.

A step series is `n` points of level 100 with relative normal noise `noise`, multiplied by
(1 + step) from index `at` on. Detection is scored per series: a true positive is a strong change
point within `tolerance` points of the truth, a false positive any other strong change point, and
on a noise-only series every strong change point is false.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .detect import Settings, change_points

STEPS = (0.05, 0.10, 0.20)
NOISES = (0.01, 0.02, 0.03, 0.05)


def step_series(
    seed: int, *, n: int = 60, at: int | None = None, step: float = 0.1, noise: float = 0.02
) -> tuple[np.ndarray, int]:
    """(series, index of the step); `at` None: drawn between n/4 and 3n/4."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(n // 4, 3 * n // 4)) if at is None else at
    x = 100.0 * (1.0 + noise * rng.standard_normal(n))
    x[k:] *= 1.0 + step
    return x, k


def noise_series(seed: int, *, n: int = 50, noise: float = 0.03) -> np.ndarray:
    return 100.0 * (1.0 + noise * np.random.default_rng(seed).standard_normal(n))


@dataclass(frozen=True)
class Score:
    series: int
    true_positives: int  # series whose step was found (strong, within tolerance)
    false_positives: int  # strong change points that are not the step

    @property
    def recall(self) -> float:
        return self.true_positives / self.series if self.series else 0.0


def score_steps(
    step: float,
    noise: float,
    seeds: range,
    *,
    n: int = 60,
    tolerance: int = 1,
    settings: Settings | None = None,
) -> Score:
    tp = fp = 0
    for seed in seeds:
        x, k = step_series(seed, n=n, step=step, noise=noise)
        found = [c.index for c in change_points(x, settings).strong]
        hit = any(abs(i - k) <= tolerance for i in found)
        tp += hit
        fp += sum(abs(i - k) > tolerance for i in found)
    return Score(len(seeds), tp, fp)


def score_noise(
    seeds: range, *, n: int = 50, noise: float = 0.03, settings: Settings | None = None
) -> Score:
    """Noise only: `true_positives` counts the series WITHOUT a strong change point."""
    clean = fp = 0
    for seed in seeds:
        strong = change_points(noise_series(seed, n=n, noise=noise), settings).strong
        clean += not strong
        fp += len(strong)
    return Score(len(seeds), clean, fp)
