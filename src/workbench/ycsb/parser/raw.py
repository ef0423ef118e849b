"""raw/CSV measurement files (``operation,timestamp_us,latency_us``, go-ycsb
``measurementtype=raw``) → samples and final rows with exact percentiles. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from workbench.ycsb.parser.lines import RAW_HEADER
from workbench.ycsb.results import (
    OpStats,
    YcsbResult,
)


def parse_raw(text: str) -> YcsbResult:
    """A raw/CSV measurement file → samples plus final rows derived from them (exact)."""
    res = YcsbResult(styles=["raw"])
    by_op: dict[str, list[tuple[int, int]]] = {}
    for n, line in enumerate(text.splitlines()):
        s = line.strip()
        if not s or (n == 0 and s.lower().replace(" ", "") == RAW_HEADER):
            continue
        parts = s.split(",")
        try:
            op, ts, lat = parts[0], int(parts[1]), int(parts[2])
        except (IndexError, ValueError):
            res.unknown_lines.append(line)
            continue
        res.raw_samples.append((op, ts, lat))
        by_op.setdefault(op, []).append((ts, lat))
    for op in sorted(by_op):
        res.final.append(stats_from_samples(op, by_op[op]))
    res.complete = bool(res.final)
    if res.raw_samples:
        start = min(ts for _, ts, _ in res.raw_samples)
        end = max(ts + lat for _, ts, lat in res.raw_samples)
        res.run_seconds = (end - start) / 1e6
    return res


def exact_percentile(sorted_values: Sequence[int], pct: float) -> int:
    """The value at ``pct`` by HdrHistogram's rank rule, on exact data."""
    n = len(sorted_values)
    rank = max(1, int(pct * n / 100.0 + 0.5))
    return sorted_values[min(rank, n) - 1]


def stats_from_samples(op: str, samples: Sequence[tuple[int, int]]) -> OpStats:
    """Exact statistics of (start_us, latency_us) samples."""
    lats = sorted(lat for _, lat in samples)
    start = min(ts for ts, _ in samples)
    end = max(ts + lat for ts, lat in samples)
    takes = (end - start) / 1e6
    pct = {p: float(exact_percentile(lats, p)) for p in (50, 90, 95, 99, 99.9, 99.99)}
    return OpStats(
        operation=op,
        takes_s=takes,
        count=len(lats),
        ops=len(lats) / takes if takes > 0 else None,
        avg_us=sum(lats) / len(lats),
        min_us=float(lats[0]),
        max_us=float(lats[-1]),
        p50_us=pct[50],
        p90_us=pct[90],
        p95_us=pct[95],
        p99_us=pct[99],
        p999_us=pct[99.9],
        p9999_us=pct[99.99],
    )
