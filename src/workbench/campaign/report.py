"""The campaign's self-contained report.html (jinja2 with autoescape, figures as embedded PNGs).

Per metric every counted run as a point by configuration with the median and its 95% CI (none
below 6 runs, with a footnote; stats.py says how the intervals are made); the comparison table with
verdicts and the ratios' intervals labelled with their exact coverage; the runs in execution order (drift over time shows); when the
configurations differ in `threads` or `target`, the latency-throughput curve (p50 and p99 against
achieved throughput, one point per run, medians with CIs); when runs had operator.json, a table
per configuration of the operator's scores (campaign.opscores); relative links to each run's report.
The statistics come in computed (compare.analyze); nothing here runs or reads a run directory.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from matplotlib.figure import Figure

from workbench import stats
from workbench.artifacts.campaign import CampaignRun
from workbench.campaign.opscores import SHORT, OperatorTable
from workbench.report import plots
from workbench.report.pages import write_page

if TYPE_CHECKING:
    from workbench.campaign.compare import CompareTable
    from workbench.campaign.store import CampaignStore

CURVE_PARAMS = ("threads", "target")
RUN_NUMBERS = ("throughput", "p50_ms", "p99_ms", "p999_ms", "intended_p99_ms", "errors")


@dataclass(frozen=True)
class RunRow:
    """One line of the execution-order table: the run as campaign.json has it, and the relative
    link to its report when its run directory exists."""

    run: CampaignRun
    href: str


def render(store: CampaignStore, table: CompareTable, *, draw: bool = True) -> Path:
    """Write `<campaign dir>/report.html` (the package's one Environment and stylesheet) and
    return its path; `draw=False` leaves the figures out (the page says so), for callers that
    only need the tables."""
    rec = store.record
    rows = comparison_rows(table)
    scores = operator_tables(table.operator) if table.operator is not None else []
    marks = {mark for r in rows for mark in "¹²" if mark in r.ci + r.ratio}
    marks |= {mark for o in scores for r in o.rows for mark in "¹" if mark in r.ci}
    return write_page(
        store.report_path,
        "campaign.html",
        rec=rec,
        file=store.file,
        n_excluded=sum(table.excluded.values()),
        baseline=table.baseline,
        alpha=f"{table.alpha:g}",
        min_effect=f"{table.min_effect:.0%}",
        rows=rows,
        operator=scores,
        interval_notes=stats.interval_notes(marks, table.alpha),
        figures=_embedded(store, table) if draw else [],
        drawn=draw,
        numbers=RUN_NUMBERS,
        runs=[RunRow(r, _href(store, r)) for r in rec.runs],
        configs=_differing(rec.configs),
        source=rec.source or json.dumps(rec.spec, indent=2),
    )


def _href(store: CampaignStore, r: CampaignRun) -> str:
    return quote(f"{r.dir}/report.html") if store.has_run_dir(r) else ""


def _num(v: float | None, digits: int = 2) -> str:
    return "—" if v is None else f"{v:,.{digits}f}"


@dataclass(frozen=True)
class ComparisonRow:
    """One line of the comparison table, rounded for people (the notebook's frame has the same)."""

    metric: str
    group: str
    n: int
    excluded: int
    median: str
    ci: str
    cv: str
    ratio: str
    verdict: str
    css: str
    text: str


def comparison_rows(t: CompareTable) -> list[ComparisonRow]:
    rows = []
    for m in t.metrics:
        info = stats.metric(m)
        for g in t.groups:
            s, c = t.summaries[m][g], t.comparisons[m].get(g)
            ratio = "" if c is None else stats.format_ratio(c)
            verdict = "baseline" if c is None else c.verdict
            rows.append(
                ComparisonRow(
                    metric=f"{info.label} ({info.unit})",
                    group=g,
                    n=s.n,
                    excluded=t.excluded.get(g, 0),
                    median=_num(s.median),
                    ci=stats.format_ci(s),
                    cv="" if s.cv is None else f"{s.cv * 100:.1f}%",
                    ratio=ratio,
                    verdict=verdict,
                    css=verdict if verdict in ("better", "worse", "unknown") else "",
                    text="" if c is None else stats.format_comparison(c),
                )
            )
    return rows


@dataclass(frozen=True)
class ScoreRow:
    """One line of a configuration's operator table."""

    score: str
    n: str  # runs with a value
    median: str
    ci: str
    vs: str  # against the baseline, in words
    css: str


@dataclass(frozen=True)
class OperatorBlock:
    """One configuration's operator table: each score's median and interval, the faults
    recovered with Fisher's test against the baseline."""

    group: str
    runs: int  # counted runs with operator scores
    rows: list[ScoreRow]


def operator_tables(t: OperatorTable) -> list[OperatorBlock]:
    out = []
    for g in t.groups:
        rows = []
        for m in t.metrics:
            s, c = t.summaries[m][g], t.comparisons[m].get(g)
            verdict = "" if c is None else c.verdict
            rows.append(
                ScoreRow(
                    score=f"{SHORT[m]} ({stats.metric(m).unit})",
                    n=str(s.n),
                    median=_num(s.median),
                    ci=stats.format_ci(s) if s.n else "",
                    vs=t.comparison_text(m, g),
                    css=verdict if verdict in ("better", "worse", "unknown") else "",
                )
            )
        fisher = t.recovered.get(g)
        verdict = "" if fisher is None else fisher.verdict
        rows.append(
            ScoreRow(
                score="recovered (faults)",
                n=str(t.runs[g]),
                median=t.counts[g].text(),
                ci="",
                vs=t.recovered_text(g),
                css=verdict if verdict in ("better", "worse", "unknown") else "",
            )
        )
        out.append(OperatorBlock(g, t.runs[g], rows))
    return out


def _differing(configs: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    keys = sorted({k for p in configs.values() for k in p})
    varying = [
        k for k in keys if len({json.dumps(p.get(k), default=str) for p in configs.values()}) > 1
    ]
    return [
        (n, ", ".join(f"{k}={p.get(k)}" for k in varying) or "(same)") for n, p in configs.items()
    ]


def _png(fig: Figure) -> str:
    return base64.b64encode(plots.to_png(fig, tight=True)).decode("ascii")


@dataclass(frozen=True)
class CampaignFigure:
    name: str  # the img alt text
    title: str
    caption: str
    figure: Figure


def figures(store: CampaignStore, t: CompareTable) -> list[CampaignFigure]:
    """The report's figures (the notebook shows the same ones)."""
    figs = [
        CampaignFigure(
            "runs by configuration",
            "Every run by configuration",
            "One point per counted run; bar: median with its 95% CI (order statistics; "
            "no bar below 6 runs).",
            _strip_figure(store, t),
        ),
        CampaignFigure(
            "runs in execution order",
            "Runs in execution order",
            "Each counted run at its place in the order: drift over time shows here.",
            _drift_figure(store, t),
        ),
    ]
    configs = store.record.configs
    if any(len({str(p.get(k)) for p in configs.values()}) > 1 for k in CURVE_PARAMS):
        figs.append(
            CampaignFigure(
                "latency-throughput",
                "Latency against throughput",
                "TOTAL p50 and p99 against achieved throughput, one point per run; "
                "crosses: medians with 95% CIs (none below 6 runs).",
                _curve_figure(store, t),
            )
        )
    return figs


def _embedded(store: CampaignStore, t: CompareTable) -> list[dict[str, str]]:
    return [
        {"name": f.name, "title": f.title, "caption": f.caption, "data": _png(f.figure)}
        for f in figures(store, t)
    ]


def _values(store: CampaignStore, group: str, metric: str) -> list[float]:
    values = (n.value(metric) for n in store.samples().get(group, []))
    return [v for v in values if v is not None]


def _strip_figure(store: CampaignStore, t: CompareTable) -> Figure:
    fig = Figure(figsize=(4.0 * len(t.metrics), 3.6))
    for ax, m in zip(fig.subplots(1, len(t.metrics), squeeze=False)[0], t.metrics, strict=True):
        for i, g in enumerate(t.groups):
            ys = _values(store, g, m)
            xs = [i + 0.18 * ((j % 5) - 2) / 2 for j in range(len(ys))]
            ax.scatter(xs, ys, s=18, alpha=0.7)
            s = t.summaries[m][g]
            if s.median is not None:
                low = s.median - (s.ci_low if s.ci_low is not None else s.median)
                high = (s.ci_high if s.ci_high is not None else s.median) - s.median
                ax.errorbar([i], [s.median], yerr=[[low], [high]], fmt="_k", ms=22, capsize=6)
        ax.set_xticks(range(len(t.groups)), t.groups, rotation=20)
        info = stats.metric(m)
        ax.set_title(f"{info.label} ({info.unit})", fontsize=10)
    return fig


def _drift_figure(store: CampaignStore, t: CompareTable) -> Figure:
    fig = Figure(figsize=(9.0, 2.4 * len(t.metrics)))
    axes = fig.subplots(len(t.metrics), 1, squeeze=False, sharex=True)[:, 0]
    for ax, m in zip(axes, t.metrics, strict=True):
        for g in t.groups:
            pts = [
                (r.index + 1, y)
                for r in store.runs
                if r.config == g and r.counted and (y := r.numbers.value(m)) is not None
            ]
            ax.plot([x for x, _ in pts], [y for _, y in pts], "o-", ms=4, label=g)
        ax.set_ylabel(stats.metric(m).unit)
        ax.set_title(stats.metric(m).label, fontsize=10)
    axes[0].legend(fontsize=8)
    axes[-1].set_xlabel("run (execution order)")
    return fig


def _curve_figure(store: CampaignStore, t: CompareTable) -> Figure:
    fig = Figure(figsize=(7.0, 4.2))
    ax = fig.subplots()
    summaries = {
        m: {g: stats.summarize(_values(store, g, m)) for g in t.groups}
        for m in ("throughput", "p50_ms", "p99_ms")
    }
    for m, style in (("p50_ms", "o"), ("p99_ms", "s")):
        xs = [n.throughput for g in t.groups for n in store.samples()[g]]
        ys = [n.value(m) for g in t.groups for n in store.samples()[g]]
        pts = [(x, y) for x, y in zip(xs, ys, strict=True) if x is not None and y is not None]
        ax.scatter([x for x, _ in pts], [y for _, y in pts], marker=style, s=16, alpha=0.5, label=m)
        for g in t.groups:
            sx, sy = summaries["throughput"][g], summaries[m][g]
            if sx.median is None or sy.median is None:
                continue
            ax.errorbar([sx.median], [sy.median], xerr=_err(sx), yerr=_err(sy), fmt="+k", capsize=3)
            ax.annotate(
                g, (sx.median, sy.median), fontsize=7, xytext=(4, 4), textcoords="offset points"
            )
    ax.set_xlabel("throughput (ops/s)")
    ax.set_ylabel("latency (ms)")
    ax.legend(fontsize=8)
    return fig


def _err(s: stats.Summary) -> list[list[float]]:
    assert s.median is not None
    low = s.median - (s.ci_low if s.ci_low is not None else s.median)
    high = (s.ci_high if s.ci_high is not None else s.median) - s.median
    return [[low], [high]]
