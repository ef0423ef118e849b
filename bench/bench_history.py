"""The change-point detector's analysis time and its accuracy on the synthetic suite.

    .venv/bin/python bench/bench_history.py              # 100 series x 500 points, then accuracy
    .venv/bin/python bench/bench_history.py --series 100 --points 500 --repeat 3 --seeds 100

Time: the best of --repeat passes over --series seeded series of --points points (1-2% noise, a
10% step in the middle of every other one), each analysed by `change_points` with the default
settings (the target: <= 2 s). Accuracy: per (step, noise) cell of the synthetic suite
(workbench.history.synthetic, 60 points, the step drawn between 15 and 45), the series whose step
was found as a strong change point within one point (true positives) and the strong change points
elsewhere (false positives); then noise-only series of 50 points (3% noise) without a strong one.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from workbench.history.detect import Settings, change_points
from workbench.history.synthetic import NOISES, STEPS, score_noise, score_steps


def timing(series: int, points: int, repeat: int, settings: Settings) -> float:
    rng = np.random.default_rng(0)
    data = 100 * (1 + rng.uniform(0.01, 0.02, (series, 1)) * rng.standard_normal((series, points)))
    data[::2, points // 2 :] *= 1.1
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        for x in data:
            change_points(x, settings)
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--series", type=int, default=100)
    ap.add_argument("--points", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seeds", type=int, default=100, help="series per accuracy cell")
    ap.add_argument("--test", choices=("t", "permutation"), default="t")
    args = ap.parse_args()
    settings = Settings(test=args.test)
    took = timing(args.series, args.points, args.repeat, settings)
    print(f"{args.series} series x {args.points} points: {took:.2f} s (best of {args.repeat})")
    seeds = range(args.seeds)
    tp = fp = n = 0
    print("step   noise  found(+-1)  false strong")
    for step in STEPS:
        for noise in NOISES:
            s = score_steps(step, noise, seeds, settings=settings)
            tp, fp, n = tp + s.true_positives, fp + s.false_positives, n + s.series
            print(
                f"{step:4.0%}  {noise:5.0%}  {s.true_positives:4d}/{s.series}   {s.false_positives:4d}"
            )
    print(f"all steps: {tp}/{n} found, {fp} false strong change points")
    q = score_noise(seeds, settings=settings)
    print(f"noise only (50 points, 3%): {q.true_positives}/{q.series} without a strong change")


if __name__ == "__main__":
    main()
