"""Recovery as numbers: pure functions from client series and fault times to per-fault metrics.

Inputs (times in seconds from the run phase's t=0):
- `series`: per-interval client rows, long form: `t_s` (the interval's END), `operation`, `ops`
  (successful operations per second in that interval), optional `errors` (errors counted in the
  interval), `p99_ms`, `interval_s` (the interval's own length; else the median step) and
  `partial` (True for a PARTIAL interval: the sliver a run ends with; such rows decide nothing).
  Rows whose operation ends in `_ERROR` count as errors (ops x interval) and `-INTENDED` rows
  are ignored; the other operations are summed (throughput) or maxed (p99).
- `completions` (optional): one row per finished operation: `t_s` (completion time), `ok` (bool).
  With it the unavailability window and the time to first error come at 100 ms resolution.
- a fault: `FaultWindow(start_s, end_s, label)`; its OBSERVED SPAN is the intervals that end after
  its start and no later than the next fault's start (or the end of the series): an interval
  that overlaps the next fault's start is the next fault's, never a measurement of this one.

The PRE-FAULT LEVEL (throughput and p99) is the median over the latest window of up to 10 s
before the fault that no earlier fault touches, from the earlier fault's start until it SETTLED
(throughput back within +-10 % of its own pre-fault level, so a catch-up burst is not a level,
and p99 under 2x), with at least 3 s of full intervals; else, with a target rate, the target
(throughput only); else unknown with the reason. `pre_from` / `pre_window_s` say which.

Definitions:
- time_to_first_error_s: first error at or after the fault's start, minus the start;
- unavailability_s: the longest stretch without a successful operation that overlaps the fault
  (from its last success before to the first after), 0 when operations kept succeeding;
- throughput_recovery_s / p99_recovery_s: from the fault's start to the end of the last interval
  in the observed span below 90 % of the pre-fault throughput (above 2x the pre-fault p99); 0 when
  it never left the band; None when the span ends outside it (it never recovered). A p99 that is
  missing in an interval with successes is missing: when such an interval comes after the last
  bad one, p99_recovery_s is None with that reason (an empty interval's p99 is bad: nothing
  succeeded);
- settled_s: from the start to the end of the last interval outside +-10 % of the pre-fault
  throughput or over 2x its p99; None when not settled within the span;
- errors_during / errors_after: errors in intervals overlapping the fault / after it.
Every None has its reason in `reasons`. What lives elsewhere: injection (injector.py), where the
series come from (run/faulting.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.faults.outcome import Distribution

PRE_WINDOW_S = 10.0
MIN_PRE_S = 3.0  # a pre-fault window needs this much of full intervals
THROUGHPUT_BAND = 0.9
SETTLE_BAND = 0.1  # settled: throughput within +-10 % of the pre-fault level
P99_FACTOR = 2.0
RESOLUTION_S = 0.1
EPS = 1e-6  # interval edges are kept to 1 ms: an edge within a microsecond of a time is at it
METRICS = (
    "time_to_first_error_s",
    "unavailability_s",
    "throughput_recovery_s",
    "p99_recovery_s",
    "errors_during",
    "errors_after",
)
AGG_COLUMNS = ["t_s", "dt", "throughput", "errors", "p99_ms"]


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
    pre_from: str | None = None  # "window" | "target"
    pre_window_s: list[float] | None = None  # [start, end] of the intervals the level is from
    time_to_first_error_s: float | None = None
    unavailability_s: float | None = None
    unavailability_from: str | None = None  # "completions" | "intervals"
    throughput_recovery_s: float | None = None
    p99_recovery_s: float | None = None
    settled_s: float | None = None
    errors_during: float | None = None
    errors_after: float | None = None
    reasons: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def touched_until(self, span_end: float) -> float:
        """Until when this fault touched the series: its end, or when it settled (the end of its
        observed span when it did not)."""
        settled = span_end if self.settled_s is None else self.start_s + self.settled_s
        return max(self.end_s, settled)


def aggregate(series: pd.DataFrame) -> pd.DataFrame:
    """One row per FULL interval: t_s (end), dt (length), throughput, errors, p99_ms (NaN when
    unknown). Partial intervals (`partial` True) are left out: they decide nothing."""
    if "partial" in series:
        series = series[~series["partial"].fillna(False).astype(bool)]
    if series.empty:
        return pd.DataFrame(columns=AGG_COLUMNS)
    op = series["operation"].astype(str)
    err_rows = op.str.endswith("_ERROR")
    ok_rows = ~err_rows & ~op.str.endswith("-INTENDED")
    times = np.sort(series["t_s"].unique())
    step = float(np.median(np.diff(times))) if len(times) > 1 else 1.0
    if "interval_s" in series:
        dt = series.groupby("t_s")["interval_s"].max().reindex(times).fillna(step)
    else:
        dt = pd.Series(step, index=times)
    ok = series[ok_rows].groupby("t_s")
    out = pd.DataFrame(index=pd.Index(times, name="t_s"))
    out["throughput"] = ok["ops"].sum().reindex(times).fillna(0.0)
    errs = series[err_rows].groupby("t_s")["ops"].sum().reindex(times).fillna(0.0) * dt
    if "errors" in series:
        errs = errs + series.groupby("t_s")["errors"].sum().reindex(times).fillna(0.0)
    out["errors"] = errs
    p99 = ok["p99_ms"].max() if "p99_ms" in series else pd.Series(dtype=float)
    out["p99_ms"] = p99.reindex(times)
    out["dt"] = dt.to_numpy(float)
    return out.reset_index()[AGG_COLUMNS]


def _observed(agg: pd.DataFrame, start: float, until: float) -> pd.DataFrame:
    """The fault's observed span: intervals ending after its start, at or before `until`."""
    return agg[(agg["t_s"] > start) & (agg["t_s"] <= until + EPS)]


