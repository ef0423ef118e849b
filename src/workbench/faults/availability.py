"""Availability as the independent probe saw it: pure functions from the probe's samples and the
fault windows to per-fault numbers (workbench.cluster.probe records the samples).

Inputs (seconds on the run phase's clock):
- `samples`: one row per probe operation: `t_s` (its start), `target` (a member or `cluster`),
  `attempt` (the tick; the operations of one attempt share it), `op`, `ok`, `error`,
  `latency_s`. An ATTEMPT is served when every one of its operations was (etcd: the write and
  the read of the probe's key).
- a fault: `FaultWindow(start_s, end_s, label)`; its window runs from its start to the next
  fault's start (or the last sample).

Definitions, per fault, of the `cluster` target (the endpoint list as a client sees it):
- unavailability_s: the longest outage in the window: from the first attempt of a run of
  failed attempts to the next served attempt (to the window's end when none came:
  `unavailability_open`); 0 when every attempt was served. Resolution: the probe's tick.
- time_to_first_error_s: the first failed attempt's start minus the fault's start;
- serve_again_s: from the fault's start to the first served attempt after its first failure;
- members: each member's own unavailability (same rule), e.g. the killed one's whole outage;
- errors: the failed attempts by error class (timeout, refused, server, deadline, ...).
- new_leader_seen_s (the server's view, not the probe's): the first scrape after the start at
  which a member's leader-change counter had risen (resolution: the scrape interval).
Every None has its reason in `reasons`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from workbench.cluster.probe import Sample
from workbench.faults.injector import windows
from workbench.faults.outcome import FaultRecord, ProbeNumbers
from workbench.faults.recovery import FaultWindow

CLUSTER = "cluster"
SERVER_AFTER_S = 10.0  # the last fault's window for the server's view: its end and 10 s after
COLUMNS = ["t_s", "target", "attempt", "op", "ok", "error", "latency_s"]


def _first_error(errors: pd.Series) -> Any:
    return next((e for e in errors if isinstance(e, str)), None)


def attempts(samples: pd.DataFrame, target: str) -> pd.DataFrame:
    """One row per attempt of `target`, by start: t_s, ok (every op ok), error (the first)."""
    rows = samples[samples["target"] == target]
    if rows.empty:
        return pd.DataFrame({"t_s": [], "ok": [], "error": []})
    g = rows.sort_values("t_s").groupby("attempt", sort=False)
    out = pd.DataFrame(
        {
            "t_s": g["t_s"].min(),
            "ok": g["ok"].all(),
            "error": g["error"].agg(_first_error),
        }
    )
    return out.sort_values("t_s").reset_index(drop=True)


def outages(att: pd.DataFrame, until: float) -> list[tuple[float, float, bool]]:
    """(start, end, open) of each run of failed attempts: from its first failed attempt to the
    next served one, or to `until` (open) when none came."""
    spans, begin = [], None
    for t, ok in zip(att["t_s"].to_numpy(float), att["ok"].to_numpy(bool), strict=True):
        if not ok and begin is None:
            begin = t
        elif ok and begin is not None:
            spans.append((begin, float(t), False))
            begin = None
    if begin is not None:
        spans.append((begin, max(until, begin), True))
    return spans


def _longest(spans: list[tuple[float, float, bool]]) -> tuple[float, bool]:
    if not spans:
        return 0.0, False
    start, end, is_open = max(spans, key=lambda s: s[1] - s[0])
    return end - start, is_open


def fault_availability(
    samples: pd.DataFrame, fault: FaultWindow, until: float, target: str = CLUSTER
) -> ProbeNumbers:
    """The probe's numbers of one fault over [fault.start_s, until)."""
    start = fault.start_s
    window = samples[(samples["t_s"] >= start) & (samples["t_s"] < until)]
    att = attempts(window, target)
    n = ProbeNumbers(target=target, attempts=len(att), failed=int((~att["ok"]).sum()))
    if att.empty:
        why = "no probe attempt in the fault's window"
        n.reasons = {m: why for m in ("unavailability_s", "time_to_first_error_s", "serve_again_s")}
        return n
    n.unavailability_s, n.unavailability_open = _longest(outages(att, until))
    failed = att[~att["ok"]]
    if failed.empty:
        n.reasons["time_to_first_error_s"] = "the probe was served throughout"
        n.reasons["serve_again_s"] = "the probe was served throughout"
    else:
        first = float(failed["t_s"].iloc[0])
        n.time_to_first_error_s = first - start
        after = att[(att["t_s"] > first) & att["ok"]]
        if after.empty:
            n.reasons["serve_again_s"] = "not served again before the window's end"
        else:
            n.serve_again_s = float(after["t_s"].iloc[0]) - start
        n.errors = {str(k): int(v) for k, v in failed["error"].fillna("?").value_counts().items()}
    for member in sorted(set(window["target"]) - {target}):
        n.members[member] = _longest(outages(attempts(window, member), until))[0]
    return n


