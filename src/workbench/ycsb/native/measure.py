"""Latency measurement: cheap per-thread recording, HdrHistogram summaries, go-ycsb output.

The hot path only bumps a counter in a per-thread dict keyed by the latency (µs) rounded down to
its HdrHistogram bucket (1 µs .. 86400 s, 3 significant digits: exact below 2048 µs, then 11
significant bits). Summaries feed those counts into an ``hdrh`` HdrHistogram, so percentiles are
exactly what recording every value into the histogram would give, at a fraction of the cost.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hdrh.histogram import HdrHistogram

from workbench.ycsb.results import OpStats

HDR_LOWEST = 1
HDR_HIGHEST = 24 * 60 * 60 * 1000 * 1000
HDR_DIGITS = 3
PERCENTILES = (50.0, 90.0, 95.0, 99.0, 99.9, 99.99)
HEADER = (
    "Operation",
    "Takes(s)",
    "Count",
    "OPS",
    "Avg(us)",
    "Min(us)",
    "Max(us)",
    "50th(us)",
    "90th(us)",
    "95th(us)",
    "99th(us)",
    "99.9th(us)",
    "99.99th(us)",
)
OUTPUT_STYLES = ("plain", "json", "table")


def hdr_bucket(value_us: int) -> int:
    """Lowest value equivalent to ``value_us`` in a 3-significant-digit HdrHistogram."""
    if value_us < 2048:
        return value_us
    shift = value_us.bit_length() - 11
    return (value_us >> shift) << shift


class Recorder:
    """One thread's samples; only its own thread writes, the reporter only copies."""

    __slots__ = ("counts", "first_ns", "sums")

    def __init__(self) -> None:
        self.counts: dict[str, dict[int, int]] = {}
        self.first_ns: dict[str, int] = {}
        self.sums: dict[str, int] = {}

    def _new(self, op: str, now_ns: int) -> dict[int, int]:
        d: dict[int, int] = {}
        self.first_ns[op] = now_ns
        self.sums[op] = 0
        self.counts[op] = d
        return d

    def record(self, op: str, latency_us: int, now_ns: int = 0) -> None:
        d = self.counts.get(op)
        if d is None:
            d = self._new(op, now_ns or time.perf_counter_ns() - latency_us * 1000)
        self.sums[op] += latency_us
        if latency_us >= 2048:
            shift = latency_us.bit_length() - 11
            latency_us = (latency_us >> shift) << shift
        d[latency_us] = d.get(latency_us, 0) + 1


@dataclass
class Merged:
    counts: dict[int, int]
    first_ns: int
    total: int


class Measurements:
    """All threads' recorders, summarised on demand (status blocks and the final block)."""

    def __init__(self) -> None:
        self._recorders: list[Recorder] = []
        self._lock = threading.Lock()

    def recorder(self) -> Recorder:
        rec = Recorder()
        with self._lock:
            self._recorders.append(rec)
        return rec

    def _merge(self) -> dict[str, Merged]:
        merged: dict[str, Merged] = {}
        with self._lock:
            recorders = list(self._recorders)
        for rec in recorders:
            for _ in range(10):
                try:
                    ops = list(rec.counts.items())
                    firsts = dict(rec.first_ns)
                    sums = dict(rec.sums)
                    break
                except RuntimeError:  # a new op appeared while copying; try again
                    continue
            else:  # pragma: no cover - would need ten consecutive races
                continue
            for op, counts in ops:
                snap = dict(counts)
                m = merged.get(op)
                if m is None:
                    merged[op] = Merged(snap, firsts.get(op, 0), sums.get(op, 0))
                    continue
                for v, c in snap.items():
                    m.counts[v] = m.counts.get(v, 0) + c
                m.first_ns = min(m.first_ns, firsts.get(op, m.first_ns))
                m.total += sums.get(op, 0)
        return merged

    def snapshot(self) -> dict[str, Merged]:
        """Every operation's cumulative bucket counts so far (for a status block and an interval)."""
        return self._merge()

    def summary(
        self, now_ns: int | None = None, merged: dict[str, Merged] | None = None
    ) -> list[OpStats]:
        """One ``OpStats`` per operation name, sorted by name as go-ycsb prints them."""
        now = time.perf_counter_ns() if now_ns is None else now_ns
        return summary_of(self.snapshot() if merged is None else merged, now)

    def histogram(self, op: str) -> HdrHistogram | None:
        """An ``hdrh`` HdrHistogram of everything recorded for ``op`` so far."""
        m = self.snapshot().get(op)
        return None if m is None else to_hdr(m.counts)


#: the operations TOTAL is made of (go-ycsb: every operation but READ_MODIFY_WRITE, which is
#: its READ and UPDATE again; errors and not-found have rows of their own)
TOTAL_OF = ("READ", "UPDATE", "INSERT", "SCAN", "DELETE")


def with_totals(merged: dict[str, Merged]) -> dict[str, Merged]:
    """``TOTAL`` (and ``TOTAL-INTENDED``) as the sum of the operations' counts, exactly what
    recording each sample a second time would give, at no cost per operation. A snapshot that
    has them recorded (raw measurement samples) is left as it is."""
    for total, suffix in (("TOTAL", ""), ("TOTAL-INTENDED", "-INTENDED")):
        parts = [merged[op + suffix] for op in TOTAL_OF if op + suffix in merged]
        if total in merged or not parts:
            continue
        merged[total] = merge_snapshots({total: p} for p in parts)[total]
    return merged


