"""Several generators' results as one: interval logs merged by absolute time, final blocks added.

Pure but for reading and writing the given files. Each generator has its own clock origin (its
t=0, the `StartTime` of its interval log); the merged result's origin is the earliest. An interval
of a generator belongs to the merged interval that holds its MIDPOINT, so generators whose ticks
are skewed (by less than half an interval: they start within milliseconds) line up interval by
interval, and one that missed a tick (a 2 s interval) lands once: every histogram lands in
exactly one merged interval, and the merged intervals together hold exactly the values of all
generators (counts and HDR percentiles equal those of one histogram of every value). A slot
boundary is never used as the key: a generator 16 ms late ends each interval 16 ms after it.

hdrhistogram 0.10.8's `HistogramLogWriter.output_start_time()` raises: the `#[StartTime: ...]`
line is written by `intervals.hlog_header`, never by the library's writer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader

from workbench.ycsb.intervals import hlog_header, hlog_line, new_histogram
from workbench.ycsb.results import IntervalRow, OpStats, YcsbResult

EPS_S = 1e-6


@dataclass(frozen=True)
class Interval:
    """One tagged interval histogram on the absolute clock (Unix s)."""

    tag: str
    start: float
    end: float
    histogram: HdrHistogram


def read_log(path: str | Path) -> tuple[float | None, list[Interval]]:
    """An interval log's StartTime and its intervals on the absolute clock."""
    reader = HistogramLogReader(str(path), new_histogram())
    out: list[Interval] = []
    try:
        while (h := reader.get_next_interval_histogram()) is not None:
            own = new_histogram()
            own.add(h)  # the reader reuses its histogram objects
            start, end = h.get_start_time_stamp() / 1000.0, h.get_end_time_stamp() / 1000.0
            out.append(Interval(h.get_tag() or "TOTAL", start, end, own))
        origin = reader.get_start_time_sec() or None
    finally:
        reader.close()
    return origin, out


def slot(start: float, end: float, origin: float, interval_s: float) -> int:
    """The merged interval [origin + k*iv, origin + (k+1)*iv) holding the midpoint of
    [start, end]."""
    return max(0, math.floor(((start + end) / 2 - origin) / interval_s + EPS_S))


def merge_intervals(
    sources: Sequence[Sequence[Interval]], origin: float, interval_s: float
) -> dict[int, dict[str, HdrHistogram]]:
    """Slot -> tag -> the sum of every source interval that ended in that slot."""
    if interval_s <= 0:
        raise ValueError("interval_s must be > 0")
    slots: dict[int, dict[str, HdrHistogram]] = {}
    for source in sources:
        for iv in source:
            tags = slots.setdefault(slot(iv.start, iv.end, origin, interval_s), {})
            h = tags.get(iv.tag)
            if h is None:
                h = tags[iv.tag] = new_histogram()
            h.add(iv.histogram)
    return slots


def write_log(
    path: Path,
    slots: Mapping[int, Mapping[str, HdrHistogram]],
    origin: float,
    interval_s: float,
    last_end: float | None = None,
) -> None:
    """The merged interval log: every slot from the first to the last (an empty slot is written
    as empty histograms of the tags seen, a stall is not a missing row); the last one ends at
    `last_end` when the run ended inside it."""
    tags = sorted({t for s in slots.values() for t in s})
    lines = [hlog_header(origin)]
    if slots:
        last = max(slots)
        for k in range(min(slots), last + 1):
            start, length = k * interval_s, interval_s
            if k == last and last_end is not None and start < last_end - origin < start + length:
                length = last_end - origin - start
            hists = slots.get(k, {})
            for tag in tags:
                lines.append(hlog_line(tag, start, length, hists.get(tag) or new_histogram()))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines))


def merge_logs(
    paths: Sequence[Path], out: Path, interval_s: float
) -> dict[str, HdrHistogram] | None:
    """Merge generators' interval logs into `out`; each tag's histogram of the whole phase.
    None when no log could be read (nothing written)."""
    read = [read_log(p) for p in paths if p.exists()]
    starts = [o for o, _ in read if o is not None]
    if not starts:
        return None
    origin = min(starts)
    sources = [ivs for _, ivs in read]
    slots = merge_intervals(sources, origin, interval_s)
    ends = [iv.end for ivs in sources for iv in ivs]
    write_log(out, slots, origin, interval_s, max(ends) if ends else None)
    return totals(slots)


def totals(slots: Mapping[int, Mapping[str, HdrHistogram]]) -> dict[str, HdrHistogram]:
    out: dict[str, HdrHistogram] = {}
    for tags in slots.values():
        for tag, h in tags.items():
            out.setdefault(tag, new_histogram()).add(h)
    return out


# --------------------------------------------------------------------------- final blocks


