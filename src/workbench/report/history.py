"""results/history.html: every series of a results folder with its change points, one page.

Per series an inline SVG chart (no script, no external file): the points (each a link to its run's
report, its run id, time, value and labels on hover as the SVG <title>), the segments' medians as
horizontal lines, and the change points as vertical lines (strong red, weak orange); then one
table of the detected changes, newest first, with the labels either side (the commit range). The
analysis is workbench.history's; every text goes through the package's autoescaping environment.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from workbench.history.series import Analysed, Change

from .canvas import new_figure
from .pages import write_page

WIDTH, HEIGHT, PAD_X, PAD_Y = 900.0, 200.0, 60.0, 16.0
COLORS = {"strong": "#cf222e", "weak": "#bf8700"}


@dataclass(frozen=True)
class ChangeRow:
    series: str
    metric: str
    change: Change

    @property
    def time(self) -> str:
        return self.change.first_after.time

    @property
    def labels(self) -> str:
        a, b = self.change.last_before.labels, self.change.first_after.labels
        keys = sorted(set(a) | set(b))
        return ", ".join(f"{k}: {a.get(k, '?')} .. {b.get(k, '?')}" for k in keys)


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def chart(a: Analysed) -> dict[str, Any]:
    """The SVG geometry of one series (numbers and texts; the template draws them)."""
    pts = a.series.points
    values = [p.value for p in pts]
    lo, hi = min(values), max(values)
    if hi == lo:
        lo, hi = lo - 1.0, hi + 1.0
    span_x = max(len(pts) - 1, 1)

    def x(i: float) -> float:
        return round(PAD_X + (WIDTH - PAD_X - 10) * i / span_x, 1)

    def y(v: float) -> float:
        return round(HEIGHT - PAD_Y - (HEIGHT - 2 * PAD_Y) * (v - lo) / (hi - lo), 1)

    dots = []
    for i, p in enumerate(pts):
        labels = " ".join(f"{k}={v}" for k, v in p.labels.items())
        title = f"{p.run_id or p.time} · {p.time} · {_fmt(p.value)} {labels}".strip()
        link = f"{p.dir}/report.html" if p.dir else None
        dots.append({"x": x(i), "y": y(p.value), "title": title, "link": link})
    segments = [
        {"x1": x(s.start), "x2": x(max(s.end - 1, s.start)), "y": y(s.median), "median": s.median}
        for s in a.analysis.segments
    ]
    changes = [
        {"x": x(c.index - 0.5), "color": COLORS[c.strength], "strength": c.strength}
        for c in a.analysis.change_points
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "line": " ".join(f"{d['x']},{d['y']}" for d in dots),
        "dots": dots,
        "segments": segments,
        "changes": changes,
        "ticks": [{"y": y(v), "text": _fmt(v)} for v in (lo, (lo + hi) / 2, hi)],
        "pad_x": PAD_X,
    }


def figure(a: Analysed) -> Figure:
    """One series as a matplotlib figure (the notebook's): points, segment medians, change
    points (strong red, weak orange, dashed)."""
    fig = new_figure((10.0, 3.0))
    ax = fig.add_subplot()
    values = [p.value for p in a.series.points]
    ax.plot(range(len(values)), values, marker="o", markersize=3, linewidth=0.8)
    for seg in a.analysis.segments:
        ax.hlines(seg.median, seg.start, max(seg.end - 1, seg.start), colors="#8250df")
    for c in a.analysis.change_points:
        ax.axvline(c.index - 0.5, color=COLORS[c.strength], linestyle="--", linewidth=1)
    ax.set_title(f"{a.series.title}: {a.series.metric}", fontsize=9)
    ax.set_xlabel("run (oldest first)")
    return fig


def change_rows(analysed: list[Analysed]) -> list[dict[str, Any]]:
    """Every change point, newest first, as plain rows (the notebook's table)."""
    rows = [ChangeRow(a.series.title, a.series.metric, c) for a in analysed for c in a.changes]
    rows.sort(key=lambda r: r.time, reverse=True)
    return [
        {"time": r.time, "series": r.series, "metric": r.metric, **r.change.to_json(),
         "labels": r.labels, "run": r.change.first_after.run_id}
        for r in rows
    ]  # fmt: skip


def render_history(
    results_dir: Path | str, analysed: list[Analysed], *, problems: dict[str, str] | None = None
) -> Path:
    """Write results_dir/history.html for analysed series (history.series.analyse)."""
    root = Path(results_dir)
    root.mkdir(parents=True, exist_ok=True)
    rows = [ChangeRow(a.series.title, a.series.metric, c) for a in analysed for c in a.changes]
    rows.sort(key=lambda r: r.time, reverse=True)
    return write_page(
        root / "history.html",
        "history.html",
        root=root.resolve(),
        series=[{"a": a, "chart": chart(a)} for a in analysed if a.series.points],
        changes=rows,
        problems=sorted((problems or {}).items()),
        rendered=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    )
