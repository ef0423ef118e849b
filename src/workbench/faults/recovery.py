"""Recovery as numbers: pure functions from client series and fault times to per-fault metrics.

Inputs (times in seconds from the run phase's t=0):
- `series`: per-interval client rows, long form: `t_s` (the interval's END), `operation`, `ops`
  (successful operations per second in that interval), optional `errors` (errors counted in the
  interval) and `p99_ms`. Rows whose operation ends in `_ERROR` count as errors (ops x interval)
  and `-INTENDED` rows are ignored; the other operations are summed (throughput) or maxed (p99).
- `completions` (optional): one row per finished operation: `t_s` (completion time), `ok` (bool).
  With it the unavailability window and the time to first error come at 100 ms resolution.
- a fault: `FaultWindow(start_s, end_s, label)`; `observe_until_s` bounds what belongs to it
  (the next fault's start or the end of the series).

Definitions (the pre-fault level is the MEDIAN over the 10 s before the fault, so an earlier dip
weighs little):
- time_to_first_error_s: first error at or after the fault's start, minus the start;
- unavailability_s: the longest stretch without a successful operation that overlaps the fault
  (from its last success before to the first after), 0 when operations kept succeeding;
- throughput_recovery_s / p99_recovery_s: from the fault's start to the end of the last interval
  in the observed span below 90 % of the pre-fault throughput (above 2x the pre-fault p99); 0 when
  it never left the band; None when the span ends outside it (it never recovered);
- errors_during / errors_after: errors in intervals overlapping the fault / after it.
Every None has its reason in `reasons`. What lives elsewhere: injection (injector.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

PRE_WINDOW_S = 10.0
THROUGHPUT_BAND = 0.9
P99_FACTOR = 2.0
RESOLUTION_S = 0.1
METRICS = (
    "time_to_first_error_s",
    "unavailability_s",
    "throughput_recovery_s",
    "p99_recovery_s",
    "errors_during",
    "errors_after",
)


@dataclass(frozen=True)
class FaultWindow:
    start_s: float
    end_s: float
    label: str = ""


@dataclass
class Recovery:
    label: str
    start_s: float
    end_s: float
    pre_throughput: float | None = None
    pre_p99_ms: float | None = None
    time_to_first_error_s: float | None = None
    unavailability_s: float | None = None
    unavailability_from: str | None = None  # "completions" | "intervals"
    throughput_recovery_s: float | None = None
    p99_recovery_s: float | None = None
    errors_during: float | None = None
    errors_after: float | None = None
    reasons: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def aggregate(series: pd.DataFrame) -> pd.DataFrame:
    """One row per interval: t_s (end), dt, throughput, errors, p99_ms (NaN when unknown)."""
    op = series["operation"].astype(str)
    err_rows = op.str.endswith("_ERROR")
    ok_rows = ~err_rows & ~op.str.endswith("-INTENDED")
    times = np.sort(series["t_s"].unique())
    dt = float(np.median(np.diff(times))) if len(times) > 1 else 1.0
    ok = series[ok_rows].groupby("t_s")
    out = pd.DataFrame(index=pd.Index(times, name="t_s"))
    out["throughput"] = ok["ops"].sum().reindex(times).fillna(0.0)
    errs = series[err_rows].groupby("t_s")["ops"].sum().reindex(times).fillna(0.0) * dt
    if "errors" in series:
        errs = errs + series.groupby("t_s")["errors"].sum().reindex(times).fillna(0.0)
    out["errors"] = errs
    p99 = ok["p99_ms"].max() if "p99_ms" in series else pd.Series(dtype=float)
    out["p99_ms"] = p99.reindex(times)
    out["dt"] = dt
    return out.reset_index()


def _pre(agg: pd.DataFrame, start: float, column: str) -> float | None:
    pre = agg[
        (agg["t_s"] - agg["dt"] >= start - PRE_WINDOW_S - 1e-9) & (agg["t_s"] <= start + 1e-9)
    ]
    values = pre[column].dropna()
    return float(values.median()) if len(values) else None


def _observed(agg: pd.DataFrame, start: float, until: float) -> pd.DataFrame:
    return agg[(agg["t_s"] > start) & (agg["t_s"] - agg["dt"] < until)]


def _recovery_time(obs: pd.DataFrame, bad: pd.Series, start: float) -> tuple[float | None, str]:
    if obs.empty:
        return None, "no intervals after the fault"
    if not bad.any():
        return 0.0, ""
    if bool(bad.iloc[-1]):
        return (
            None,
            f"not back by the end of the observed span ({float(obs['t_s'].iloc[-1]):.1f} s)",
        )
    last_bad = obs["t_s"][bad].iloc[-1]
    return float(last_bad) - start, ""


def _longest_gap(times: np.ndarray, start: float, until: float) -> float:
    """Longest stretch between successive successes (100 ms bins) that overlaps [start, until]."""
    inside = times[(times >= start) & (times <= until)]
    before, after = times[times < start], times[times > until]
    edges = [before.max() if len(before) else start, *inside, after.min() if len(after) else until]
    gaps = np.diff(np.floor(np.asarray(edges) / RESOLUTION_S)) * RESOLUTION_S - RESOLUTION_S
    return max(0.0, round(float(gaps.max()), 3)) if len(gaps) else until - start


def _gap_from_intervals(obs: pd.DataFrame) -> float:
    best = run = 0.0
    for thr, dt in zip(obs["throughput"], obs["dt"], strict=True):
        run = run + dt if thr <= 0 else 0.0
        best = max(best, run)
    return float(best)


def _first_error(
    agg: pd.DataFrame, completions: pd.DataFrame | None, start: float, until: float
) -> float | None:
    if completions is not None and len(completions):
        c = completions[(~completions["ok"].astype(bool)) & (completions["t_s"] >= start)]
        c = c[c["t_s"] <= until]
        return float(c["t_s"].min()) - start if len(c) else None
    obs = _observed(agg, start, until)
    hit = obs[obs["errors"] > 0]
    if hit.empty:
        return None
    return max(0.0, float(hit["t_s"].iloc[0] - hit["dt"].iloc[0]) - start)


def recovery(
    series: pd.DataFrame,
    fault: FaultWindow,
    *,
    observe_until_s: float | None = None,
    completions: pd.DataFrame | None = None,
) -> Recovery:
    """The recovery numbers of one fault (see the module docstring for each definition)."""
    agg = (
        aggregate(series)
        if len(series)
        else pd.DataFrame(columns=["t_s", "dt", "throughput", "errors", "p99_ms"])
    )
    end_of_data = float(agg["t_s"].max()) if len(agg) else fault.end_s
    until = min(observe_until_s if observe_until_s is not None else math.inf, end_of_data)
    r = Recovery(fault.label, fault.start_s, fault.end_s)
    obs = _observed(agg, fault.start_s, until)
    during = _observed(agg, fault.start_s, fault.end_s)
    r.errors_during = float(during["errors"].sum()) if len(during) else None
    after = obs[obs["t_s"] - obs["dt"] >= fault.end_s]
    r.errors_after = float(after["errors"].sum()) if len(obs) else None
    r.time_to_first_error_s = _first_error(agg, completions, fault.start_s, until)
    if r.time_to_first_error_s is None:
        r.reasons["time_to_first_error_s"] = "no error in the observed span"
    _unavailability(r, obs, completions, until)
    _bands(r, agg, obs)
    for name in ("errors_during", "errors_after", "unavailability_s"):
        if getattr(r, name) is None:
            r.reasons.setdefault(name, "no intervals after the fault")
    return r


def _unavailability(
    r: Recovery, obs: pd.DataFrame, completions: pd.DataFrame | None, until: float
) -> None:
    if completions is not None and len(completions):
        ok = np.sort(completions.loc[completions["ok"].astype(bool), "t_s"].to_numpy(float))
        until = min(until, float(completions["t_s"].max()))
        r.unavailability_s, r.unavailability_from = (
            _longest_gap(ok, r.start_s, until),
            "completions",
        )
        recovered = bool((ok > r.start_s).any())
    elif len(obs):
        r.unavailability_s, r.unavailability_from = _gap_from_intervals(obs), "intervals"
        recovered = bool(obs["throughput"].iloc[-1] > 0)
    else:
        return
    if not recovered:
        r.reasons["unavailability_s"] = (
            f"no successful operation until the end of the observed span: at least "
            f"{r.unavailability_s:.1f} s"
        )
        r.unavailability_s = None


def _bands(r: Recovery, agg: pd.DataFrame, obs: pd.DataFrame) -> None:
    r.pre_throughput = _pre(agg, r.start_s, "throughput")
    if r.pre_throughput is None or r.pre_throughput <= 0:
        r.reasons["throughput_recovery_s"] = "no pre-fault throughput (10 s before the fault)"
    else:
        low = obs["throughput"] < THROUGHPUT_BAND * r.pre_throughput
        r.throughput_recovery_s, why = _recovery_time(obs, low, r.start_s)
        if why:
            r.reasons["throughput_recovery_s"] = why
    r.pre_p99_ms = _pre(agg, r.start_s, "p99_ms")
    if r.pre_p99_ms is None or r.pre_p99_ms <= 0:
        r.reasons["p99_recovery_s"] = "no pre-fault p99 (10 s before the fault)"
        return
    p99 = obs["p99_ms"]
    high = p99.isna() | (p99 > P99_FACTOR * r.pre_p99_ms)  # no latency: nothing succeeded
    r.p99_recovery_s, why = _recovery_time(obs, high, r.start_s)
    if why:
        r.reasons["p99_recovery_s"] = why


def recoveries(
    series: pd.DataFrame,
    faults: Sequence[FaultWindow],
    completions: pd.DataFrame | None = None,
) -> list[Recovery]:
    """Each fault observed until the next one starts (or the series ends)."""
    ordered = sorted(faults, key=lambda f: f.start_s)
    out = []
    for i, f in enumerate(ordered):
        until = ordered[i + 1].start_s if i + 1 < len(ordered) else None
        out.append(recovery(series, f, observe_until_s=until, completions=completions))
    return out


def distribution(items: Sequence[Recovery]) -> dict[str, dict[str, Any]]:
    """Per metric over all faults: every value (None kept), median and max of the known ones."""
    out: dict[str, dict[str, Any]] = {}
    for name in METRICS:
        values = [getattr(r, name) for r in items]
        known = [float(v) for v in values if v is not None]
        out[name] = {
            "values": values,
            "n": len(known),
            "unknown": len(values) - len(known),
            "median": float(np.median(known)) if known else None,
            "max": max(known) if known else None,
        }
    return out
