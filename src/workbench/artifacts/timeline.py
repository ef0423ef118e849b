"""timeline.parquet: client intervals, server series and stage/fault marks on one clock, long form
(`time, t_s, source, name, series, phase, kind, unit, value, interval_s, partial`). Pure frame
building, no I/O.

Client rows: per interval and per operation (`series` READ, UPDATE, ..., TOTAL) `client_ops`
(ops/s) and, from interval histograms (the native tool's interval log, go-ycsb raw samples),
`client_p50_ms`, `client_p99_ms`, `client_p999_ms`, `client_max_ms` and with a target
`client_p99_intended_ms`; from the status blocks the exact interval mean `client_avg` and the
cumulative `client_p50_cum`/`client_p99_cum`. Per-interval percentiles are never derived from
cumulative ones: without interval histograms they are absent. Marks are two rows each (kind
`mark`); their source is `mark` for stage marks and the mark's own source (`fault`) otherwise.

Rows on an interval grid (the client's, and the server's aligned to it) carry the interval's
length `interval_s` and `partial`: True for a PARTIAL interval (shorter than 90 % of the usual
length, `workbench.ycsb.intervals.partial_mask`: the sliver a run ends with). Its rate is over a
few ms: readers draw and judge it apart. Other rows: NaN and False. A timeline written before
these columns reads as if nothing were partial.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from workbench.ycsb.intervals import partial_mask

from .record import Mark

TIMELINE_COLUMNS = (
    "time",
    "t_s",
    "source",
    "name",
    "series",
    "phase",
    "kind",
    "unit",
    "value",
    "interval_s",
    "partial",
)
# Per-interval mean latency is exact (from cumulative counts and means); YCSB status blocks only
# carry cumulative percentiles, so those are named for what they are.
CLIENT_LATENCY_COLUMNS = {
    "interval_avg_us": "client_avg",
    "p50_us": "client_p50_cum",
    "p99_us": "client_p99_cum",
}


def _time_column(df: pd.DataFrame) -> str:
    for c in ("timestamp", "time", "ts"):
        if c in df.columns:
            return c
    for c in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[c]):
            return str(c)
    raise ValueError(f"no timestamp column in metrics frame: {list(df.columns)}")


# interval-histogram columns (workbench.ycsb.intervals, ms) → timeline names
HIST_LATENCY_COLUMNS = {
    "p50_ms": "client_p50_ms",
    "p99_ms": "client_p99_ms",
    "p999_ms": "client_p999_ms",
    "max_ms": "client_max_ms",
    "p99_intended_ms": "client_p99_intended_ms",
}


def _long(
    t: pd.Series, name: str, series: pd.Series, kind: str, unit: str, value: Any, length: Any
) -> Any:
    return pd.DataFrame(
        {"unix": t, "name": name, "series": series, "kind": kind, "unit": unit, "value": value,
         "interval_s": length}
    )  # fmt: skip


def mark_partial(rows: pd.DataFrame) -> pd.DataFrame:
    """`partial` from `interval_s` per phase (one grid per phase): PARTIAL_SHARE of the usual."""
    if rows.empty:
        return rows.assign(partial=pd.Series(dtype=bool))
    length = rows["interval_s"].astype(float)
    phase = rows["phase"] if "phase" in rows else pd.Series("", index=rows.index)
    partial = length.groupby(phase).transform(partial_mask).astype(bool)
    return rows.assign(partial=partial)


def histogram_rows(hist: pd.DataFrame, start_unix: float) -> list[pd.DataFrame]:
    """Interval-histogram rows (t_s = interval end since start_unix, interval_s, operation,
    count, p50_ms ...) → client_ops and the per-interval percentile rows (no phase yet)."""
    h = hist[pd.to_numeric(hist["interval_s"], errors="coerce") > 0]
    if h.empty:
        return []
    t = start_unix + h["t_s"].astype(float)
    if "time" in h.columns:  # the tool's own wall clock at each interval's end
        t = pd.to_numeric(h["time"], errors="coerce").astype(float).fillna(t)
    ops = h["operation"].astype(str)
    length = h["interval_s"].astype(float)
    rate = h["count"].astype(float) / length
    parts = [_long(t, "client_ops", ops, "throughput", "ops/s", rate, length)]
    for col, name in HIST_LATENCY_COLUMNS.items():
        if col not in h.columns:
            continue
        v = pd.to_numeric(h[col], errors="coerce").astype(float)
        if v.notna().any():  # intended columns: only with a target
            parts.append(_long(t, name, ops, "latency", "ms", v, length))
    return parts


def client_rows(
    intervals: pd.DataFrame | None,
    phase: str,
    start_unix: float,
    histograms: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """YCSB per-interval rows → timeline rows; the frames' `t_s` count from start_unix.

    `intervals`: from the status blocks (client_ops unless `histograms` are given, the exact
    interval mean, the cumulative percentiles). `histograms`: per-interval histogram rows
    (`workbench.ycsb.intervals` frame): client_ops and per-interval percentiles from them."""
    has_hist = histograms is not None and not histograms.empty
    if (intervals is None or intervals.empty) and not has_hist:
        return pd.DataFrame(columns=list(TIMELINE_COLUMNS))
    parts = histogram_rows(histograms, start_unix) if has_hist else []  # type: ignore[arg-type]
    if intervals is None or intervals.empty:
        intervals = pd.DataFrame(columns=["t_s", "operation"])
    t_s = intervals["t_s"].astype(float)
    t = start_unix + t_s
    ends = pd.Series(sorted(set(t_s)), dtype=float)  # each from the previous block's end
    length = t_s.map(dict(zip(ends, ends.diff().fillna(ends.min()), strict=True)))
    ops = intervals["operation"].astype(str)
    if "interval_ops" in intervals.columns and not has_hist:
        value = intervals["interval_ops"].astype(float)
        parts.append(_long(t, "client_ops", ops, "throughput", "ops/s", value, length))
    for col, name in CLIENT_LATENCY_COLUMNS.items():
        if col in intervals.columns:
            value = pd.to_numeric(intervals[col], errors="coerce").astype(float)
            parts.append(_long(t, name, ops, "latency", "us", value, length))
    if not parts:
        return pd.DataFrame(columns=list(TIMELINE_COLUMNS))
    out = pd.concat(parts, ignore_index=True)
    out["source"] = "client"
    out["phase"] = phase
    return mark_partial(out)


def server_rows(name: str, frame: pd.DataFrame, unit: str, kind: str) -> pd.DataFrame:
    """A tidy Prometheus frame (timestamp, value, one column per label) → timeline rows."""
    if frame is None or frame.empty:
        return pd.DataFrame(columns=list(TIMELINE_COLUMNS))
    tcol = _time_column(frame)
    labels = [c for c in frame.columns if c not in (tcol, "value", "__name__")]
    ts = pd.to_datetime(frame[tcol], utc=True)
    if labels:
        series = (
            frame[labels]
            .astype(str)
            .apply(lambda r: ",".join(f"{k}={v}" for k, v in zip(labels, r, strict=True)), axis=1)
        )
    else:
        series = pd.Series([""] * len(frame), index=frame.index)
    return pd.DataFrame(
        {
            "unix": (ts - pd.Timestamp(0, tz="UTC")).dt.total_seconds(),
            "name": name,
            "series": series.astype(str),
            "kind": kind,
            "unit": unit,
            "value": pd.to_numeric(frame["value"], errors="coerce").astype(float),
            "source": "server",
            "phase": "",
        }
    )


def build_timeline(
    client: Iterable[pd.DataFrame],
    server: Iterable[pd.DataFrame],
    marks: Iterable[Mark | Mapping[str, float | str]],
    origin_unix: float,
) -> pd.DataFrame:
    """One long frame on one clock: `time` (UTC) and `t_s` (seconds since origin_unix).

    Marks become two rows each (`start`/`end` series) with kind `mark`, so a reader needs nothing
    but this file to draw stage spans.
    """
    mark_rows = []
    for raw in marks:  # a mapping (OperatorDoc.marks() still gives them) is validated to a Mark
        m = raw if isinstance(raw, Mark) else Mark.model_validate(raw)
        for edge, unix in (("start", m.start), ("end", m.end)):
            mark_rows.append(
                {
                    "unix": float(unix),
                    "name": m.name,
                    "series": edge,
                    "kind": "mark",
                    "unit": "",
                    "value": float("nan"),
                    "source": "mark" if m.source == "stage" else m.source,
                    "phase": "",
                }
            )
    frames = [f for f in (*client, *server) if f is not None and not f.empty]
    if mark_rows:
        frames.append(pd.DataFrame(mark_rows))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in TIMELINE_COLUMNS})
    df = pd.concat(frames, ignore_index=True)
    if "interval_s" not in df:
        df["interval_s"] = float("nan")
    if "partial" not in df:
        df["partial"] = False
    df["interval_s"] = pd.to_numeric(df["interval_s"], errors="coerce").astype(float)
    df["partial"] = df["partial"].astype("boolean").fillna(False).astype(bool)
    df["t_s"] = df["unix"].astype(float) - origin_unix
    df["time"] = pd.to_datetime(df["unix"], unit="s", utc=True)
    df = df.sort_values(["t_s", "source", "name", "series"], kind="stable").reset_index(drop=True)
    return df[list(TIMELINE_COLUMNS)]
