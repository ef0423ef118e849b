"""The canvas every figure shares: a Figure without pyplot, the one rasteriser, the stage and
fault marks, the line rules (what is drawn first, the legend cap and its note) and the rule for
PARTIAL intervals (the timeline's `partial` rows: never drawn as a rate, named in a note). Pure
functions, no GUI, no global state. The figures themselves are plots.py's.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

MARK_COLORS = {"load": "#9ecae1", "run": "#a1d99b", "warmup": "#fdae6b"}
SIZE = (10.0, 4.0)
MAX_LEGEND = 8  # lines per axes; the rest are left out and counted in a note
FAULT_COLOR = "#de2d26"
NOTE_STYLE = {"fontsize": 7, "color": "#666666"}
PARTIAL_LISTED = 3


def new_figure(size: tuple[float, float] = SIZE) -> Figure:
    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def to_png(fig: Figure, dpi: int = 100, tight: bool = False) -> bytes:
    """The one rasteriser of every figure the workbench saves or embeds. `tight`: cropped to
    what is drawn (figures without a constrained layout)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    return buf.getvalue()


@dataclass(frozen=True)
class Line:
    """One line to draw; `priority`: lower first (kept when the legend is full)."""

    priority: float
    label: str
    x: Any
    y: Any
    style: dict[str, Any]


def _marks(timeline: pd.DataFrame) -> list[tuple[str, float, float, str]]:
    """(name, start, end, source) of every mark: source `mark` (a stage) or `fault`."""
    m = timeline[timeline["kind"] == "mark"]
    out: list[tuple[str, float, float, str]] = []
    for (name, source), g in m.groupby(["name", "source"], sort=False):
        starts = g.loc[g["series"] == "start", "t_s"].tolist()
        ends = g.loc[g["series"] == "end", "t_s"].tolist()
        out.extend((str(name), s, e, str(source)) for s, e in zip(starts, ends, strict=False))
    return out


def draw_marks(ax: Any, timeline: pd.DataFrame) -> None:
    """Shade each stage span and name it at the top of the axis; faults hatched in red and named
    with their own label."""
    for name, start, end, source in _marks(timeline):
        if source == "operator":  # the operator's own marks (one per event): its lane's, not here
            continue
        fault = source == "fault"
        if fault:
            ax.axvspan(start, end, color=FAULT_COLOR, alpha=0.18, lw=0, hatch="//")
        else:
            color = MARK_COLORS.get(name, "#d9d9d9")
            ax.axvspan(start, end, color=color, alpha=0.25 if name != "warmup" else 0.45, lw=0)
        ax.text(
            start,
            0.86 if fault else (0.93 if name == "warmup" else 1.0),
            f" {name}",
            transform=ax.get_xaxis_transform(),
            va="top",
            ha="left",
            fontsize=8,
            color=FAULT_COLOR if fault else "#444444",
            fontweight="bold" if fault else "normal",
        )


def empty(ax: Any, what: str) -> None:
    ax.text(0.5, 0.5, f"no {what} data", transform=ax.transAxes, ha="center", va="center")


def draw_lines(ax: Any, lines: list[Line], max_lines: int = MAX_LEGEND) -> int:
    """Draw the `max_lines` first lines by priority, a legend, and a note of the rest."""
    ordered = sorted(lines, key=lambda ln: ln.priority)
    for ln in ordered[:max_lines]:
        ax.plot(ln.x, ln.y, label=ln.label, **ln.style)
    left = len(ordered) - max_lines
    if left > 0:
        ax.text(
            0.99,
            0.01,
            f"+{left} series not shown",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            **NOTE_STYLE,
        )
    if ordered:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return min(len(ordered), max_lines)


def whole(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of full intervals: PARTIAL ones (`partial`) left out; every row of a timeline
    written before the column."""
    if "partial" not in rows.columns or rows.empty:
        return rows
    return rows[~rows["partial"].astype("boolean").fillna(False).astype(bool)]


def note_partial(ax: Any, timeline: pd.DataFrame, names: tuple[str, ...]) -> None:
    """Name the partial intervals of series `names` that were left out: their rate is over a
    sliver, not a full interval's (a run at 800 ops/s is not at 218 in its last 30 ms)."""
    if "partial" not in timeline.columns:
        return
    p = timeline[timeline["name"].isin(names)]
    p = p[p["partial"].astype("boolean").fillna(False).astype(bool)]
    if p.empty:
        return
    ends = p.drop_duplicates(["phase", "t_s"]).sort_values("t_s")
    head = ends.head(PARTIAL_LISTED)
    shown = [
        f"{length:.3g} s ending at {t:.1f} s"
        for length, t in zip(
            head["interval_s"].astype(float), head["t_s"].astype(float), strict=True
        )
    ]
    more = f" (+{len(ends) - PARTIAL_LISTED})" if len(ends) > PARTIAL_LISTED else ""
    what = "partial interval" + ("s" if len(ends) > 1 else "")
    ax.text(
        0.01,
        0.01,
        f"{what} not drawn: " + "; ".join(shown) + more,
        transform=ax.transAxes,
        ha="left",
        va="bottom",
        **NOTE_STYLE,
    )
