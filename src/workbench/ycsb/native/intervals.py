"""Per-interval latency of the native generator: the difference of the cumulative counts per tick.

At each status tick the reporter hands over the merged cumulative bucket counts of every
operation (what the cumulative status block is computed from); the difference from the previous
tick is that interval's histogram, so recording costs the workers nothing extra. Each interval
goes to an HdrHistogram interval log (``measurement.interval_log``, one ``Tag=<op>`` entry per
operation per interval) and to a per-interval CSV (``measurement.interval_csv``), both in the
shapes ``workbench.ycsb.intervals`` reads. The go-ycsb status lines are not touched.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from typing import IO, Any

from hdrh.histogram import HdrHistogram

from workbench.ycsb import intervals as iv

Counts = Mapping[int, int]


def diff_histogram(now: Counts, before: Counts | None) -> HdrHistogram:
    """The histogram of what was recorded between two cumulative snapshots of bucket counts."""
    h = iv.new_histogram()
    for v, c in now.items():
        d = c - (before.get(v, 0) if before else 0)
        if d > 0:
            h.record_value(min(max(v, iv.HDR_LOWEST), iv.HDR_HIGHEST), d)
    return h


class IntervalLog:
    """Writes one interval per ``tick``: the hlog and/or the CSV (either path may be empty)."""

    def __init__(self, hlog_path: str, csv_path: str, start_wall_s: float) -> None:
        self.start_wall_s = start_wall_s
        self._prev: dict[str, dict[int, int]] = {}
        self._prev_t = 0.0
        self._hlog: IO[str] | None = None
        self._csv_file: IO[str] | None = None
        self._csv: Any = None
        self.rows: list[dict[str, Any]] = []  # every interval row written, for the caller
        if hlog_path:
            self._hlog = open(hlog_path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
            self._hlog.write(iv.hlog_header(start_wall_s))
        if csv_path:
            self._csv_file = open(csv_path, "w", encoding="utf-8", newline="")  # noqa: SIM115
            self._csv = csv.DictWriter(self._csv_file, fieldnames=list(iv.COLUMNS))
            self._csv.writeheader()

    def start_at(self, t_s: float) -> None:
        """Where the first interval starts (after a warm-up nothing was recorded)."""
        self._prev_t = round(t_s, 3)

    def tick(self, cumulative: Mapping[str, Counts], t_s: float) -> list[dict[str, Any]]:
        """Close the interval ending at ``t_s`` (seconds since the run started, kept to 1 ms)."""
        t_s = round(t_s, 3)
        length = round(max(t_s - self._prev_t, 0.0), 3)
        hists: dict[str, HdrHistogram] = {}
        for op in sorted(set(cumulative) | set(self._prev)):
            now = cumulative.get(op, {})
            hists[op] = diff_histogram(now, self._prev.get(op))
            self._prev[op] = dict(now)
        if self._hlog is not None:
            for op, h in hists.items():
                self._hlog.write(iv.hlog_line(op, self._prev_t, length, h))
            self._hlog.flush()
        rows = iv.interval_rows(t_s, length, hists, self.start_wall_s)
        if self._csv is not None:
            for row in rows:
                self._csv.writerow({k: _cell(v) for k, v in row.items()})
            assert self._csv_file is not None
            self._csv_file.flush()
        self.rows.extend(rows)
        self._prev_t = t_s
        return rows

    def close(self) -> None:
        for f in (self._hlog, self._csv_file):
            if f is not None:
                f.close()
        self._hlog = self._csv_file = None
        self._csv = None


def _cell(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return ""
    return v
