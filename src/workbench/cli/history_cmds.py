"""`workbench history`: the runs of a results folder as series, their change points, the verdict
of the newest run, the history page; or a CSV series from elsewhere (`--csv`).

Exit codes: 0 listed (with `--verdict`: no regression), 1 a regression (`--verdict`), 2
insufficient data (`--verdict`, or nothing to analyse), 3 an error of the command or its input.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError

DEFAULT_METRICS = ("throughput", "p99_ms")


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    out = {}
    for item in items or []:
        k, sep, v = item.partition("=")
        if not sep or not k.strip():
            raise ConfigError(f"{what} {item!r}: expected NAME=VALUE")
        out[k.strip()] = v
    return out


def register(sub: Any) -> None:
    p = sub.add_parser(
        "history",
        help="runs as series per benchmark: change points, the newest run's verdict, history.html",
    )
    p.add_argument("--results", type=Path, default=Path("results"), help="results folder")
    p.add_argument(
        "--where",
        action="append",
        metavar="NAME=VALUE",
        help="only runs whose key field is VALUE (subject, workload, tool, operator, threads, "
        "target, recordcount, faults, cores, kernel, engine, status, campaign, config); repeatable",
    )
    p.add_argument(
        "--label", action="append", metavar="KEY=VALUE", help="only runs with this label"
    )
    p.add_argument(
        "--metric",
        action="append",
        help="a headline number (throughput, p50_ms, p99_ms, p999_ms, intended_p99_ms, errors) "
        "or, with --csv, a column; repeatable (default: throughput and p99_ms)",
    )
    p.add_argument("--json", action="store_true", help="print the series as JSON")
    p.add_argument("--html", action="store_true", help="write results/history.html")
    p.add_argument(
        "--verdict",
        action="store_true",
        help="judge the newest run against its series (exit 0 ok, 1 regression, 2 insufficient)",
    )
    p.add_argument("--min-size", type=int, default=5, help="points each side of a change")
    p.add_argument("--min-change", type=float, default=0.0, help="ignore smaller |change|")
    p.add_argument("--csv", type=Path, help="analyse a CSV series instead of the results folder")
    p.add_argument("--time-column", default="time", help="the CSV's time column")
    p.add_argument("--attr", action="append", default=[], help="a CSV column shown at changes")
    p.set_defaults(func=cmd_history)


def cmd_history(args: argparse.Namespace) -> int:
    # imported here: a command loads only what it uses (`workbench --help` starts fast)
    from workbench import history
    from workbench.history import series as hs
    from workbench.history import verdict as hv

    try:
        settings = history.Settings(min_size=args.min_size, min_change=args.min_change)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    metrics = tuple(args.metric or DEFAULT_METRICS)
    problems: dict[str, str] = {}
    if args.csv:
        if args.html or args.verdict:
            raise ConfigError("--csv analyses a file: --html and --verdict read a results folder")
        found = hs.csv_series(args.csv, args.time_column, metrics, args.attr)
    else:
        bad = [m for m in metrics if m not in history.NUMBER_FIELDS]
        if bad:
            raise ConfigError(
                f"unknown metric {bad[0]!r}; known: {', '.join(history.NUMBER_FIELDS)}"
            )
        index = history.build_index(args.results)
        problems = index.problems
        where = _pairs(args.where, "--where")
        known = set().union(*(r.fields() for r in index.rows)) if index.rows else set(where)
        unknown = sorted(set(where) - known)
        if unknown:
            raise ConfigError(
                f"--where {unknown[0]}: no run has that field; known: {sorted(known)}"
            )
        rows = index.select(where, _pairs(args.label, "--label"))
        found = hs.run_series(rows, metrics)
    analysed = hs.analyse(found, settings)
    verdicts = [hv.judge(a, settings) for a in _newest(analysed)] if args.verdict else []
    if args.html:
        from workbench import report  # imported here: matplotlib and pandas only for the page

        out = report.render_history(args.results, analysed, problems=problems)
        report.render_index(args.results)
        if not args.json:
            print(out)
    if args.json:
        doc = hs.to_json(analysed)
        if args.verdict:
            doc["verdicts"] = [v.to_json() for v in verdicts]
        print(json.dumps(doc, indent=2))
    elif not args.html or args.verdict:
        print(describe(analysed, verdicts, problems))
    if args.verdict:
        return hv.exit_code(verdicts)
    return 0 if analysed else 2


def _newest(analysed: list[Any]) -> list[Any]:
    """The series of the newest run of all (a CSV: every series)."""
    if not analysed:
        return []
    newest = max(analysed, key=lambda a: a.series.points[-1].time)
    run = newest.series.points[-1].run_id
    return [a for a in analysed if a.series.points[-1].run_id == run]


def describe(analysed: list[Any], verdicts: list[Any], problems: dict[str, str]) -> str:
    """The text listing: per series its points and change points (newest first)."""
    lines = []
    for a in analysed:
        head = f"{a.series.title}  {a.series.metric}: {len(a.series.points)} points"
        if a.analysis.insufficient:
            head += f"; insufficient: {a.analysis.insufficient}"
        lines.append(head)
        for c in reversed(a.changes):
            p = c.point
            change = f"{p.change:+.1%}" if p.change is not None else "?"
            labels = ", ".join(
                f"{k} {c.last_before.labels.get(k, '?')}..{c.first_after.labels.get(k, '?')}"
                for k in sorted(set(c.last_before.labels) | set(c.first_after.labels))
            )
            who = c.first_after.run_id or c.first_after.time
            lines.append(
                f"  {'change' if p.strength == 'strong' else 'watch':6s} at {p.index} ({who}): "
                f"{p.before:.4g} -> {p.after:.4g} ({change}, p={p.p_value:.2g}) {labels}".rstrip()
            )
    if not analysed:
        lines.append("no series (no finished runs match, or no numbers)")
    lines.extend(f"verdict: {v.text()}" for v in verdicts)
    lines.extend(f"unreadable: {name}: {why}" for name, why in sorted(problems.items()))
    return "\n".join(lines)


def print_newest_verdict(results: Path, metrics: tuple[str, ...] = DEFAULT_METRICS) -> int:
    """`workbench run --history`: the newest run's verdicts, printed; their exit code."""
    from workbench import history  # imported here: only `--history` needs the analysis
    from workbench.history import series as hs
    from workbench.history import verdict as hv

    index = history.build_index(results)
    if not index.rows:
        print("history: no runs")
        return 2
    newest = index.rows[-1]
    rows = [r for r in index.rows if r.series_id == newest.series_id]
    analysed = [
        a
        for a in hs.analyse(hs.run_series(rows, metrics))
        if a.series.points[-1].run_id == newest.run_id
    ]
    verdicts = [hv.judge(a) for a in analysed]
    for v in verdicts:
        print(f"history: {v.text()}")
    if not verdicts:
        print(f"history: {newest.run_id} has no numbers to judge ({newest.status})")
    return hv.exit_code(verdicts)
