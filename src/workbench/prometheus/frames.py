"""Prometheus results as pandas frames, with no I/O: range chunking under the point limit and
joining the chunks, the tidy long frame (one row per sample), its wide pivot, and the increase of
raw counter samples on an interval grid (the one counter rule).

A matrix result looks like (values are strings; "NaN", "+Inf", "-Inf" are kept):
    [{"metric": {"__name__": "up", "job": "etcd"}, "values": [[1700000000.0, "1"], ...]}]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

RESERVED_COLUMNS = ("timestamp", "value")


def chunk_range(s_ms: int, e_ms: int, step_ms: int, max_points: int) -> list[tuple[int, int]]:
    """Split [start, end] (ms) into chunks of at most `max_points` evaluation points.

    Chunks never share a point: the next chunk starts one step after the previous ended, so the
    joined series has every point of the full range exactly once.
    """
    out = []
    span = (max_points - 1) * step_ms
    cur = s_ms
    while cur <= e_ms:
        end = min(cur + span, e_ms)
        out.append((cur, end))
        cur = end + step_ms
    return out


def _merge(acc: dict[tuple[tuple[str, str], ...], dict[str, Any]], result: Iterable[Any]) -> None:
    """Join chunk results by label set, dropping points at or before the last one kept."""
    for s in result:
        key = tuple(sorted(s.get("metric", {}).items()))
        vals = s.get("values") or []
        have = acc.get(key)
        if have is None:
            acc[key] = {"metric": dict(key), "values": list(vals)}
            continue
        last = have["values"][-1][0] if have["values"] else -math.inf
        have["values"].extend(v for v in vals if float(v[0]) > last)


def _parse_points(points: list[Any], n: int) -> tuple[np.ndarray, np.ndarray]:
    """[[unix, "value"], ...] → (float64 timestamps, float64 values); "NaN"/"+Inf"/"-Inf" kept.

    Value strings are parsed by Arrow's (correctly rounded) string→double cast, about twice as fast
    as float() per item; anything Arrow refuses goes through float() so errors name the value.
    """
    ts = np.fromiter(map(itemgetter(0), points), dtype=np.float64, count=n)
    raw = list(map(itemgetter(1), points))
    try:
        values = pc.cast(pa.array(raw, type=pa.string()), pa.float64())
        return ts, values.to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return ts, np.fromiter(map(float, raw), dtype=np.float64, count=n)


def tidy_frame(result: Sequence[dict[str, Any]], key: str = "values") -> pd.DataFrame:
    """Matrix (or vector, with key="value") result → long frame.

    Columns: `timestamp` (datetime64[ms, UTC]), `value` (float64; NaN/±Inf kept), then one
    categorical column per label in sorted order (a label a series lacks is missing, not "").
    A label named `timestamp` or `value` becomes `label_timestamp` / `label_value`.
    """
    if key == "value":
        series_vals: list[Any] = [[s["value"]] for s in result]
    else:
        series_vals = [s.get(key) or [] for s in result]
    lengths = np.fromiter((len(v) for v in series_vals), dtype=np.int64, count=len(series_vals))
    total = int(lengths.sum())
    ts, values = _parse_points(list(chain.from_iterable(series_vals)), total)
    ts_ms = np.rint(ts * 1000.0).astype(np.int64)
    cols: dict[str, Any] = {
        "timestamp": pd.DatetimeIndex(ts_ms.view("datetime64[ms]")).tz_localize("UTC"),
        "value": values,
    }
    label_names = sorted({k for s in result for k in s.get("metric", {})})
    for name in label_names:
        per_series = [s.get("metric", {}).get(name) for s in result]
        cats = sorted({v for v in per_series if v is not None})
        index = {v: i for i, v in enumerate(cats)}
        codes = np.fromiter(
            (index[v] if v is not None else -1 for v in per_series),
            dtype=np.int32,
            count=len(per_series),
        )
        col = name if name not in RESERVED_COLUMNS else f"label_{name}"
        cols[col] = pd.Categorical.from_codes(np.repeat(codes, lengths), categories=pd.Index(cats))
    return pd.DataFrame(cols)


def label_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in RESERVED_COLUMNS]


def wide_frame(frame: pd.DataFrame, by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Tidy → wide: index `timestamp`, one column per series.

    `by` picks the label(s) naming a column (default: every label); a column is named by its
    label values joined with ",", or "value" when the frame has no labels.
    """
    labels = label_columns(frame) if by is None else ([by] if isinstance(by, str) else list(by))
    if not labels:
        return frame.set_index("timestamp")[["value"]].sort_index()
    names = frame[labels].astype(object).fillna("").astype(str).agg(",".join, axis=1)
    wide = pd.DataFrame({"timestamp": frame["timestamp"], "series": names, "value": frame["value"]})
    if wide.duplicated(["timestamp", "series"]).any():
        raise ValueError(f"labels {labels} do not identify series uniquely; pass more labels in by")
    out = wide.pivot(index="timestamp", columns="series", values="value").sort_index()
    out.columns.name = None
    return out


def counter_increase(
    samples: pd.DataFrame, edges: Sequence[float], by: Sequence[str] = ()
) -> pd.DataFrame:
    """Increase of raw counter samples over each interval [edges[i], edges[i+1]] (Unix s).

    Each series (label set) is corrected for resets, linearly interpolated at the edges between
    its scrapes and differenced, so interval i covers exactly the seconds of the grid (no rate
    window); an edge outside a series' scrapes gives NaN for that series. Series are summed by the
    `by` labels (all of them when `by` is empty: one row per interval). Columns: start, end,
    *by, increase, ops_s, covered (every series had scrapes on both sides of the interval).
    """
    e = np.asarray(edges, dtype=float)
    cols = ["start", "end", *by, "increase", "ops_s", "covered"]
    if len(e) < 2 or samples.empty:
        return pd.DataFrame(columns=cols)
    labels = label_columns(samples)
    t = (samples["timestamp"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()
    frame = samples.assign(_t=t)
    parts = []
    groups = frame.groupby(labels, observed=True, sort=True) if labels else [((), frame)]
    for key, g in groups:
        g = g.sort_values("_t")
        v = g["value"].to_numpy(dtype=float)
        drops = np.where(np.diff(v) < 0, v[:-1], 0.0)  # a reset: the value before it is kept
        v = v + np.concatenate([[0.0], np.cumsum(drops)])
        ts = g["_t"].to_numpy()
        at = np.interp(e, ts, v)
        at[(e < ts[0]) | (e > ts[-1])] = np.nan
        part = pd.DataFrame({"start": e[:-1], "end": e[1:], "increase": np.diff(at)})
        vals = key if isinstance(key, tuple) else (key,)
        for name, val in zip(labels, vals, strict=False):
            part[name] = str(val)
        parts.append(part)
    df = pd.concat(parts, ignore_index=True)
    df["covered"] = df["increase"].notna()
    out = df.groupby(["start", "end", *by], as_index=False, sort=True).agg(
        increase=("increase", lambda x: x.sum(min_count=1)), covered=("covered", "all")
    )
    out["ops_s"] = out["increase"] / (out["end"] - out["start"])
    return out[cols]
