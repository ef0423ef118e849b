"""The operator under test's scores across groups of runs (a campaign's configurations, or the
groups `workbench compare` makes): `analyze_operator` and its `OperatorTable`.

Per group and operator metric (stats.SCORE_METRICS: detect, first action, recovery,
unavailability) the summary of each counted run's median over its faults (campaign.metrics.
operator_numbers), with the median's interval (none below stats' minimum n); against the baseline
the Mann-Whitney comparison where both sides have values (a control without an operator has no
detection and no recovery: no comparison, said so). A censored fault (never whole again) has no
recovery time but is never dropped: the recovered / not-recovered counts of every run's faults
are summed per group and compared with Fisher's exact test (stats.compare_recovered).
`fault_lines` shows single runs' faults side by side. Nothing here reads a run directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from workbench import stats
from workbench.campaign.metrics import OPERATOR_METRICS, OperatorNumbers
from workbench.operator.scores import FaultScore

# the operator metrics' short names (terminal and report columns)
SHORT = {
    "operator_detect_s": "detect",
    "operator_action_s": "first action",
    "operator_recovery_s": "recovery",
    "operator_unavailability_s": "unavailability",
}


@dataclass(frozen=True)
class Counts:
    """A group's faults over its runs: recovered, not recovered (censored), neither (the scores
    could not tell; in no test)."""

    recovered: int = 0
    not_recovered: int = 0
    undetermined: int = 0

    @property
    def pair(self) -> tuple[int, int]:
        return self.recovered, self.not_recovered

    def text(self) -> str:
        """`5 of 5` (recovered of the faults whose outcome is known), `+1 undetermined`."""
        out = f"{self.recovered} of {self.recovered + self.not_recovered}"
        return out + (f" (+{self.undetermined} undetermined)" if self.undetermined else "")


@dataclass
class OperatorTable:
    baseline: str
    groups: list[str]
    alpha: float
    min_effect: float
    runs: dict[str, int]  # group -> counted runs with operator scores
    summaries: dict[str, dict[str, stats.Summary]]  # metric -> group -> summary
    comparisons: dict[str, dict[str, stats.Comparison]]  # metric -> group -> (both have values)
    counts: dict[str, Counts]  # group -> its runs' faults
    #: group (not the baseline; both with scores) -> Fisher's test
    recovered: dict[str, stats.CountComparison]
    metrics: list[str] = field(default_factory=lambda: list(OPERATOR_METRICS))

    def to_json(self) -> dict[str, Any]:
        """stats.json's `operator` section (artifacts.campaign.OperatorStats)."""
        return {
            "runs": self.runs,
            "metrics": stats.metrics_json(self.metrics, self.summaries, self.comparisons),
            "counts": {g: asdict(c) for g, c in self.counts.items()},
            "recovered": {
                g: {**c.to_dict(), "text": recovered_text(c)} for g, c in self.recovered.items()
            },
        }

    def comparison_text(self, metric: str, group: str) -> str:
        """The comparison's benchstat words, or why there is none (`baseline`, no values)."""
        if group == self.baseline:
            return "baseline"
        c = self.comparisons[metric].get(group)
        if c is not None:
            return stats.format_comparison(c)
        side = group if self.summaries[metric][group].n == 0 else self.baseline
        return f"no comparison ({side} has no values)"

    def recovered_text(self, group: str) -> str:
        """Fisher's test in words, or why there is none."""
        if group == self.baseline:
            return "baseline"
        c = self.recovered.get(group)
        if c is not None:
            return recovered_text(c)
        side = group if not self.runs[group] else self.baseline
        return f"no comparison (no run of {side} has operator scores)"

    def unknown(self) -> list[str]:
        """`operator_recovery_s group: ? (n=2+2, needs 4+4)` for each comparison left unknown."""
        out = [
            f"{m} {g}: {stats.format_comparison(c)}"
            for m in self.metrics
            for g, c in self.comparisons[m].items()
            if c.verdict == "unknown"
        ]
        return out + [
            f"recovered {g}: {recovered_text(c)}"
            for g, c in self.recovered.items()
            if c.verdict == "unknown"
        ]


def recovered_text(c: stats.CountComparison) -> str:
    """`better (Fisher p=0.0079: 5 of 5 vs 0 of 5)`, `unknown (no fault in ...)`."""
    got = f"{c.other[0]} of {sum(c.other)} vs {c.base[0]} of {sum(c.base)}"
    if c.p_value is None:
        return f"unknown (no fault with a known outcome: {got})"
    return f"{c.verdict} (Fisher p={c.p_value:.2g}: {got})"


