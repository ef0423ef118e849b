"""The Operator section's figure: the client's throughput on top and, under it on the same time
axis (seconds from the run phase's start, the timeline's clock), one lane per fault: the fault's
span (to its undo, or to the end of its watch when it stayed), the operator's own word (detect,
diagnose, act, resolved, notes) as markers, the container events the engine saw (the injector's
and the operator's), and the recovery (a green bar from the onset to the moment the service was
whole and stayed so, or a red "not recovered" bar to the end of the watch).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from workbench.artifacts import OperatorDoc
from workbench.report.canvas import FAULT_COLOR, SIZE, new_figure, whole

# the operator's word: marker, colour, height in its lane (one row per kind: they often coincide)
KIND_STYLE: dict[str, tuple[str, str, float]] = {
    "detect": ("o", "#3182bd", 0.9),
    "diagnose": ("s", "#756bb1", 0.78),
    "act": ("D", "#e6550d", 0.66),
    "resolved": ("*", "#31a354", 0.9),
}
OTHER_KIND = ("x", "#636363", 0.54)
WHO_STYLE = {"operator": ("^", "#e6550d"), "injector": ("v", FAULT_COLOR), "container": ("|", "k")}
RECOVERED, NOT_RECOVERED = "#31a354", FAULT_COLOR


def _throughput(timeline: pd.DataFrame | None) -> pd.DataFrame:
    if timeline is None or timeline.empty:
        return pd.DataFrame(columns=["t_s", "value"])
    c = whole(timeline[(timeline["source"] == "client") & (timeline["name"] == "client_ops")])
    c = c[(c["series"] == "TOTAL") & (c["phase"] == "run")]
    return c[["t_s", "value"]].sort_values("t_s")


def operator_lanes(timeline: pd.DataFrame | None, doc: OperatorDoc) -> Figure:
    """The figure (a note in its body when the run has no scores or no clock)."""
    faults = doc.scores.faults if doc.scores is not None else []
    n = max(1, len(faults))
    fig = new_figure((SIZE[0], 3.0 + 1.1 * n))
    grid = fig.add_gridspec(1 + n, 1, height_ratios=[3.0] + [1.0] * n, hspace=0.15)
    top = fig.add_subplot(grid[0])
    thr = _throughput(timeline)
    top.plot(thr["t_s"], thr["value"], lw=1.6, marker=".", color="#1f77b4", label="client TOTAL")
    top.set_ylabel("ops / s")
    top.set_ylim(bottom=0)
    top.grid(alpha=0.3)
    top.set_title(f"Operator {doc.operator}: each fault from its onset")
    t0 = doc.t0
    if t0 is None or not faults:
        why = doc.scores_reason or "no fault was scored"
        top.text(0.5, 0.5, why, transform=top.transAxes, ha="center", va="center")
        return fig
    lanes: list[Any] = []
    for i, f in enumerate(faults):
        ax = fig.add_subplot(grid[1 + i], sharex=top)
        lanes.append(ax)
        _lane(ax, doc, i, t0)
        ax.set_yticks([])
        ax.set_ylabel(f.label, rotation=0, ha="right", va="center", fontsize=8)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.2, axis="x")
        top.axvspan(f.onset_s, f.onset_s + 0.01, color=FAULT_COLOR, alpha=0.8)
    for ax in [top, *lanes[:-1]]:
        ax.tick_params(labelbottom=False)
    lanes[-1].set_xlabel("seconds since run start")
    handles, labels = [], []
    for ax in [top, *lanes]:
        h, lab = ax.get_legend_handles_labels()
        for hh, ll in zip(h, lab, strict=True):
            if ll not in labels:
                handles.append(hh)
                labels.append(ll)
    fig.legend(handles, labels, loc="outside lower center", fontsize=7, ncol=6, frameon=False)
    return fig


def _lane(ax: Any, doc: OperatorDoc, i: int, t0: float) -> None:
    assert doc.scores is not None
    f = doc.scores.faults[i]
    nxt = doc.scores.faults[i + 1].onset_s if i + 1 < len(doc.scores.faults) else None
    end = (doc.run_end - t0) if doc.run_end is not None else None
    horizon = min(x for x in (nxt, end) if x is not None) if (nxt or end) else f.onset_s + 1
    ax.axvspan(f.onset_s, horizon, color=FAULT_COLOR, alpha=0.08)
    if f.recovered and f.recovery_s is not None:
        ax.hlines(0.1, f.onset_s, f.onset_s + f.recovery_s, color=RECOVERED, lw=4,
                  label="until recovered")  # fmt: skip
        ax.axvline(f.onset_s + f.recovery_s, color=RECOVERED, lw=1.2, ls="--")
    elif f.censored and f.censored_at_s is not None:
        ax.hlines(0.1, f.onset_s, f.onset_s + f.censored_at_s, color=NOT_RECOVERED, lw=4,
                  label="not recovered")  # fmt: skip
    lo, hi = f.onset_s - 2.0, horizon
    for e in doc.events.events:
        x = e.ts - t0
        if not lo <= x <= hi:
            continue
        marker, color, y = KIND_STYLE.get(e.kind, OTHER_KIND)
        ax.plot([x], [y], marker=marker, color=color, ls="", ms=6, label=e.kind)
    for c in doc.container_events:
        x = c.t - t0
        if not lo <= x <= hi or c.action in ("die", "oom"):
            continue
        marker, color = WHO_STYLE.get(c.attributed, ("x", "#636363"))
        y = 0.38 if c.attributed == "operator" else 0.26
        ax.plot([x], [y], marker=marker, color=color, ls="", ms=6,
                label=f"{c.attributed}: container event")  # fmt: skip
        ax.annotate(f"{c.action} {c.service or ''}", (x, y), xytext=(4, -2),
                    textcoords="offset points", fontsize=6)  # fmt: skip
