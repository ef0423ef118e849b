"""Series and their change points: a results folder's runs by benchmark, or a CSV from elsewhere.

`run_series(rows, metrics)` turns index rows (history.index) into one `Series` per key,
environment class and metric (runs without that number are left out); `csv_series(file, ...)`
reads the shape Otava reads: a time column, metric columns, attribute columns (shown at a change
as its labels, like a commit). `analyse` runs the detector on each; `to_json` is `--json`'s shape:

    {"series": [{"key": ..., "metric": ..., "points": N, "change_points": [{"index": i,
      "time": ..., "before": ..., "after": ..., "change": ..., "p_value": ..., "strength": ...}]}]}
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError
from workbench.jsonio import utc_iso

from .detect import Analysis, ChangePoint, Settings, change_points
from .index import Row, group

DEFAULT_METRICS = ("throughput", "p99_ms")


@dataclass(frozen=True)
class Point:
    time: str
    value: float
    labels: dict[str, str] = field(default_factory=dict)
    run_id: str | None = None
    dir: str | None = None  # the run directory's name (its report is <dir>/report.html)
    status: str = ""


@dataclass(frozen=True)
class Series:
    id: str
    key: dict[str, str]  # what was measured (and where), as text
    title: str
    metric: str
    points: list[Point]


@dataclass(frozen=True)
class Change:
    """A change point with the points either side of it (the labels at the change: the
    commit range is `last_before.labels` .. `first_after.labels`)."""

    point: ChangePoint
    last_before: Point
    first_after: Point

    def to_json(self) -> dict[str, Any]:
        c = self.point
        return {
            "index": c.index,
            "time": self.first_after.time,
            "before": c.before,
            "after": c.after,
            "change": c.change,
            "p_value": c.p_value,
            "strength": c.strength,
        }


@dataclass(frozen=True)
class Analysed:
    series: Series
    analysis: Analysis

    @property
    def changes(self) -> list[Change]:
        pts = self.series.points
        return [Change(c, pts[c.index - 1], pts[c.index]) for c in self.analysis.change_points]

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.series.key,
            "metric": self.series.metric,
            "points": len(self.series.points),
            "change_points": [c.to_json() for c in self.changes],
        }


def run_series(rows: Iterable[Row], metrics: Sequence[str] = DEFAULT_METRICS) -> list[Series]:
    """One series per (key, environment class, metric), oldest first; rows whose status did not
    measure (error, aborted, running) or that lack the number are left out."""
    out = []
    for sid, members in group(
        r for r in rows if r.status in ("passed", "failed", "unknown")
    ).items():
        first = members[0]
        key = {k: v for k, v in first.key.fields().items() if v}
        key["environment"] = first.env.text()
        for metric in metrics:
            points = [
                Point(utc_iso(r.started_unix), v, dict(r.labels), r.run_id, r.dir, r.status)
                for r in members
                if (v := r.numbers.value(metric)) is not None and math.isfinite(v)
            ]
            if points:
                title = f"{first.key.text()} [{first.env.text()}]"
                out.append(Series(f"{sid}-{metric}", key, title, metric, points))
    return out


def _time_order(times: list[str]) -> list[int]:
    """Row order by time when every time parses (ISO date-time or a number), else file order."""
    parsed: list[float] = []
    for t in times:
        try:
            parsed.append(datetime.fromisoformat(t.strip()).timestamp())
        except ValueError:
            try:
                parsed.append(float(t))
            except ValueError:
                return list(range(len(times)))
    return sorted(range(len(times)), key=lambda i: parsed[i])


def csv_series(
    path: Path | str, time_column: str, metrics: Sequence[str], attrs: Sequence[str] = ()
) -> list[Series]:
    """A CSV's metric columns as series (rows by time; empty or non-numeric cells left out)."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = list(reader.fieldnames or [])
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"{path}: cannot read the CSV: {exc}") from exc
    missing = [c for c in (time_column, *metrics, *attrs) if c not in header]
    if missing:
        raise ConfigError(f"{path}: no column {', '.join(map(repr, missing))}; it has {header}")
    order = _time_order([r[time_column] or "" for r in rows])
    out = []
    for metric in metrics:
        points = []
        for i in order:
            r = rows[i]
            try:
                v = float(r[metric])
            except (TypeError, ValueError):
                continue
            if math.isfinite(v):
                labels = {a: r[a] or "" for a in attrs}
                points.append(Point(r[time_column] or "", v, labels))
        out.append(Series(f"{path.name}-{metric}", {"file": path.name}, path.name, metric, points))
    return out


def analyse(series: Iterable[Series], settings: Settings | None = None) -> list[Analysed]:
    return [Analysed(s, change_points([p.value for p in s.points], settings)) for s in series]


def to_json(analysed: Iterable[Analysed]) -> dict[str, Any]:
    return {"series": [a.to_json() for a in analysed]}