def _overlapping(agg: pd.DataFrame, start: float, end: float) -> pd.DataFrame:
    return agg[(agg["t_s"] > start) & (agg["t_s"] - agg["dt"] < end)]


def _clean_spans(start: float, touched: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The stretches of [-inf, start] that no earlier fault touched, latest first."""
    spans, upper = [], start
    for a, b in sorted(touched, key=lambda ab: -ab[1]):
        if b < upper:
            spans.append((b, upper))
        upper = min(upper, a)
    spans.append((-math.inf, upper))
    return [(a, b) for a, b in spans if b > a]


def _pre_window(
    agg: pd.DataFrame, start: float, touched: Sequence[tuple[float, float]]
) -> pd.DataFrame | None:
    """The full intervals of the latest untouched window (up to PRE_WINDOW_S, at least MIN_PRE_S
    of intervals) before `start`; None when there is none."""
    for a, b in _clean_spans(start, touched):
        lo = max(a, b - PRE_WINDOW_S)
        win = agg[(agg["t_s"] - agg["dt"] >= lo - EPS) & (agg["t_s"] <= b + EPS)]
        if float(win["dt"].sum()) >= MIN_PRE_S - EPS:
            return win
    return None


def _recovery_time(
    obs: pd.DataFrame, bad: pd.Series, start: float, missing: pd.Series | None = None
) -> tuple[float | None, str]:
    if obs.empty:
        return None, "no full intervals after the fault"
    t = obs["t_s"]
    if bool(bad.iloc[-1]):
        return None, f"not back by the end of the observed span ({float(t.iloc[-1]):.1f} s)"
    last_bad = float(t[bad].iloc[-1]) if bad.any() else None
    if missing is not None:
        unsure = missing & (t > (last_bad if last_bad is not None else -math.inf))
        if unsure.any():
            at = ", ".join(f"{float(x):.1f}" for x in t[unsure].iloc[:3])
            return None, (
                f"no p99 for {int(unsure.sum())} interval(s) with successes after the last "
                f"slow one (ending at {at} s): it may not have been back"
            )
    return (0.0 if last_bad is None else last_bad - start), ""


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
    earlier: Sequence[tuple[float, float]] = (),
    target_ops: float | None = None,
) -> Recovery:
    """The recovery numbers of one fault (see the module docstring for each definition).
    `earlier`: (start, until) of what earlier faults touched; `target_ops`: the client's target
    rate, the pre-fault throughput when no untouched window is left."""
    agg = aggregate(series)
    end_of_data = float(agg["t_s"].max()) if len(agg) else fault.end_s
    until = min(observe_until_s if observe_until_s is not None else math.inf, end_of_data)
    r = Recovery(fault.label, fault.start_s, fault.end_s)
    obs = _observed(agg, fault.start_s, until)
    during = _overlapping(agg, fault.start_s, min(fault.end_s, until))
    r.errors_during = float(during["errors"].sum()) if len(during) else None
    after = obs[obs["t_s"] - obs["dt"] >= fault.end_s - EPS]
    r.errors_after = float(after["errors"].sum()) if len(obs) else None
    r.time_to_first_error_s = _first_error(agg, completions, fault.start_s, until)
    if r.time_to_first_error_s is None:
        r.reasons["time_to_first_error_s"] = "no error in the observed span"
    _unavailability(r, obs, completions, until)
    _pre_levels(r, agg, earlier, target_ops)
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


def _pre_levels(
    r: Recovery, agg: pd.DataFrame, earlier: Sequence[tuple[float, float]], target: float | None
) -> None:
    win = _pre_window(agg, r.start_s, earlier)
    if win is not None:
        r.pre_from = "window"
        r.pre_window_s = [float((win["t_s"] - win["dt"]).min()), float(win["t_s"].max())]
        r.pre_throughput = float(win["throughput"].median())
        p99 = win["p99_ms"].dropna()
        r.pre_p99_ms = float(p99.median()) if len(p99) else None
        if r.pre_p99_ms is None:
            r.reasons["p99_recovery_s"] = "no per-interval p99 before the fault"
        return
    none_left = (
        f"no {MIN_PRE_S:.0f} s of full intervals before the fault untouched by an earlier fault "
        "or its recovery"
    )
    if target:
        r.pre_from, r.pre_throughput = "target", float(target)
        r.reasons["p99_recovery_s"] = f"{none_left}: the target gives a rate, not a p99"
        return
    r.reasons["throughput_recovery_s"] = f"{none_left}, and no target rate"
    r.reasons["p99_recovery_s"] = none_left


def _bands(r: Recovery, agg: pd.DataFrame, obs: pd.DataFrame) -> None:
    if r.pre_throughput is not None and r.pre_throughput <= 0:
        r.reasons["throughput_recovery_s"] = "no throughput before the fault"
    elif r.pre_throughput is not None:
        low = obs["throughput"] < THROUGHPUT_BAND * r.pre_throughput
        r.throughput_recovery_s, why = _recovery_time(obs, low, r.start_s)
        if why:
            r.reasons["throughput_recovery_s"] = why
    if r.pre_p99_ms is not None and r.pre_p99_ms > 0:
        p99 = obs["p99_ms"]
        nothing = p99.isna() & (obs["throughput"] <= 0)  # no latency: nothing succeeded
        high = nothing | (p99 > P99_FACTOR * r.pre_p99_ms)
        missing = p99.isna() & ~nothing
        r.p99_recovery_s, why = _recovery_time(obs, high, r.start_s, missing)
        if why:
            r.reasons["p99_recovery_s"] = why
    _settled(r, obs)


def _settled(r: Recovery, obs: pd.DataFrame) -> None:
    if not r.pre_throughput or obs.empty:
        r.reasons["settled_s"] = "no pre-fault throughput, or no intervals after the fault"
        return
    off = (obs["throughput"] - r.pre_throughput).abs() > SETTLE_BAND * r.pre_throughput
    if r.pre_p99_ms:
        off |= obs["p99_ms"] > P99_FACTOR * r.pre_p99_ms
    r.settled_s, why = _recovery_time(obs, off, r.start_s)
    if why:
        r.reasons["settled_s"] = why


def recoveries(
    series: pd.DataFrame,
    faults: Sequence[FaultWindow],
    completions: pd.DataFrame | None = None,
    target_ops: float | None = None,
) -> list[Recovery]:
    """Each fault observed until the next one starts (or the series ends); its pre-fault level
    from a window no earlier fault touched (or the target)."""
    ordered = sorted(faults, key=lambda f: f.start_s)
    end_of_data = float(aggregate(series)["t_s"].max()) if len(series) else math.inf
    out: list[Recovery] = []
    touched: list[tuple[float, float]] = []
    for i, f in enumerate(ordered):
        until = ordered[i + 1].start_s if i + 1 < len(ordered) else None
        r = recovery(
            series,
            f,
            observe_until_s=until,
            completions=completions,
            earlier=touched,
            target_ops=target_ops,
        )
        touched.append((f.start_s, r.touched_until(end_of_data if until is None else until)))
        out.append(r)
    return out


def distribution(items: Sequence[Recovery]) -> dict[str, Distribution]:
    """Per metric over all faults: every value (None kept), median and max of the known ones."""
    out: dict[str, Distribution] = {}
    for name in METRICS:
        values = [getattr(r, name) for r in items]
        known = [float(v) for v in values if v is not None]
        out[name] = Distribution(
            values=values,
            n=len(known),
            unknown=len(values) - len(known),
            median=float(np.median(known)) if known else None,
            max=max(known) if known else None,
        )
    return out
