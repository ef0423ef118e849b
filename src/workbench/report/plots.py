"""Pure functions from frames to matplotlib Figures (no pyplot, no GUI, no global state).

Every time axis is seconds on the run's one clock (`t_s` of the timeline) and carries the stage
marks (load, run, warmup) as shaded spans. Latencies are drawn in milliseconds whatever unit they
were recorded in. A figure with nothing to draw says so in its body instead of being blank.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

TO_MS = {"us": 1e-3, "µs": 1e-3, "ms": 1.0, "s": 1e3}
MARK_COLORS = {"load": "#9ecae1", "run": "#a1d99b", "warmup": "#fdae6b"}
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
SIZE = (10.0, 4.0)
CLIENT_NAMES = {
    "client_avg": "mean",
    "client_p50_cum": "p50 (cumulative)",
    "client_p99_cum": "p99 (cumulative)",
}


def new_figure(size: tuple[float, float] = SIZE) -> Figure:
    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def to_png(fig: Figure, dpi: int = 100) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _marks(timeline: pd.DataFrame) -> list[tuple[str, float, float]]:
    m = timeline[timeline["source"] == "mark"]
    out: list[tuple[str, float, float]] = []
    for name, g in m.groupby("name", sort=False):
        starts = g.loc[g["series"] == "start", "t_s"].tolist()
        ends = g.loc[g["series"] == "end", "t_s"].tolist()
        out.extend((str(name), s, e) for s, e in zip(starts, ends, strict=False))
    return out


def draw_marks(ax: Any, timeline: pd.DataFrame) -> None:
    """Shade each stage span and name it at the top of the axis."""
    for name, start, end in _marks(timeline):
        color = MARK_COLORS.get(name, "#d9d9d9")
        ax.axvspan(start, end, color=color, alpha=0.25 if name != "warmup" else 0.45, lw=0)
        ax.text(
            start,
            0.93 if name == "warmup" else 1.0,
            f" {name}",
            transform=ax.get_xaxis_transform(),
            va="top",
            ha="left",
            fontsize=8,
            color="#444444",
        )


def _empty(ax: Any, what: str) -> None:
    ax.text(0.5, 0.5, f"no {what} data", transform=ax.transAxes, ha="center", va="center")


def client_ops(timeline: pd.DataFrame) -> pd.DataFrame:
    """Client throughput per phase: the TOTAL row when YCSB printed one, else the sum of ops."""
    c = timeline[(timeline["source"] == "client") & (timeline["name"] == "client_ops")]
    if c.empty:
        return c
    parts = []
    for _phase, g in c.groupby("phase", sort=False):
        total = g[g["series"] == "TOTAL"]
        if total.empty:
            ok = g[~g["series"].str.endswith("_ERROR") & (g["series"] != "READ_MODIFY_WRITE")]
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


def throughput(timeline: pd.DataFrame, title: str = "Throughput") -> Figure:
    """Client ops/s (from YCSB intervals) and server ops/s (from Prometheus) on one clock."""
    fig = new_figure()
    ax = fig.add_subplot()
    draw_marks(ax, timeline)
    drawn = False
    for phase, g in client_ops(timeline).groupby("phase", sort=False):
        ax.plot(g["t_s"], g["value"], lw=1.8, marker=".", label=f"client ops/s ({phase})")
        drawn = True
    for name, g in server_sum(timeline, "throughput").items():
        ax.plot(g["t_s"], g["value"], lw=1.2, ls="--", label=f"server {name}")
        drawn = True
    if not drawn:
        _empty(ax, "throughput")
    ax.set_xlabel("seconds since run start")
    ax.set_ylabel("operations / s")
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    if drawn:
        ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    return fig


def latency_series(timeline: pd.DataFrame) -> pd.DataFrame:
    """Every latency series (client per operation, server per label) in ms, with a label."""
    lat = timeline[(timeline["kind"] == "latency") & (timeline["source"] != "mark")].copy()
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
    client_rows = is_client & (lat["series"] != "TOTAL") & ~lat["series"].str.endswith("_ERROR")
    return lat[client_rows | ~is_client]


def _percentiles_only(lat: pd.DataFrame) -> pd.DataFrame:
    """The latency figure shows percentiles (client p50/p99, server series), not the mean."""
    return lat[lat["name"] != "client_avg"]


def latency(timeline: pd.DataFrame, title: str = "Latency") -> Figure:
    """Client p50/p99 per operation and server p99 series, ms, log scale when they spread."""
    fig = new_figure()
    ax = fig.add_subplot()
    draw_marks(ax, timeline)
    lat = _percentiles_only(latency_series(timeline))
    if lat.empty:
        _empty(ax, "latency")
    for label, g in lat.groupby("label", sort=True):
        client = g["source"].iat[0] == "client"
        ax.plot(
            g["t_s"],
            g["value"],
            lw=1.6 if client else 1.1,
            ls="-" if client else "--",
            marker="." if client else None,
            label=str(label),
        )
    positive = lat["value"][lat["value"] > 0]
    if len(positive) and positive.max() / positive.min() > 100:
        ax.set_yscale("log")
    ax.set_xlabel("seconds since run start")
    ax.set_ylabel("latency (ms)")
    ax.set_title(title)
    if not lat.empty:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3)
    return fig


def resources(timeline: pd.DataFrame, title: str = "Server resources") -> Figure:
    """One panel per resource query (CPU, memory, ...), one line per label set."""
    res = timeline[(timeline["source"] == "server") & (timeline["kind"] == "resource")]
    names = list(dict.fromkeys(res["name"])) or ["resource"]
    fig = new_figure((SIZE[0], 2.6 * len(names)))
    for i, name in enumerate(names):
        ax = fig.add_subplot(len(names), 1, i + 1)
        draw_marks(ax, timeline)
        g = res[res["name"] == name]
        if g.empty:
            _empty(ax, "resource")
        for series, s in g.groupby("series", sort=True):
            ax.plot(s["t_s"], s["value"], lw=1.2, label=str(series) or name)
        unit = g["unit"].iat[0] if len(g) else ""
        ax.set_ylabel(f"{name} ({unit})" if unit else name)
        if len(g):
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        ax.grid(alpha=0.3)
    fig.axes[-1].set_xlabel("seconds since run start")
    fig.suptitle(title)
    return fig


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


def overlay(timelines: Mapping[str, pd.DataFrame], what: str = "throughput") -> Figure:
    """Several runs on one axis (each on its own clock from run start): client throughput, or
    client p99 of all operations."""
    if what not in ("throughput", "latency"):
        raise ValueError(f"what must be throughput or latency, got {what!r}")
    fig = new_figure()
    ax = fig.add_subplot()
    drawn = False
    for label, tl in timelines.items():
        if what == "throughput":
            c = client_ops(tl)
            c = c[c["phase"] == "run"] if (c["phase"] == "run").any() else c
            if len(c):
                ax.plot(c["t_s"], c["value"], lw=1.5, label=label)
                drawn = True
            for name, g in server_sum(tl, "throughput").items():
                ax.plot(g["t_s"], g["value"], lw=1.0, ls="--", label=f"{label} server {name}")
                drawn = True
        else:
            lat = latency_series(tl)
            lat = lat[lat["name"].isin(["client_p99_cum", "client_avg"]) & (lat["phase"] == "run")]
            for lab, g in lat.groupby("label", sort=True):
                ax.plot(g["t_s"], g["value"], lw=1.3, label=f"{label}: {lab}")
                drawn = True
    if not drawn:
        _empty(ax, what)
    ax.set_xlabel("seconds since run start")
    ax.set_ylabel("operations / s" if what == "throughput" else "latency (ms)")
    ax.set_title(f"{what.capitalize()}, runs overlaid")
    if drawn:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
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
