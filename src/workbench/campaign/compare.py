"""Groups of runs side by side: statistics per group and metric, verdicts against a baseline group.

`compare(dirs)` takes directories and makes groups from them:
  - a campaign directory (campaign.json) gives one group per configuration (its counted runs);
    with more than one directory given, the group is named `<campaign dir>/<config>`;
  - a run directory (run.json) is a group of that one run, named by its run id;
  - a directory holding run directories (no run.json of its own) is one group of all of them.
The first group is the baseline unless one is named. A single campaign directory brings its own
metrics, alpha and min_effect. `of_store` is one campaign's own statistics (stats.json,
the report, the notebook); `analyze` does the statistics for any samples; `format_table` prints
the benchstat-style table and `CompareTable.to_json` is the `--json` form. When counted runs have
operator.json, the table carries the operator scores' statistics (campaign.opscores, `operator`),
and run directories given one by one their faults side by side (`faults`). No run is executed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from workbench import stats
from workbench.artifacts import is_run_dir
from workbench.artifacts.campaign import CampaignDir, StatsDoc
from workbench.artifacts.record import Headline
from workbench.campaign.metrics import (
    OperatorNumbers,
    operator_faults,
    operator_numbers,
    run_metrics,
)
from workbench.campaign.opscores import (
    OperatorTable,
    analyze_operator,
    fault_lines,
    format_operator,
)
from workbench.campaign.store import CampaignStore
from workbench.errors import ConfigError
from workbench.operator.scores import FaultScore

DEFAULT_METRICS = ("throughput", "p50_ms", "p99_ms", "p999_ms", "errors")


@dataclass
class CompareTable:
    baseline: str
    groups: list[str]
    metrics: list[str]
    alpha: float
    min_effect: float
    summaries: dict[str, dict[str, stats.Summary]]  # metric -> group -> summary
    comparisons: dict[str, dict[str, stats.Comparison]]  # metric -> group (not baseline) -> ...
    excluded: dict[str, int] = field(default_factory=dict)  # group -> runs left out
    operator: OperatorTable | None = None  # the operator scores' statistics, when runs had any
    #: run directories given one by one: each run's scored faults, side by side
    faults: dict[str, list[FaultScore]] = field(default_factory=dict)

    def document(self, campaign_id: str = "") -> StatsDoc:
        """The table as stats.json's typed document."""
        return StatsDoc.model_validate({"campaign_id": campaign_id, **self.to_json()})

    def to_json(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "groups": self.groups,
            "alpha": self.alpha,
            "min_effect": self.min_effect,
            "excluded": self.excluded,
            "metrics": stats.metrics_json(self.metrics, self.summaries, self.comparisons),
            "operator": None if self.operator is None else self.operator.to_json(),
            **({"faults": self._faults_json()} if self.faults else {}),
        }

    def _faults_json(self) -> dict[str, list[dict[str, Any]]]:
        keep = ("label", "target", "onset_s", "detect_s", "first_action_s", "first_action",
                "recovered", "censored", "recovery_s", "unavailability_s")  # fmt: skip
        return {
            run: [{k: getattr(f, k) for k in keep} for f in faults]
            for run, faults in self.faults.items()
        }


def analyze(
    samples: dict[str, list[Headline]],
    baseline: str,
    metrics: Sequence[str] = DEFAULT_METRICS,
    *,
    alpha: float = 0.05,
    min_effect: float = 0.05,
    excluded: dict[str, int] | None = None,
    operator: dict[str, list[OperatorNumbers]] | None = None,
) -> CompareTable:
    """Statistics of `samples` (group -> each run's headline numbers), the baseline first;
    `operator` (group -> its counted runs' operator numbers) adds the operator statistics."""
    if baseline not in samples:
        raise ConfigError(f"baseline {baseline!r} is not a group; groups: {', '.join(samples)}")
    groups = [baseline, *(g for g in samples if g != baseline)]
    summaries: dict[str, dict[str, stats.Summary]] = {}
    comparisons: dict[str, dict[str, stats.Comparison]] = {}
    for m in metrics:
        values = {g: [run.value(m) for run in samples[g]] for g in groups}
        summaries[m] = {g: stats.summarize(values[g]) for g in groups}
        comparisons[m] = {
            g: stats.compare(m, values[baseline], values[g], alpha=alpha, min_effect=min_effect)
            for g in groups[1:]
        }
    scores = analyze_operator(operator or {}, baseline, groups, alpha=alpha, min_effect=min_effect)
    return CompareTable(
        baseline, groups, list(metrics), alpha, min_effect, summaries, comparisons,
        dict(excluded or dict.fromkeys(groups, 0)), scores,
    )  # fmt: skip


def of_store(store: CampaignStore) -> CompareTable:
    """A campaign's statistics from its counted runs, with the file's metrics, alpha and
    min_effect (what stats.json and the report hold)."""
    f = store.file
    return analyze(
        store.samples(),
        store.record.baseline,
        f.compare.metrics,
        alpha=f.compare.alpha,
        min_effect=f.compare.min_effect,
        excluded=store.excluded(),
        operator=store.operator_samples(),
    )


