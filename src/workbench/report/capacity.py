"""A capacity search's report (results/capacity/<id>/report.html), from its capacity.json alone:
the headline (the interval, or the limit that stopped the search), the latency-throughput curve
(intended and service-time p50/p99 against achieved throughput, the objective as a line, the
capacity interval as a band; offered vs achieved beside it), every probe in order with its
verdict and why, and the notes. Autoescaped through the package's one Environment."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import quote

from matplotlib.figure import Figure

from workbench.capacity import CapacityDoc
from workbench.capacity.record import Probe

from .canvas import new_figure, to_png
from .pages import write_page

BAND = "#a1d99b"
VERDICT_MARKERS = {"pass": "o", "fail": "x", "unknown": "s"}


def curve(doc: CapacityDoc) -> Figure:
    """Left: latency against achieved throughput; right: achieved against offered."""
    fig = new_figure((11.0, 4.2))
    lat, rate = fig.subplots(1, 2)
    probes = sorted((p for p in doc.probes if p.offered > 0), key=lambda p: p.achieved)
    series = (("intended_p99_ms", "intended p99", "#d62728", "-"),
              ("intended_p50_ms", "intended p50", "#ff9896", "-"),
              ("service_p99_ms", "service p99", "#1f77b4", "--"),
              ("service_p50_ms", "service p50", "#aec7e8", "--"))  # fmt: skip
    for attr, label, color, style in series:
        pts = [(p.achieved, getattr(p, attr)) for p in probes if getattr(p, attr) is not None]
        if pts:
            x, y = zip(*pts, strict=True)
            lat.plot(x, y, style, marker=".", color=color, label=label)
    bounds = [(p.achieved, p.percentile_bound_ms, p.verdict) for p in probes
              if p.percentile_bound_ms is not None]  # fmt: skip
    for verdict, marker in VERDICT_MARKERS.items():
        pts = [(x, y) for x, y, v in bounds if v == verdict]
        if pts:
            x, y = zip(*pts, strict=True)
            lat.scatter(x, y, marker=marker, color="#333333", zorder=3,
                        label=f"{doc.objective.label} bound ({verdict})")  # fmt: skip
    lat.axhline(doc.objective.threshold_ms, color="#333333", lw=1, ls=":",
                label=f"objective {doc.objective.text()}")  # fmt: skip
    for ax in (lat, rate):
        if doc.capacity is not None:
            ax.axvspan(doc.capacity.low, doc.capacity.high, color=BAND, alpha=0.5,
                       label="capacity interval")  # fmt: skip
    if any(p.intended_p99_ms or p.service_p99_ms for p in probes):
        lat.set_yscale("log")
    lat.set_xlabel("achieved ops/s")
    lat.set_ylabel("latency ms")
    lat.legend(fontsize=7)
    if probes:
        offered = [p.offered for p in probes]
        rate.plot(
            [0, max(offered)], [0, max(offered)], color="#999999", lw=1, label="achieved = offered"
        )
        for verdict, marker in VERDICT_MARKERS.items():
            pts = [(p.offered, p.achieved) for p in probes if p.verdict == verdict]
            if pts:
                x, y = zip(*pts, strict=True)
                rate.scatter(x, y, marker=marker, label=verdict)
    rate.set_xlabel("offered ops/s")
    rate.set_ylabel("achieved ops/s")
    rate.legend(fontsize=7)
    return fig


def _href(path: Path, p: Probe) -> str:
    if not p.run_dir:
        return ""
    rel = Path(p.run_dir)
    try:
        rel = rel.relative_to(path)
    except ValueError:
        return ""
    return quote(f"{rel.as_posix()}/report.html")


def render_capacity(path: Path, doc: CapacityDoc, *, draw: bool = True) -> Path:
    """Write `<path>/report.html`; `draw=False` leaves the figure out (the page says so)."""
    png = base64.b64encode(to_png(curve(doc))).decode("ascii") if draw and doc.probes else ""
    return write_page(
        path / "report.html",
        "capacity.html",
        doc=doc,
        headline=doc.headline(),
        figure=png,
        rows=[(p, _href(path, p)) for p in doc.probes],
    )
