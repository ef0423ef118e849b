"""`scrape_coverage` (post phase): Prometheus scraped every expected target over the run window.

A member the workbench itself took down (killed, stopped, paused, cut off) cannot be scraped
while its fault is in force. Its missing scrapes inside the fault's span (applied .. undo +
`FAULT_GRACE_S`, workbench.faults.spans) are expected: listed in the evidence as such, never a
coverage gap. Coverage is successful scrapes / scrape slots OUTSIDE those spans: a gap there is
still a gap. Scrape slots are the target's own grid (its first sample + k x interval), from the
raw `up` samples over the window.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench.checks.alignment import RawSamples
from workbench.checks.base import CheckContext, Judgement, Unobservable, register
from workbench.checks.faultspans import fault_spans
from workbench.errors import WorkbenchError
from workbench.faults.spans import FaultSpan
from workbench.units import parse_go_duration


def gather_coverage(ctx: CheckContext) -> dict[str, Any]:
    prom = ctx.require_prometheus()
    if ctx.window is None:
        raise Unobservable("no run window")
    start, end = ctx.window
    jobs = ctx.options.get("prometheus_jobs") or ctx.expected_targets
    if not jobs:
        raise Unobservable("no expected Prometheus jobs to measure coverage of")
    if not isinstance(prom, RawSamples):
        raise Unobservable("the Prometheus client cannot read raw samples")
    interval = ctx.options.get("scrape_interval_s")
    instances: dict[str, list[str]] = {}
    try:
        for t in prom.targets():
            job = t.get("labels", {}).get("job")
            if job in jobs:
                instances.setdefault(job, []).append(t["labels"].get("instance"))
                if interval is None and t.get("scrapeInterval"):
                    interval = parse_go_duration(t["scrapeInterval"])
        sel = "|".join(sorted(jobs))
        frame = prom.samples(f'up{{job=~"{sel}"}}', start, end)
    except WorkbenchError as exc:
        raise Unobservable(f"Prometheus query failed: {exc}") from exc
    return {
        "jobs": dict(jobs),
        "instances": instances,
        "samples": per_target(frame, start, end),
        "window": (start, end),
        "scrape_interval_s": interval,
        "spans": fault_spans(ctx),
    }


def per_target(frame: pd.DataFrame, start: float, end: float) -> dict[str, list[list[float]]]:
    """`job/instance` -> [[t, up], ...] of the samples inside [start, end]."""
    if frame.empty or not {"job", "instance"} <= set(frame.columns):
        return {}
    t = (frame["timestamp"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
    f = frame.assign(_t=t)
    f = f[(f["_t"] >= start) & (f["_t"] <= end)]
    return {
        f"{job}/{inst}": g.sort_values("_t")[["_t", "value"]].astype(float).to_numpy().tolist()
        for (job, inst), g in f.groupby(["job", "instance"], sort=True)
    }


def slots(samples: Sequence[Sequence[float]], start: float, end: float, every: float) -> np.ndarray:
    """The target's scrape slots in [start, end): its own grid when it has a sample, else one
    per interval (the old count, floor(window / interval))."""
    if samples:
        t0 = float(samples[0][0])
        k0, k1 = math.ceil((start - t0) / every - 1e-6), math.floor((end - t0) / every - 1e-6)
        return t0 + every * np.arange(k0, k1 + 1, dtype=float)
    n = math.floor((end - start) / every)
    return start + every * (np.arange(n, dtype=float) + 0.5)


def target_coverage(
    name: str,
    samples: Sequence[Sequence[float]],
    window: tuple[float, float],
    every: float,
    faults: Sequence[FaultSpan],
) -> dict[str, Any]:
    """One target's slots and successful scrapes, outside and inside its faults' spans."""
    instance = name.split("/", 1)[1] if "/" in name else name
    mine = [s for s in faults if s.hits(instance)]

    def inside(t: float) -> bool:
        return any(s.covers(t) for s in mine)

    grid = slots(samples, *window, every)
    ok = [float(t) for t, v in samples if v >= 1.0]
    slots_in = sum(inside(float(t)) for t in grid)
    ok_in = sum(inside(t) for t in ok)
    slots_out, ok_out = len(grid) - slots_in, len(ok) - ok_in
    row: dict[str, Any] = {
        "slots": len(grid) - slots_in,
        "scraped": ok_out,
        "coverage": None if slots_out <= 0 else min(1.0, ok_out / slots_out),
    }
    if mine:
        row["in_faults"] = {
            "faults": [s.label for s in mine],
            "slots": slots_in,
            "scraped": ok_in,
            "missed": max(0, slots_in - ok_in),
        }
    return row


def judge_coverage(obs: Mapping[str, Any], options: Mapping[str, Any]) -> Judgement:
    """Every expected target has successful scrapes for >= `scrape_coverage_min` of its scrape
    slots outside the faults' spans; misses inside them are expected and listed."""
    every = obs["scrape_interval_s"]
    if not every:
        raise Unobservable("scrape interval unknown (set scrape_interval_s)", dict(obs))
    start, end = obs["window"]
    if math.floor((end - start) / float(every)) < 1:
        raise Unobservable(f"window {end - start:.1f}s is shorter than one scrape", dict(obs))
    names = [f"{j}/{i}" for j, inst in obs["instances"].items() for i in inst]
    names += [k for k in obs["samples"] if k not in names]
    minimum = float(options.get("scrape_coverage_min", 0.95))
    faults: list[FaultSpan] = list(obs.get("spans") or [])
    rows = {
        n: target_coverage(n, obs["samples"].get(n, []), (start, end), float(every), faults)
        for n in names
    }
    coverage = {n: r["coverage"] for n, r in rows.items()}
    expected = {n: r["in_faults"] for n, r in rows.items() if r.get("in_faults", {}).get("missed")}
    evidence = {
        "coverage": coverage,
        "targets": rows,
        "min": minimum,
        "window_s": end - start,
        "scrape_interval_s": every,
        "fault_spans": [s.to_dict() for s in faults],
        "expected_misses": expected,
    }
    short = [
        f"{n} {v:.0%}" + (" outside its faults" if n in expected else "")
        for n, v in sorted(coverage.items())
        if v is not None and v < minimum
    ]
    counts = {j: sum(1 for n in names if n.startswith(f"{j}/")) for j in obs["jobs"]}
    missing = [f"{j}: {counts[j]}/{n} targets" for j, n in obs["jobs"].items() if counts[j] < n]
    if short or missing:
        return Judgement(
            "unknown",
            "scrape coverage too low to trust the server series: " + "; ".join(missing + short),
            evidence,
        )
    known = [v for v in coverage.values() if v is not None]
    text = f"{len(coverage)} targets scraped ≥ {min(known, default=1.0):.0%} of the window"
    if expected:
        text += " outside fault windows; expected misses: " + "; ".join(
            f"{n} {e['missed']}/{e['slots']} during {', '.join(e['faults'])}"
            for n, e in sorted(expected.items())
        )
    return Judgement("pass", text, evidence)


register(
    "scrape_coverage",
    "every target scraped for ≥ 95% of the run window (outside the faults' own spans)",
    gather_coverage,
    judge_coverage,
)
