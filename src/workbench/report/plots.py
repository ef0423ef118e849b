"""Pure functions from frames to matplotlib Figures (no pyplot, no GUI, no global state).

Every time axis is seconds on the run's one clock (`t_s` of the timeline) and carries the stage
marks (load, run, warmup) as shaded spans, and fault marks hatched in red with their names.
Which series are drawn and how they are named lives here; the canvas they share (the figure, the
rasteriser, the marks, the legend cap, partial intervals) is canvas.py's, its names importable
from here as before. A PARTIAL interval (the sliver a run ends with) is never drawn as a rate:
it is named in a note. Latencies are drawn in milliseconds whatever unit they were recorded in.
A figure with nothing to draw says so in its body instead of being blank.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from workbench.report.canvas import FAULT_COLOR as FAULT_COLOR
from workbench.report.canvas import MARK_COLORS as MARK_COLORS
from workbench.report.canvas import MAX_LEGEND as MAX_LEGEND
from workbench.report.canvas import SIZE as SIZE
from workbench.report.canvas import Line as Line
from workbench.report.canvas import draw_lines as _draw
from workbench.report.canvas import draw_marks as draw_marks
from workbench.report.canvas import empty as _empty
from workbench.report.canvas import new_figure as new_figure
from workbench.report.canvas import note_partial, whole
from workbench.report.canvas import to_png as to_png

TO_MS = {"us": 1e-3, "µs": 1e-3, "ms": 1.0, "s": 1e3}
PERCENTILE_COLUMNS = {
    "count": "count",
    "ops": "ops/s",
    "avg_us": "avg",
    "min_us": "min",
    "p50_us": "p50",
    "p90_us": "p90",
    "p95_us": "p95",
    "p99_us": "p99",
    "p999_us": "p99.9",
    "p9999_us": "p99.99",
    "max_us": "max",
}
CLIENT_NAMES = {
    "client_avg": "mean",
    "client_p50_cum": "p50 (cumulative)",
    "client_p99_cum": "p99 (cumulative)",
}


# resource units → (readable unit, factor)
READABLE_UNITS = {
    "bytes": ("MiB", 1 / 2**20),
    "B": ("MiB", 1 / 2**20),
    "s": ("ms", 1e3),
    "seconds": ("ms", 1e3),
    "us": ("ms", 1e-3),
}
CLIENT_PERCENTILES = {  # per-interval (from interval histograms), in draw order
    "client_p50_ms": "p50",
    "client_p99_ms": "p99",
    "client_p999_ms": "p99.9",
    "client_p99_intended_ms": "p99 intended",
}
NOT_AN_OPERATION = ("_ERROR", "_NOTFOUND", "-INTENDED")


def _is_operation(op: str) -> bool:
    return op != "READ_MODIFY_WRITE" and not op.endswith(NOT_AN_OPERATION)


def _has_traffic(values: pd.Series) -> bool:
    v = pd.to_numeric(values, errors="coerce")
    return bool(v.notna().any() and (v.fillna(0) != 0).any())


def client_ops(timeline: pd.DataFrame) -> pd.DataFrame:
    """Client throughput per phase: the TOTAL row when YCSB printed one, else the sum of ops."""
    c = whole(timeline[(timeline["source"] == "client") & (timeline["name"] == "client_ops")])
    if c.empty:
        return c
    parts = []
    for _phase, g in c.groupby("phase", sort=False):
        total = g[g["series"] == "TOTAL"]
        if total.empty:
            ok = g[g["series"].map(_is_operation)]
            total = ok.groupby(["t_s", "phase"], as_index=False).agg(value=("value", "sum"))
        parts.append(total[["t_s", "phase", "value"]])
    return pd.concat(parts, ignore_index=True).sort_values("t_s")


def server_sum(timeline: pd.DataFrame, kind: str) -> dict[str, pd.DataFrame]:
    """Server series of one kind, summed over labels per timestamp, by query name."""
    s = timeline[(timeline["source"] == "server") & (timeline["kind"] == kind)]
    out: dict[str, pd.DataFrame] = {}
    for name, g in s.groupby("name", sort=False):
        out[str(name)] = g.groupby("t_s")["value"].sum(min_count=1).rename("value").reset_index()
    return out


def _client_ops_lines(timeline: pd.DataFrame) -> list[Line]:
    c = whole(timeline[(timeline["source"] == "client") & (timeline["name"] == "client_ops")])
    lines = []
    for (phase, op), g in c.groupby(["phase", "series"], sort=True):
        if not _is_operation(str(op)) or not _has_traffic(g["value"]):
            continue
        total = op == "TOTAL"
        label = f"client {op}" + ("" if phase == "run" else f" ({phase})")
        style = {"lw": 2.0 if total else 1.2, "marker": "." if total else None, "color": None}
        style = {k: v for k, v in style.items() if v is not None}
        lines.append(
            Line(
                (0 if total else 2) + (0 if phase == "run" else 4),
                label,
                g["t_s"],
                g["value"],
                style,
            )
        )
    if not any(ln.label.startswith("client TOTAL") for ln in lines):  # no TOTAL row printed
        for phase, g in client_ops(timeline).groupby("phase", sort=False):
            label = "client TOTAL" + ("" if phase == "run" else f" ({phase!s})")
            lines.append(Line(0, label, g["t_s"], g["value"], {"lw": 2.0, "marker": "."}))
    return lines


def _server_ops_lines(timeline: pd.DataFrame) -> list[Line]:
    s = timeline[(timeline["source"] == "server") & (timeline["kind"] == "throughput")]
    aligned = whole(s[s["name"] == "server_ops_aligned"])
    lines = []
    if not aligned.empty:  # on the client's interval grid: the series to compare
        for (phase, series), g in aligned.groupby(["phase", "series"], sort=True):
            if not _has_traffic(g["value"]):
                continue
            total = series == "TOTAL"
            what = "ops/s" if total else str(series).split("=")[-1]
            label = f"server {what} (per interval)" + ("" if phase == "run" else f" ({phase})")
            style = {"lw": 1.8 if total else 1.0, "ls": "--", "marker": "x" if total else None}
            style = {k: v for k, v in style.items() if v is not None}
            lines.append(
                Line(
                    (1 if total else 3) + (0 if phase == "run" else 4),
                    label,
                    g["t_s"],
                    g["value"],
                    style,
                )
            )
        return lines
    for name, g in server_sum(s, "throughput").items():  # rate windows: display only
        if _has_traffic(g["value"]):
            lines.append(
                Line(
                    5, f"server {name} (rate window)", g["t_s"], g["value"], {"lw": 1.0, "ls": ":"}
                )
            )
    return lines


def throughput(timeline: pd.DataFrame, title: str = "Throughput per interval") -> Figure:
    """Client ops/s per operation and TOTAL (YCSB intervals) and the server's ops/s on the same
    interval grid (raw counters, `server_ops_aligned`); rate-window server series only when
    there is no aligned one."""
    fig = new_figure()
    ax = fig.add_subplot()
    draw_marks(ax, timeline)
    drawn = _draw(ax, _client_ops_lines(timeline) + _server_ops_lines(timeline))
    if not drawn:
        _empty(ax, "throughput")
    note_partial(ax, timeline, ("client_ops", "server_ops_aligned"))
    ax.set_xlabel("seconds since run start")
    ax.set_ylabel("operations / s")
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    return fig


def latency_series(timeline: pd.DataFrame) -> pd.DataFrame:
    """Every latency series (client per operation, server per label) in ms, with a label; the
    rows of partial intervals left out."""
    lat = whole(timeline)
    lat = lat[(lat["kind"] == "latency") & lat["source"].isin(["client", "server"])].copy()
    if lat.empty:
        return lat.assign(label=pd.Series(dtype=str))
    lat["value"] = lat["value"] * lat["unit"].map(TO_MS).fillna(1.0)
    is_client = lat["source"] == "client"
    client_label = (
        "client "
        + lat["name"].map(CLIENT_NAMES).fillna(lat["name"])
        + " "
        + lat["series"]
        + " ("
        + lat["phase"]
        + ")"
    )
    server_label = "server " + lat["name"] + (" " + lat["series"]).where(lat["series"] != "", "")
    lat["label"] = client_label.where(is_client, server_label)
    return lat[~is_client | lat["series"].map(_is_operation)]


def _client_latency_lines(lat: pd.DataFrame) -> tuple[list[Line], bool]:
    """Per-interval percentiles (TOTAL p50/p99/p99.9, intended p99, per-operation p99); the
    cumulative ones only when there are none. Returns the lines and whether per interval."""
    c = lat[lat["source"] == "client"]
    per = c[c["name"].isin(list(CLIENT_PERCENTILES))]
    lines = []
    if not per.empty:
        for (phase, op, name), g in per.groupby(["phase", "series", "name"], sort=True):
            what = CLIENT_PERCENTILES[str(name)]
            total = op == "TOTAL"
            if not _has_traffic(g["value"]) or (not total and what != "p99"):
                continue
            intended = "intended" in what
            prio = list(CLIENT_PERCENTILES).index(str(name)) + (0 if total else 4)
            prio += 0 if phase == "run" else 8
            label = f"client {op} {what}" + ("" if phase == "run" else f" ({phase})")
            style = {
                "lw": 1.8 if total else 1.0,
                "marker": "." if total else None,
                "ls": "-." if intended else "-",
            }
            lines.append(
                Line(
                    prio,
                    label,
                    g["t_s"],
                    g["value"],
                    {k: v for k, v in style.items() if v is not None},
                )
            )
        return lines, True
    cum = c[c["name"].isin(["client_p50_cum", "client_p99_cum"])]
    phases = set(cum["phase"])
    cum = cum[cum["phase"] == ("run" if "run" in phases else next(iter(sorted(phases)), ""))]
    for (name, op, cum_label), g in cum.groupby(["name", "series", "label"], sort=True):
        total = op == "TOTAL"
        if _has_traffic(g["value"]) and (name == "client_p99_cum" or total):
            prio = (0 if name == "client_p99_cum" else 1) + (0 if total else 2)
            style = {"lw": 1.8 if total else 1.2, "marker": "."}
            lines.append(Line(prio, str(cum_label), g["t_s"], g["value"], style))
    return lines, False


def _server_latency_lines(lat: pd.DataFrame) -> list[Line]:
    s = lat[lat["source"] == "server"]
    return [
        Line(6, str(label), g["t_s"], g["value"], {"lw": 1.0, "ls": "--"})
        for label, g in s.groupby("label", sort=True)
        if _has_traffic(g["value"])
    ]


def latency(timeline: pd.DataFrame, title: str = "") -> Figure:
    """Client latency per interval (TOTAL p50/p99/p99.9, intended p99 with a target, p99 per
    operation) and server p99 series, ms, log scale when they spread (a stall is a spike)."""
    fig = new_figure()
    ax = fig.add_subplot()
    draw_marks(ax, timeline)
    lat = latency_series(timeline)
    client, per_interval = _client_latency_lines(lat)
    lines = client + _server_latency_lines(lat)
    if not _draw(ax, lines):
        _empty(ax, "latency")
    note_partial(ax, timeline, tuple(CLIENT_PERCENTILES))
    values = pd.concat([pd.Series(ln.y, dtype=float) for ln in lines]) if lines else pd.Series()
    positive = values[values > 0]
    if len(positive) and positive.max() / positive.min() > 100:
        ax.set_yscale("log")
    ax.set_xlabel("seconds since run start")
    ax.set_ylabel("latency (ms)")
    default = "Latency per interval" if per_interval else "Latency (client: cumulative)"
    ax.set_title(title or default)
    ax.grid(alpha=0.3)
    return fig


def readable(unit: str) -> tuple[str, float]:
    """A resource unit in readable form: (unit, factor); MiB for bytes, ms for seconds."""
    return READABLE_UNITS.get(unit, (unit, 1.0))


def resources(timeline: pd.DataFrame, title: str = "Server resources") -> Figure:
    """One panel per resource query (CPU in cores, memory in MiB, ...), one line per label set
    (constant-zero series left out)."""
    res = timeline[(timeline["source"] == "server") & (timeline["kind"] == "resource")]
    names = list(dict.fromkeys(res["name"])) or ["resource"]
    fig = new_figure((SIZE[0], 2.6 * len(names)))
    for i, name in enumerate(names):
        ax = fig.add_subplot(len(names), 1, i + 1)
        draw_marks(ax, timeline)
        g = res[res["name"] == name]
        unit, factor = readable(str(g["unit"].iat[0]) if len(g) else "")
        short = short_names([str(x) for x in g["series"].unique()])
        lines = [
            Line(
                -float(s["value"].max()),
                short.get(str(series), "") or name,
                s["t_s"],
                s["value"] * factor,
                {"lw": 1.2},
            )
            for series, s in g.groupby("series", sort=True)
            if _has_traffic(s["value"])
        ]
        if not _draw(ax, lines):
            _empty(ax, "resource")
        ax.set_ylabel(f"{name} ({unit})" if unit else name)
        ax.grid(alpha=0.3)
    fig.axes[-1].set_xlabel("seconds since run start")
    fig.suptitle(title)
    return fig


def short_names(series: list[str]) -> dict[str, str]:
    """Label sets named by what tells them apart: `instance=etcd0:2379,job=etcd` and its
    siblings become `etcd0:2379` ... (labels equal in all of them dropped; one left: its value)."""
    parts = {s: [p for p in s.split(",") if p] for s in series}
    common = set.intersection(*(set(p) for p in parts.values())) if parts else set()
    out = {}
    for s, ps in parts.items():
        left = [p for p in ps if p not in common] or ps
        out[s] = left[0].split("=", 1)[-1] if len(left) == 1 else ",".join(left)
    return out


def percentile_table(final: pd.DataFrame) -> pd.DataFrame:
    """YCSB final block → one row per operation: count, ops/s, latencies in ms (missing = NaN)."""
    cols = [c for c in PERCENTILE_COLUMNS if c in final.columns]
    out = final.set_index("operation")[cols].astype(float)
    for c in cols:
        if c.endswith("_us"):
            out[c] = out[c] / 1000.0
    out = out.rename(
        columns={c: PERCENTILE_COLUMNS[c] + (" ms" if c.endswith("_us") else "") for c in cols}
    )
    out.index.name = "operation"
    return out


def percentile_table_figure(final: pd.DataFrame, title: str = "Per-operation latency") -> Figure:
    table = percentile_table(final)
    fig = new_figure((SIZE[0], 0.6 + 0.3 * (len(table) + 1)))
    ax = fig.add_subplot()
    ax.axis("off")
    cells = [[_fmt(v) for v in row] for row in table.itertuples(index=False)]
    t = ax.table(
        cellText=cells or [["—"] * len(table.columns)],
        rowLabels=list(table.index) or ["(none)"],
        colLabels=list(table.columns),
        loc="center",
    )
    t.auto_set_font_size(False)
    t.set_fontsize(8)
    ax.set_title(title)
    return fig


def _fmt(v: float) -> str:
    if pd.isna(v):
        return "—"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}" if abs(v) < 1 else f"{v:.2f}"


def _overlay_lines(label: str, tl: pd.DataFrame, what: str, with_server: bool) -> list[Line]:
    """One run's lines in an overlay: TOTAL of the run phase (and the aligned server ops)."""
    if what == "throughput":
        lines = [ln for ln in _client_ops_lines(tl) if ln.label == "client TOTAL"]
        if with_server:
            lines += [ln for ln in _server_ops_lines(tl) if ln.label.startswith("server ops/s")]
    else:
        client, _per = _client_latency_lines(latency_series(tl))
        want = ("client TOTAL p99", "client p99 (cumulative) TOTAL (run)")
        lines = [ln for ln in client if ln.label in want][:1]
    return [
        Line(ln.priority, f"{label}: {ln.label.removeprefix('client ')}", ln.x, ln.y, ln.style)
        for ln in lines
    ]


