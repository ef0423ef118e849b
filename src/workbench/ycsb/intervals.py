"""Per-interval client latency: rows from interval histograms, HdrHistogram interval logs, raw samples.

What lives here: the one definition of an interval row (count, p50/p90/p99/p99.9/max in ms, and the
``-INTENDED`` clock beside the service time), the writer's line format for an HdrHistogram
interval log (``Tag=<op>,<start>,<length>,<max>,<payload>``, the standard format that
HdrHistogram's log readers read), and readers that turn such a log, a per-interval CSV, or go-ycsb
``measurementtype=raw`` samples into a frame. Reading the given file is the only I/O; the native
generator's writer lives in ``workbench.ycsb.native.intervals``. pandas is imported lazily.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader

if TYPE_CHECKING:
    import pandas as pd

# An interval shorter than this share of its series' usual (median) length is PARTIAL: the
# sliver a run ends with (the last tick at the tool's exit), or the short one after a late tick.
# Its length is kept, its rate is a rate over a few ms: it is marked, never judged as a full one.
PARTIAL_SHARE = 0.9
HDR_LOWEST = 1
HDR_HIGHEST = 24 * 60 * 60 * 1000 * 1000  # µs, as the generator's histograms
HDR_DIGITS = 3
INTENDED_SUFFIX = "-INTENDED"
# column -> percentile (values are µs in the histograms, ms in the rows)
PERCENTILE_COLUMNS: tuple[tuple[str, float], ...] = (
    ("p50_ms", 50.0),
    ("p90_ms", 90.0),
    ("p99_ms", 99.0),
    ("p999_ms", 99.9),
)
LATENCY_COLUMNS: tuple[str, ...] = (*(c for c, _ in PERCENTILE_COLUMNS), "max_ms")
INTENDED_COLUMNS: tuple[str, ...] = tuple(c.replace("_ms", "_intended_ms") for c in LATENCY_COLUMNS)
COLUMNS: tuple[str, ...] = (
    "time",
    "t_s",
    "interval_s",
    "operation",
    "count",
    *LATENCY_COLUMNS,
    "intended_count",
    *INTENDED_COLUMNS,
)


def partial_mask(lengths: pd.Series) -> pd.Series:
    """True for each PARTIAL interval of one series (lengths in s, one per row; rows of the same
    interval share its length): shorter than PARTIAL_SHARE of the median length."""
    usual = float(lengths.median()) if len(lengths) else 0.0
    return (lengths.astype(float) < PARTIAL_SHARE * usual).astype(bool)


def new_histogram() -> HdrHistogram:
    return HdrHistogram(HDR_LOWEST, HDR_HIGHEST, HDR_DIGITS)


def latency_stats(h: HdrHistogram) -> dict[str, float]:
    """count and the latency columns (ms) of one interval histogram; NaN latencies when empty."""
    n = h.get_total_count()
    out: dict[str, float] = {"count": float(n)}
    if n == 0:
        out.update(dict.fromkeys(LATENCY_COLUMNS, math.nan))
        return out
    pct = h.get_percentile_to_value_dict([p for _, p in PERCENTILE_COLUMNS])
    for col, p in PERCENTILE_COLUMNS:
        out[col] = pct[p] / 1000.0
    out["max_ms"] = h.get_max_value() / 1000.0
    return out


def interval_rows(
    t_s: float,
    interval_s: float,
    hists: Mapping[str, HdrHistogram],
    start_time: float | None = None,
) -> list[dict[str, Any]]:
    """One interval's rows: one per operation, ``<OP>-INTENDED`` folded in as ``*_intended_ms``.

    ``t_s`` is the interval's end (seconds since the run started); ``time`` is Unix seconds when
    ``start_time`` is known. Error and not-found histograms (``READ_ERROR``, ``READ_NOTFOUND``)
    are operations of their own, as in the final block.
    """
    rows: dict[str, dict[str, Any]] = {}
    for tag in sorted(hists):
        base = tag.removesuffix(INTENDED_SUFFIX)
        row = rows.setdefault(base, _empty_row(t_s, interval_s, base, start_time))
        stats = latency_stats(hists[tag])
        if tag.endswith(INTENDED_SUFFIX):
            row["intended_count"] = int(stats.pop("count"))
            for col, icol in zip(LATENCY_COLUMNS, INTENDED_COLUMNS, strict=True):
                row[icol] = stats[col]
        else:
            row["count"] = int(stats.pop("count"))
            row.update(stats)
    return list(rows.values())


def _empty_row(t_s: float, interval_s: float, op: str, start_time: float | None) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS, math.nan)
    row.update(
        time=math.nan if start_time is None else start_time + t_s,
        t_s=t_s,
        interval_s=interval_s,
        operation=op,
        count=0,
        intended_count=0,
    )
    return row


def frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Rows → a frame with ``COLUMNS`` (intended columns all-NaN when no target was set)."""
    # imported here: the interval log reader only when a log is read
    import pandas as pd

    df = pd.DataFrame(list(rows), columns=list(COLUMNS))
    df["count"] = df["count"].fillna(0).astype("int64")
    df["intended_count"] = df["intended_count"].fillna(0).astype("int64")
    return df.sort_values(["t_s", "operation"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- HdrHistogram log


def hlog_header(start_time: float) -> str:
    """Header lines of an interval log whose timestamps are seconds since ``start_time``."""
    iso = datetime.fromtimestamp(start_time, UTC).isoformat()
    return (
        "#[Histogram log format version 1.3]\n"
        "#[Latency values in microseconds; one tagged interval per operation]\n"
        f"#[StartTime: {start_time:.3f} (seconds since epoch), {iso}]\n"
        f"#[BaseTime: {start_time:.3f} (seconds since epoch)]\n"
        '"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"\n'
    )


def hlog_line(tag: str, start_s: float, length_s: float, h: HdrHistogram) -> str:
    """``Tag=<op>,<start>,<length>,<max ms>,<payload>`` (HdrHistogram log format 1.3)."""
    payload = h.encode().decode("ascii")
    return f"Tag={tag},{start_s:.3f},{length_s:.3f},{h.get_max_value() / 1000.0:.3f},{payload}\n"


def read_hlog(path: str | Path) -> pd.DataFrame:
    """An interval log (ours, or any tagged HdrHistogram log in µs) → per-interval frame.

    ``t_s`` is each interval's end in seconds since the log's StartTime; intervals with the same
    start (one per tag) form one time step.
    """
    reader = HistogramLogReader(str(path), new_histogram())
    steps: dict[tuple[float, float], dict[str, HdrHistogram]] = {}
    try:
        while (h := reader.get_next_interval_histogram()) is not None:
            start_s = h.get_start_time_stamp() / 1000.0 - reader.get_start_time_sec()
            length_s = (h.get_end_time_stamp() - h.get_start_time_stamp()) / 1000.0
            key = (round(start_s, 3), round(length_s, 3))
            steps.setdefault(key, {})[h.get_tag() or "TOTAL"] = h
        start_time = reader.get_start_time_sec() or None
    finally:
        reader.close()
    rows: list[dict[str, Any]] = []
    for (start_s, length_s), hists in sorted(steps.items()):
        rows.extend(interval_rows(round(start_s + length_s, 3), length_s, hists, start_time))
    return frame(rows)


def read_interval_csv(path: str | Path) -> pd.DataFrame:
    """The generator's per-interval CSV (same columns as ``read_hlog``'s frame)."""
    # imported here: the interval log reader only when a log is read
    import pandas as pd

    df = pd.read_csv(path)
    return frame({str(k): v for k, v in rec.items()} for rec in df.to_dict("records"))


# --------------------------------------------------------------------------- go-ycsb raw samples


def raw_intervals(
    samples: Sequence[tuple[str, int, int]],
    interval_s: float,
    *,
    start_us: int | None = None,
) -> pd.DataFrame:
    """go-ycsb ``measurementtype=raw`` samples (operation, start Unix µs, latency µs) → frame.

    A sample belongs to the interval in which it completed (start + latency), as the generator's
    histograms record at completion; intervals are ``interval_s`` long from ``start_us`` (default:
    the first sample's start). Every interval from the first to the last is present (a stall is
    an interval of count 0, not a missing row); the last ends at the last completion, with its
    own length when the run ended inside it (the partial interval, `partial_mask`).
    """
    if interval_s <= 0:
        raise ValueError("interval_s must be > 0")
    if not samples:
        return frame([])
    origin = min(ts for _, ts, _ in samples) if start_us is None else start_us
    step_us = interval_s * 1e6
    bins: dict[int, dict[str, HdrHistogram]] = {}
    ops = sorted({op for op, _, _ in samples})
    for op, ts, lat in samples:
        i = max(0, int((ts + lat - origin) // step_us))
        h = bins.setdefault(i, {}).get(op)
        if h is None:
            h = bins[i][op] = new_histogram()
        h.record_value(min(max(lat, HDR_LOWEST), HDR_HIGHEST))
    last = max(bins)
    end_s = (max(ts + lat for _, ts, lat in samples) - origin) / 1e6  # the last completion
    rows: list[dict[str, Any]] = []
    for i in range(last + 1):
        hists = bins.get(i, {})
        full = {op: hists.get(op) or new_histogram() for op in ops}
        t_s = round((i + 1) * interval_s, 6)
        length = interval_s
        if i == last and i * interval_s < end_s < t_s:  # the run ended inside it: shorter
            t_s, length = round(end_s, 6), round(end_s - i * interval_s, 6)
        rows.extend(interval_rows(t_s, length, full, origin / 1e6))
    return frame(rows)