def compare(
    dirs: Sequence[Path | str],
    *,
    baseline: str | None = None,
    metrics: Sequence[str] | None = None,
    alpha: float | None = None,
    min_effect: float | None = None,
) -> CompareTable:
    """Compare run directories, directories of runs and campaign directories (see the module)."""
    samples: dict[str, list[Headline]] = {}
    excluded: dict[str, int] = {}
    scores: dict[str, list[OperatorNumbers]] = {}
    faults: dict[str, list[FaultScore]] = {}
    own: CampaignStore | None = None  # a single campaign directory brings its own settings
    for d in map(Path, dirs):
        campaign = CampaignDir.is_campaign(d)
        prefix = f"{d.name}/" if campaign and len(dirs) > 1 else ""
        groups, store = _groups(d)
        own = store if len(dirs) == 1 else None
        for name, group in groups.items():
            key = _unique(prefix + name, samples)
            samples[key], excluded[key], scores[key] = group.runs, group.left_out, group.operator
            if group.faults is not None:
                faults[key] = group.faults
    if not samples:
        raise ConfigError("nothing to compare: no run or campaign directories given")
    f = own.file if own is not None else None
    table = analyze(
        samples,
        baseline or (own.record.baseline if own is not None else next(iter(samples))),
        metrics or (f.compare.metrics if f else _default_metrics(samples)),
        alpha=alpha or (f.compare.alpha if f else 0.05),
        min_effect=min_effect if min_effect is not None else (f.compare.min_effect if f else 0.05),
        excluded=excluded,
        operator=scores,
    )
    table.faults = faults
    return table


def _default_metrics(samples: dict[str, list[Headline]]) -> tuple[str, ...]:
    """DEFAULT_METRICS, with the intended-time p99 (TOTAL-INTENDED) after the service-time p99
    when some run measured it (a run at a target rate)."""
    if any(n.intended_p99_ms is not None for runs in samples.values() for n in runs):
        i = DEFAULT_METRICS.index("p99_ms") + 1
        return (*DEFAULT_METRICS[:i], "intended_p99_ms", *DEFAULT_METRICS[i:])
    return DEFAULT_METRICS


@dataclass(frozen=True)
class Group:
    """One group's counted runs' numbers, how many runs were left out, the counted runs'
    operator numbers, and (a single run directory given) its scored faults."""

    runs: list[Headline]
    left_out: int
    operator: list[OperatorNumbers]
    faults: list[FaultScore] | None = None


def _groups(d: Path) -> tuple[dict[str, Group], CampaignStore | None]:
    if CampaignDir.is_campaign(d):
        store = CampaignStore(d)
        left_out, scores = store.excluded(), store.operator_samples()
        return {
            c: Group(runs, left_out[c], scores[c]) for c, runs in store.samples().items()
        }, store
    if is_run_dir(d):
        group = _run_group([d])
        faults = operator_faults(d)
        return {d.name: group if faults is None else replace(group, faults=faults)}, None
    runs = sorted(p for p in d.iterdir() if is_run_dir(p)) if d.is_dir() else []
    if not runs:
        raise ConfigError(
            f"{d}: neither a run directory, a campaign directory nor a folder of runs"
        )
    return {d.name: _run_group(runs)}, None


def _run_group(paths: list[Path]) -> Group:
    numbers = [(p, run_metrics(p)) for p in paths]
    kept = [(p, n) for p, n in numbers if n.counted]
    scores = [s for p, _ in kept if (s := operator_numbers(p)) is not None]
    return Group([n.numbers for _, n in kept], len(numbers) - len(kept), scores)


def _unique(name: str, taken: dict[str, list[Headline]]) -> str:
    out, i = name, 2
    while out in taken:
        out, i = f"{name}#{i}", i + 1
    return out


def unknown(t: CompareTable) -> list[str]:
    """`metric group: ? (n=4+3, needs 4+4)` for every comparison left unknown (a campaign with one
    exits 2, the README's `unknown`)."""
    out = [
        f"{m} {g}: {stats.format_comparison(c)}"
        for m in t.metrics
        for g, c in t.comparisons[m].items()
        if c.verdict == "unknown"
    ]
    return out + (t.operator.unknown() if _operator_stats_shown(t) and t.operator else [])


def _operator_stats_shown(t: CompareTable) -> bool:
    """The operator statistics are shown unless every group is one run given by itself (then
    its faults side by side say more than medians of one)."""
    return t.operator is not None and not set(t.groups) <= set(t.faults)


def format_table(t: CompareTable) -> str:
    """The terminal table: one block per metric, one line per group, verdicts against the
    baseline in benchstat's words; footnotes where an interval cannot be given."""
    blocks = []
    used: set[str] = set()
    for m in t.metrics:
        info = stats.metric(m)
        way = "higher" if info.higher_is_better else "lower"
        head = ["", "n", "median", "95% CI", "cv", "ratio [CI] coverage", f"vs {t.baseline}"]
        rows = [head]
        for g in t.groups:
            s = t.summaries[m][g]
            c = t.comparisons[m].get(g)
            row = [
                g,
                str(s.n) + (f" (-{t.excluded[g]})" if t.excluded.get(g) else ""),
                "—" if s.median is None else f"{s.median:,.2f}",
                stats.format_ci(s),
                "" if s.cv is None else f"{s.cv * 100:.1f}%",
                "" if c is None else stats.format_ratio(c),
                "" if c is None else stats.format_comparison(c),
            ]
            used.update(mark for mark in "¹²" if mark in row[3] + row[5])
            rows.append(row)
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
            for r in rows
        ]
        blocks.append(f"{info.label} ({info.unit}, {way} is better)\n" + "\n".join(lines))
    if t.faults:
        blocks.append(fault_lines(t.faults))
    if t.operator is not None and _operator_stats_shown(t):
        text, marks = format_operator(t.operator)
        blocks.append(text)
        used.update(marks)
    notes = [f"alpha={t.alpha:g} min_effect={t.min_effect:.0%}; (-k): k runs excluded (not passed)"]
    notes += stats.interval_notes(used, t.alpha)
    return "\n\n".join(blocks) + "\n\n" + "\n".join(notes)