def availability(
    samples: pd.DataFrame, faults: Sequence[FaultWindow], target: str = CLUSTER
) -> list[ProbeNumbers]:
    """One ProbeNumbers per fault (in start order), each over its window."""
    ordered = sorted(faults, key=lambda f: f.start_s)
    last = float(samples["t_s"].max()) if not samples.empty else 0.0
    out = []
    for i, f in enumerate(ordered):
        until = ordered[i + 1].start_s if i + 1 < len(ordered) else max(last, f.end_s)
        out.append(fault_availability(samples, f, until, target))
    return out


def first_rise(counter: pd.DataFrame, start: float, until: float) -> float | None:
    """The first time in (start, until) at which any series of a counter (`t_s`, `value`, and
    label columns: one series per label set) is above its last value at or before `start`;
    None when none rose (or no series has a value before the start)."""
    if counter.empty:
        return None
    labels = [c for c in counter.columns if c not in ("t_s", "value", "timestamp")]
    groups: Any = counter.groupby(labels, observed=True) if labels else [((), counter)]
    seen = []
    for _, g in groups:
        g = g.sort_values("t_s")
        before = g[g["t_s"] <= start]
        if before.empty:
            continue
        base = float(before["value"].iloc[-1])
        rose = g[(g["t_s"] > start) & (g["t_s"] < until) & (g["value"] > base)]
        if not rose.empty:
            seen.append(float(rose["t_s"].iloc[0]))
    return min(seen) - start if seen else None


def samples_frame(samples: Sequence[Sample], t0: float) -> pd.DataFrame:
    """The probe's samples as a frame on the run phase's clock (t_s = t - t0), plus `t` (unix)."""
    frame = pd.DataFrame([s.__dict__ for s in samples], columns=["t", *COLUMNS[1:]])
    frame.insert(0, "t_s", frame["t"].astype(float) - t0)
    frame["ok"] = frame["ok"].astype(bool)
    return frame


def counter_frame(raw: pd.DataFrame | None, t0: float) -> pd.DataFrame | None:
    """Prometheus raw samples (timestamp, value, labels) on the run phase's clock."""
    if raw is None or raw.empty:
        return None
    t = (raw["timestamp"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds() - t0
    return raw.drop(columns=["timestamp"]).assign(t_s=t.to_numpy())


def per_fault(
    frame: pd.DataFrame,
    records: Sequence[FaultRecord],
    t0: float,
    leader_counter: pd.DataFrame | None = None,
) -> dict[int, ProbeNumbers]:
    """Each applied fault's probe numbers, by the fault's index; with the leader-change
    counter (counter_frame), the server's own time of the new leader."""
    applied = sorted(
        (r for r in records if r.start is not None and r.applied is not None),
        key=lambda r: float(r.start or 0.0),
    )
    wins = windows(applied, t0)
    numbers = availability(frame, wins)
    out = {}
    for i, (r, w, n) in enumerate(zip(applied, wins, numbers, strict=True)):
        until = wins[i + 1].start_s if i + 1 < len(wins) else w.end_s + SERVER_AFTER_S
        if leader_counter is None:
            n.reasons["new_leader_seen_s"] = "no leader-change counter read"
        else:
            n.new_leader_seen_s = first_rise(leader_counter, w.start_s, until)
            if n.new_leader_seen_s is None:
                n.reasons["new_leader_seen_s"] = "the leader-change counter did not rise"
        out[r.index] = n
    return out
