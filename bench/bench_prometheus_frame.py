"""Benchmark: a 1,000,000-sample range result into a tidy frame, vs prometheus-api-client.

Both converters get the same parsed JSON (`data.result` of a query_range answer, values as strings,
with NaN/+Inf/-Inf sprinkled in) in one process; the best of `--repeat` runs each is compared, and
the two outputs are checked to hold the same content (labels, UTC timestamps, values, NaN-aware).

    .venv/bin/python bench/bench_prometheus_frame.py [--series 100] [--points 10000] [--repeat 3]

Prints one JSON line with both times and the ratio; exits 1 when the content differs or the ratio
is below --min-ratio (default 3).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from workbench.prometheus import label_columns, tidy_frame


def make_result(series: int, points: int, seed: int = 7) -> list[dict[str, Any]]:
    """A query_range `result` as Prometheus would send it, parsed from JSON text."""
    rng = random.Random(seed)
    start = 1_769_300_000.0
    out = []
    for s in range(series):
        values = []
        for i in range(points):
            r = rng.random()
            v = "NaN" if r < 0.001 else "+Inf" if r < 0.0015 else "-Inf" if r < 0.002 else repr(r)
            values.append([round(start + i * 0.5, 3), v])
        metric = {
            "__name__": "tikv_grpc_msg_duration_seconds_count",
            "instance": f"tikv{s % 3}:20180",
            "job": "tikv",
            "type": f"type_{s // 3}",
        }
        out.append({"metric": metric, "values": values})
    text = json.dumps({"status": "success", "data": {"resultType": "matrix", "result": out}})
    return list(json.loads(text)["data"]["result"])


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def canonical(df: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """Same-content form: label strings, int64 ms UTC timestamps, float values; sorted."""
    ts = pd.to_datetime(df["timestamp"], utc=True).astype("datetime64[ms, UTC]")
    out = pd.DataFrame({k: df[k].astype(object).astype(str).to_numpy() for k in labels})
    out["ts_ms"] = ts.astype("int64").to_numpy()
    out["value"] = df["value"].astype(np.float64).to_numpy()
    return out.sort_values([*labels, "ts_ms"]).reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=100)
    ap.add_argument("--points", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--min-ratio", type=float, default=3.0)
    args = ap.parse_args(argv)

    from prometheus_api_client import MetricRangeDataFrame

    result = make_result(args.series, args.points)
    samples = sum(len(s["values"]) for s in result)
    ours_s, ours = best_of(lambda: tidy_frame(result), args.repeat)
    with warnings.catch_warnings():  # its own pandas deprecation warnings are not ours to fix
        warnings.simplefilter("ignore")
        theirs_s, theirs = best_of(lambda: MetricRangeDataFrame(result), args.repeat)

    labels = label_columns(ours)
    theirs = theirs.reset_index()
    same_shape = len(ours) == len(theirs) == samples and set(labels) <= set(theirs.columns)
    a, b = canonical(ours, labels), canonical(theirs, labels)
    same = same_shape and a.drop(columns="value").equals(b.drop(columns="value"))
    same = same and np.array_equal(a["value"].to_numpy(), b["value"].to_numpy(), equal_nan=True)
    ratio = theirs_s / ours_s
    print(
        json.dumps(
            {
                "samples": samples,
                "series": len(result),
                "workbench_tidy_frame_s": round(ours_s, 4),
                "prometheus_api_client_MetricRangeDataFrame_s": round(theirs_s, 4),
                "ratio": round(ratio, 2),
                "same_content": bool(same),
                "non_finite_values": int((~np.isfinite(a["value"].to_numpy())).sum()),
            }
        )
    )
    return 0 if same and ratio >= args.min_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