def analyze_operator(
    samples: dict[str, list[OperatorNumbers]],
    baseline: str,
    groups: Sequence[str],
    *,
    alpha: float = 0.05,
    min_effect: float = 0.05,
) -> OperatorTable | None:
    """The operator statistics of `samples` (group -> each counted run's operator numbers, runs
    without operator.json absent); None when no run has any. `groups`: the order, baseline first."""
    if not any(samples.get(g) for g in groups):
        return None
    order = [baseline, *(g for g in groups if g != baseline)]
    summaries: dict[str, dict[str, stats.Summary]] = {}
    comparisons: dict[str, dict[str, stats.Comparison]] = {}
    for m in OPERATOR_METRICS:
        values = {g: [n.values.get(m) for n in samples.get(g, [])] for g in order}
        summaries[m] = {g: stats.summarize(values[g]) for g in order}
        comparisons[m] = {
            g: stats.compare(m, values[baseline], values[g], alpha=alpha, min_effect=min_effect)
            for g in order[1:]
            if summaries[m][g].n and summaries[m][baseline].n
        }
    counts = {
        g: Counts(
            sum(n.recovered for n in samples.get(g, [])),
            sum(n.not_recovered for n in samples.get(g, [])),
            sum(n.undetermined for n in samples.get(g, [])),
        )
        for g in order
    }
    runs = {g: len(samples.get(g, [])) for g in order}
    recovered = {  # between groups with scores (a configuration with none is no operator's)
        g: stats.compare_recovered(counts[baseline].pair, counts[g].pair, alpha=alpha)
        for g in order[1:]
        if runs[g] and runs[baseline]
    }
    return OperatorTable(
        baseline, order, alpha, min_effect, runs, summaries, comparisons, counts, recovered
    )


def _grid(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]


def format_operator(t: OperatorTable) -> tuple[str, set[str]]:
    """The terminal block of the operator statistics and the footnote marks it used."""
    used: set[str] = set()
    blocks = []
    for m in t.metrics:
        info = stats.metric(m)
        rows = [["", "n", "median", "95% CI", f"vs {t.baseline}"]]
        for g in t.groups:
            s = t.summaries[m][g]
            ci = stats.format_ci(s) if s.n else ""
            used.update(mark for mark in "¹" if mark in ci)
            median = "—" if s.median is None else f"{s.median:,.2f}"
            rows.append([g, str(s.n), median, ci, t.comparison_text(m, g)])
        blocks.append(f"{info.label} ({info.unit}, lower is better)\n" + "\n".join(_grid(rows)))
    rows = [["", "runs", "recovered", f"vs {t.baseline}"]]
    for g in t.groups:
        rows.append([g, str(t.runs[g]), t.counts[g].text(), t.recovered_text(g)])
    blocks.append(
        "operator: faults recovered (censored faults counted as not recovered)\n"
        + "\n".join(_grid(rows))
    )
    head = (
        "Operator scores: each run's median over its faults; n: runs with a value "
        "(a fault never recovered has no recovery time)"
    )
    return head + "\n\n" + "\n\n".join(blocks), used


def _s(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f}"


def fault_cells(f: FaultScore) -> list[str]:
    """One fault's detect, first action, recovery ("not recovered" when censored) and
    unavailability, in seconds from its onset."""
    if f.recovered and f.recovery_s is not None:
        recovery = _s(f.recovery_s)
    elif f.censored:
        recovery = "not recovered"
    else:
        recovery = "unknown"
    action = _s(f.first_action_s) + (f" ({f.first_action})" if f.first_action else "")
    return [_s(f.detect_s), action, recovery, _s(f.unavailability_s)]


FAULT_HEAD = ["run", "fault", "detect s", "first action s", "recovery s", "unavailability s"]


def fault_lines(runs: dict[str, list[FaultScore]]) -> str:
    """Single runs' faults side by side (run -> its scored faults)."""
    rows = [list(FAULT_HEAD)]
    for run, faults in runs.items():
        for f in faults:
            rows.append([run, f.label, *fault_cells(f)])
        if not faults:
            rows.append([run, "(no fault scored)", "", "", "", ""])
    return "Operator scores by fault (seconds from each fault's onset)\n" + "\n".join(_grid(rows))