def _percentiles(h: HdrHistogram) -> dict[str, float]:
    pct = h.get_percentile_to_value_dict([50, 90, 95, 99, 99.9, 99.99])
    names = ("p50_us", "p90_us", "p95_us", "p99_us", "p999_us", "p9999_us")
    return {n: float(pct[p]) for n, p in zip(names, (50, 90, 95, 99, 99.9, 99.99), strict=True)}


def merge_final(
    finals: Sequence[Sequence[OpStats]],
    run_seconds: float | None,
    histograms: Mapping[str, HdrHistogram] | None = None,
) -> list[OpStats]:
    """One final block from several: counts added, OPS over the merged run time, the mean
    weighted by count, min of mins, max of maxes; percentiles from the merged histograms of the
    same operation when given, else missing (percentiles of parts cannot be combined)."""
    names: list[str] = []
    by_op: dict[str, list[OpStats]] = {}
    for final in finals:
        for r in final:
            if r.operation not in by_op:
                names.append(r.operation)
            by_op.setdefault(r.operation, []).append(r)
    out = []
    for name in sorted(names):
        rows = by_op[name]
        counts = [r.count or 0 for r in rows]
        n = sum(counts)
        avgs = [(r.avg_us, c) for r, c in zip(rows, counts, strict=True) if r.avg_us is not None]
        weight = sum(c for _, c in avgs)
        mins = [r.min_us for r in rows if r.min_us is not None]
        maxs = [r.max_us for r in rows if r.max_us is not None]
        pct: dict[str, float | None] = dict.fromkeys(
            ("p50_us", "p90_us", "p95_us", "p99_us", "p999_us", "p9999_us")
        )
        h = (histograms or {}).get(name)
        if h is not None and h.get_total_count() > 0:
            pct.update(_percentiles(h))
        out.append(
            OpStats(
                operation=name,
                takes_s=run_seconds,
                count=n,
                ops=(n / run_seconds) if run_seconds else None,
                avg_us=(sum(a * c for a, c in avgs) / weight) if weight else None,
                min_us=min(mins) if mins else None,
                max_us=max(maxs) if maxs else None,
                **pct,
            )
        )
    return out


def merge_interval_rows(
    parts: Sequence[tuple[float, Sequence[IntervalRow]]], origin: float, interval_s: float
) -> list[IntervalRow]:
    """Status-block interval rows of several generators (each with its t=0) on the merged grid.

    A status row counts the operations of the interval before its t_s; only counts are known,
    not when inside it they completed, so a row is apportioned to the merged intervals it
    overlaps, by overlap (go-ycsb's containers start up to ~0.7 s apart: a row of one generator
    then straddles two merged intervals). Each operation's counts are rounded cumulatively, so
    every total stays exact."""
    add: dict[tuple[int, str], float] = {}
    for t0, rows in parts:
        for r in rows:
            end = t0 + r.t_s - origin
            start = end - interval_s
            k = max(0, math.floor(start / interval_s + EPS_S))
            while k * interval_s < end - EPS_S:
                lo, hi = max(start, k * interval_s), min(end, (k + 1) * interval_s)
                if hi > lo:
                    key = (k, r.operation)
                    add[key] = add.get(key, 0.0) + r.interval_count * (hi - lo) / interval_s
                k += 1
    out: list[IntervalRow] = []
    exact: dict[str, float] = {}
    cum: dict[str, int] = {}
    for (k, op), n in sorted(add.items()):
        exact[op] = exact.get(op, 0.0) + n
        now = round(exact[op])
        step = now - cum.get(op, 0)
        cum[op] = now
        out.append(IntervalRow((k + 1) * interval_s, op, now, step, step / interval_s))
    return out


def merged_result(
    results: Sequence[YcsbResult],
    starts: Sequence[float],
    interval_s: float,
    histograms: Mapping[str, HdrHistogram] | None = None,
) -> tuple[YcsbResult, float]:
    """The generators' results as one, and its origin (the earliest t=0). run_seconds spans
    from the earliest start to the latest end of the generators' reported run times."""
    origin = min(starts)
    raw = [x for r in results for x in r.raw_samples]
    if histograms is None and raw:  # go-ycsb measurementtype=raw: every latency is there
        histograms = {}
        for op, _, lat in raw:
            histograms.setdefault(op, new_histogram()).record_value(max(1, lat))
    ends = [t + r.run_seconds for r, t in zip(results, starts, strict=True) if r.run_seconds]
    run_seconds = (max(ends) - origin) if ends else None
    merged = YcsbResult(
        final=merge_final([r.final for r in results], run_seconds, histograms),
        intervals=merge_interval_rows(
            [(t - origin, r.intervals) for r, t in zip(results, starts, strict=True)],
            0.0,
            interval_s,
        ),
        run_seconds=run_seconds,
        properties=dict(results[0].properties) if results else {},
        styles=sorted({s for r in results for s in r.styles}),
        raw_samples=raw,
        complete=all(r.complete for r in results),
    )
    return merged, origin
