"""The newest run against its series: `regression`, `improvement`, `~` or `insufficient`.

Which way is better is the metric's (workbench.stats.metric: throughput higher, latency lower).
The newest point is judged by one of two pieces of evidence, never a guess:

- it lies within `min_size` points after a strong change point (the series moved and it is among
  the first runs after): the change point's own evidence (medians either side, its p-value);
- otherwise against the points of its own segment before it (since the last strong change, at
  most `window`): a two-sided prediction test, t = (x - mean) / (sd sqrt(1 + 1/m)) with m - 1
  degrees of freedom, significant below `strong_p`; the before median is the segment's.

Fewer than `min_size` points before it in its segment, and no change point to speak for it, is
`insufficient` with the count. Exit codes for CI: 0 (`~`, `improvement`), 1 (`regression`),
2 (`insufficient`); 3 is an error of the command or its input.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np
from scipy import special

from workbench import stats

from .detect import Settings
from .series import Analysed

Outcome = Literal["regression", "improvement", "~", "insufficient"]
EXIT = {"~": 0, "improvement": 0, "regression": 1, "insufficient": 2}


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    metric: str
    series: str  # the series' title
    run_id: str | None
    time: str
    value: float
    reason: str
    before: float | None = None  # median before (the segment, or the change point's side)
    after: float | None = None  # the newest value, or the median after the change point
    change: float | None = None  # after / before - 1
    p_value: float | None = None
    n: int = 0  # points of the series

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def text(self) -> str:
        ev = ""
        if self.before is not None and self.after is not None:
            ev = f": {self.before:.4g} -> {self.after:.4g}"
            if self.change is not None:
                ev += f" ({self.change:+.1%}"
                ev += f", p={self.p_value:.2g})" if self.p_value is not None else ")"
        return f"{self.outcome:12s} {self.metric} of {self.run_id or self.time}{ev}; {self.reason}"


def _direction(metric: str, change: float | None) -> Outcome:
    if change is None or change == 0:
        return "~"
    try:
        higher = stats.metric(metric).higher_is_better
    except KeyError:
        return "~"  # a metric without a known direction (a CSV column): moved, not judged
    return "improvement" if (change > 0) == higher else "regression"


def judge(a: Analysed, settings: Settings | None = None) -> Verdict:
    """The newest point of an analysed series against the rest (see the module's doc)."""
    s = settings or Settings()
    pts, n = a.series.points, len(a.series.points)
    newest = pts[-1]
    metric = a.series.metric
    base = Verdict(
        "~", metric, a.series.title, newest.run_id, newest.time, newest.value, reason="", n=n
    )
    strong = a.analysis.strong
    last = strong[-1] if strong else None
    if last is not None and n - last.index <= s.min_size:
        outcome = _small(_direction(metric, last.change), last.change, s)
        why = f"a change point {n - 1 - last.index} run(s) before it (at point {last.index})"
        return replace(
            base, outcome=outcome, reason=why, before=last.before, after=last.after,
            change=last.change, p_value=last.p_value,
        )  # fmt: skip
    start = max(last.index if last else 0, n - 1 - s.window)
    seg = np.array([p.value for p in pts[start : n - 1]])
    if len(seg) < s.min_size:
        why = f"{len(seg)} comparable run(s) before it; {s.min_size} needed"
        return replace(base, outcome="insufficient", reason=why)
    m, before = len(seg), float(np.median(seg))
    sd = float(seg.std(ddof=1))
    change = newest.value / before - 1.0 if before else None
    if sd == 0:
        p = 1.0 if newest.value == seg.mean() else 0.0
    else:
        t = abs(newest.value - seg.mean()) / (sd * np.sqrt(1.0 + 1.0 / m))
        p = float(2.0 * special.stdtr(m - 1, -t))
    outcome = _small(_direction(metric, change), change, s) if p < s.strong_p else "~"
    why = f"against the {m} run(s) of its segment"
    return replace(
        base, outcome=outcome, reason=why, before=before, after=newest.value, change=change,
        p_value=p,
    )  # fmt: skip


def _small(outcome: Outcome, change: float | None, s: Settings) -> Outcome:
    """`~` for a change under `min_change`."""
    if s.min_change and change is not None and abs(change) < s.min_change:
        return "~"
    return outcome


def exit_code(verdicts: Iterable[Verdict]) -> int:
    """1 when any is a regression, else 2 when any is insufficient (or there is none), else 0."""
    codes = [EXIT[v.outcome] for v in verdicts]
    if not codes:
        return 2
    return 1 if 1 in codes else max(codes)