def summary_of(merged: Mapping[str, Merged], now_ns: int) -> list[OpStats]:
    """One ``OpStats`` per operation of a snapshot, sorted by name as go-ycsb prints them."""
    return [
        summarise(op, mg.counts, mg.total, (now_ns - mg.first_ns) / 1e9)
        for op, mg in sorted(merged.items())
    ]


def merge_snapshots(parts: Iterable[Mapping[str, Merged]]) -> dict[str, Merged]:
    """Several processes' cumulative counts as one (bucket counts and sums add, first is min)."""
    out: dict[str, Merged] = {}
    for part in parts:
        for op, mg in part.items():
            m = out.get(op)
            if m is None:
                out[op] = Merged(dict(mg.counts), mg.first_ns, mg.total)
                continue
            for v, c in mg.counts.items():
                m.counts[v] = m.counts.get(v, 0) + c
            m.first_ns = min(m.first_ns, mg.first_ns)
            m.total += mg.total
    return out


def raw_csv(samples: Iterable[Iterable[tuple[str, int, int]]], wall_offset_ns: int) -> str:
    """``measurementtype=raw``: one row per sample (Unix µs start, µs latency), by operation.

    ``samples``: each thread's (operation, perf-counter start ns, latency µs) list.
    """
    by_op: dict[str, list[tuple[int, int]]] = {}
    for thread_samples in samples:
        for op, start, lat in list(thread_samples):
            by_op.setdefault(op, []).append(((start + wall_offset_ns) // 1000, lat))
    out = ["operation,timestamp_us,latency_us\n"]
    for op in sorted(by_op):
        out.extend(f"{op},{ts},{lat}\n" for ts, lat in sorted(by_op[op]))
    return "".join(out)


def to_hdr(counts: dict[int, int]) -> HdrHistogram:
    h = HdrHistogram(HDR_LOWEST, HDR_HIGHEST, HDR_DIGITS)
    for v, c in counts.items():
        h.record_value(min(v, HDR_HIGHEST), c)
    return h


def summarise(op: str, counts: dict[int, int], total_us: int, elapsed_s: float) -> OpStats:
    h = to_hdr(counts)
    n = h.get_total_count()
    pct = h.get_percentile_to_value_dict(list(PERCENTILES))
    elapsed = max(elapsed_s, 1e-9)
    return OpStats(
        operation=op,
        takes_s=elapsed,
        count=n,
        ops=n / elapsed,
        avg_us=float(total_us // n) if n else None,
        min_us=float(h.get_min_value()),
        max_us=float(h.get_max_value()),
        p50_us=float(pct[50.0]),
        p90_us=float(pct[90.0]),
        p95_us=float(pct[95.0]),
        p99_us=float(pct[99.0]),
        p999_us=float(pct[99.9]),
        p9999_us=float(pct[99.99]),
    )


def _cells(row: OpStats) -> list[str]:
    def i(v: float | None) -> str:
        return "0" if v is None else str(int(v))

    return [
        row.operation,
        f"{row.takes_s or 0.0:.1f}",
        str(row.count or 0),
        f"{row.ops or 0.0:.1f}",
        i(row.avg_us),
        i(row.min_us),
        i(row.max_us),
        i(row.p50_us),
        i(row.p90_us),
        i(row.p95_us),
        i(row.p99_us),
        i(row.p999_us),
        i(row.p9999_us),
    ]


def render(rows: Iterable[OpStats], style: str = "plain") -> str:
    """A block of lines in go-ycsb's ``outputstyle`` (plain, json or table)."""
    lines = [_cells(r) for r in rows]
    if not lines:
        return ""
    if style == "json":
        objs = [dict(zip(HEADER, cells, strict=True)) for cells in lines]
        return json.dumps(objs, sort_keys=True, separators=(",", ":")) + "\n"
    if style == "table":
        return _render_table(lines)
    out = []
    for cells in lines:
        pairs = ", ".join(f"{h}: {v}" for h, v in zip(HEADER[1:], cells[1:], strict=True))
        out.append(f"{cells[0]:<6} - {pairs}\n")
    return "".join(out)


def _render_table(lines: list[list[str]]) -> str:
    head = [h.upper() for h in HEADER]
    widths = [max(len(head[c]), *(len(r[c]) for r in lines)) for c in range(len(head))]
    border = "+" + "+".join("-" * (w + 2) for w in widths) + "+\n"
    out = [border, "|" + "|".join(f" {h:^{w}} " for h, w in zip(head, widths, strict=True))]
    out.append("|\n" + border)
    for r in lines:
        cells = [f" {r[0]:<{widths[0]}} "]
        cells += [f" {v:>{w}} " for v, w in zip(r[1:], widths[1:], strict=True)]
        out.append("|" + "|".join(cells) + "|\n")
    out.append(border)
    return "".join(out)


def render_target(target: float, achieved: float, max_lag_ms: float) -> str:
    """The native generator's line saying how far the run fell behind ``target``."""
    behind = max(0.0, (1.0 - achieved / target) * 100.0) if target > 0 else 0.0
    return (
        f"TARGET - Target(ops/s): {target:.1f}, Achieved(ops/s): {achieved:.1f}, "
        f"Behind(%): {behind:.2f}, MaxLag(ms): {max_lag_ms:.1f}\n"
    )
