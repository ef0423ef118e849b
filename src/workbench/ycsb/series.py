"""Per-interval series from a parsed YCSB result: operations per interval and the exact interval
mean latency (from cumulative count × mean). Status blocks carry only cumulative percentiles,
which stay named as such (`p50_us`/`p99_us` here, `client_p99_cum` on the timeline). Pure."""

from __future__ import annotations

from typing import Any

import pandas as pd


def interval_frame(result: Any) -> pd.DataFrame:
    """Per-interval rows plus latency: the exact interval mean (from cumulative count × mean) and
    the cumulative p50/p99 that YCSB status blocks carry."""
    iv = result.intervals_frame()
    rows = []
    prev: dict[str, tuple[float, float]] = {}
    for block in result.status_blocks:
        if block.t_s is None:
            continue
        for r in block.rows:
            n, avg = r.count, r.avg_us
            interval_avg = None
            if n is not None and avg is not None and block.cumulative:
                pn, pavg = prev.get(r.operation, (0.0, 0.0))
                if n > pn:
                    interval_avg = (n * avg - pn * pavg) / (n - pn)
                prev[r.operation] = (float(n), float(avg))
            rows.append(
                {
                    "t_s": block.t_s,
                    "operation": r.operation,
                    "interval_avg_us": interval_avg,
                    "p50_us": r.p50_us,
                    "p99_us": r.p99_us,
                }
            )
    if iv.empty or not rows:
        return iv
    lat = pd.DataFrame(rows).drop_duplicates(["t_s", "operation"], keep="last")
    return iv.merge(lat, on=["t_s", "operation"], how="left")
