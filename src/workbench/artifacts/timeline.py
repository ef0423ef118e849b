"""timeline.parquet: client intervals, server series and stage/fault marks on one clock, long form
(`time, t_s, source, name, series, phase, kind, unit, value`). Pure frame building, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

TIMELINE_COLUMNS = ("time", "t_s", "source", "name", "series", "phase", "kind", "unit", "value")
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


def client_rows(intervals: pd.DataFrame | None, phase: str, start_unix: float) -> pd.DataFrame:
    """YCSB per-interval rows → timeline rows; the frame's `t_s` counts from start_unix."""
    if intervals is None or intervals.empty:
        return pd.DataFrame(columns=list(TIMELINE_COLUMNS))
    t = start_unix + intervals["t_s"].astype(float)
    parts = []
    if "interval_ops" in intervals.columns:
        parts.append(
            pd.DataFrame(
                {
                    "unix": t,
                    "name": "client_ops",
                    "series": intervals["operation"].astype(str),
                    "kind": "throughput",
                    "unit": "ops/s",
                    "value": intervals["interval_ops"].astype(float),
                }
            )
        )
    for col, name in CLIENT_LATENCY_COLUMNS.items():
        if col in intervals.columns:
            parts.append(
                pd.DataFrame(
                    {
                        "unix": t,
                        "name": name,
                        "series": intervals["operation"].astype(str),
                        "kind": "latency",
                        "unit": "us",
                        "value": pd.to_numeric(intervals[col], errors="coerce").astype(float),
                    }
                )
            )
    if not parts:
        return pd.DataFrame(columns=list(TIMELINE_COLUMNS))
    out = pd.concat(parts, ignore_index=True)
    out["source"] = "client"
    out["phase"] = phase
    return out


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
    marks: Iterable[dict[str, Any]],
    origin_unix: float,
) -> pd.DataFrame:
    """One long frame on one clock: `time` (UTC) and `t_s` (seconds since origin_unix).

    Marks become two rows each (`start`/`end` series) with kind `mark`, so a reader needs nothing
    but this file to draw stage spans.
    """
    mark_rows = []
    for m in marks:
        for edge in ("start", "end"):
            mark_rows.append(
                {
                    "unix": float(m[edge]),
                    "name": str(m["name"]),
                    "series": edge,
                    "kind": "mark",
                    "unit": "",
                    "value": float("nan"),
                    "source": "mark",
                    "phase": "",
                }
            )
    frames = [f for f in (*client, *server) if f is not None and not f.empty]
    if mark_rows:
        frames.append(pd.DataFrame(mark_rows))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in TIMELINE_COLUMNS})
    df = pd.concat(frames, ignore_index=True)
    df["t_s"] = df["unix"].astype(float) - origin_unix
    df["time"] = pd.to_datetime(df["unix"], unit="s", utc=True)
    df = df.sort_values(["t_s", "source", "name", "series"], kind="stable").reset_index(drop=True)
    return df[list(TIMELINE_COLUMNS)]