LABEL_SKIP = ("run_id", "results_dir", "project")  # differ between any two runs: no label


def run_labels(params: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """A short label per run (by run id) for overlays: the parameters that differ between the
    runs (`threads=8, target=1000`), numbered when two runs share them; `#i` when none differ."""
    keys = sorted({k for p in params.values() for k in p if k not in LABEL_SKIP})
    differ = [k for k in keys if len({repr(p.get(k)) for p in params.values()}) > 1]
    out: dict[str, str] = {}
    for i, (run_id, p) in enumerate(params.items()):
        label = ", ".join(f"{k}={p.get(k)}" for k in differ)
        out[run_id] = f"#{i} {label}".strip()
    return out


def overlay(timelines: Mapping[str, pd.DataFrame], what: str = "throughput") -> Figure:
    """Several runs on one axis (each on its own clock from run start), one line per run named
    by its label: client TOTAL ops/s per interval (and the server's, aligned, for up to 4 runs),
    or the client's TOTAL p99 per interval (cumulative p99 for runs without interval
    histograms, named so). At most MAX_LEGEND lines; the rest are counted."""
    if what not in ("throughput", "latency"):
        raise ValueError(f"what must be throughput or latency, got {what!r}")
    fig = new_figure()
    ax = fig.add_subplot()
    with_server = len(timelines) <= MAX_LEGEND // 2
    lines: list[Line] = []
    for i, (label, tl) in enumerate(timelines.items()):
        got = _overlay_lines(label, tl, what, with_server)
        lines += [Line(i + ln.priority / 10, ln.label, ln.x, ln.y, ln.style) for ln in got]
    if not _draw(ax, lines):
        _empty(ax, what)
    ax.set_xlabel("seconds since run start")
    ax.set_ylabel("operations / s" if what == "throughput" else "p99 latency (ms)")
    name = "Throughput (TOTAL ops/s)" if what == "throughput" else "TOTAL p99 latency"
    ax.set_title(f"{name} per interval, runs overlaid")
    if what == "latency":
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    return fig


def series(frame: pd.DataFrame, title: str, unit: str = "") -> Figure:
    """A tidy Prometheus frame (timestamp, value, label columns): one line per label set."""
    fig = new_figure()
    ax = fig.add_subplot()
    if frame.empty:
        _empty(ax, title)
        return fig
    labels = [c for c in frame.columns if c not in ("timestamp", "value")]
    groups = frame.groupby(labels, observed=True, sort=True) if labels else [((), frame)]
    for key, g in groups:
        vals = key if isinstance(key, tuple) else (key,)
        name = ",".join(f"{k}={v}" for k, v in zip(labels, vals, strict=False)) or title
        ax.plot(g["timestamp"], g["value"], lw=1.2, label=name)
    ax.set_title(title)
    ax.set_ylabel(unit)
    ax.set_xlabel("time (UTC)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3)
    return fig
