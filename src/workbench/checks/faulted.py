"""What the workbench's own faults do to the measurement checks' numbers (post phase).

ERRORS: the one count of workbench.faults.spans (`count_errors`): the client's `_ERROR` rows per
interval, an interval belonging to the first fault whose span [applied, undo + grace) it
overlaps; outside faults = the client's total minus those. The run puts each fault's count on its
recovery (`errors_during`, run.faulting.put_error_count) when it finishes; the faults table,
fault_errors, ycsb_traffic and error_rate all read it from there.

COUNTS (counts_agree with faults): etcd's counters are per member and live in its process. A
killed, stopped or restarted member's counter starts again from 0. The server's count is then the
increase of the RAW per-member counter (`aligned_ops_counter`) from each series' last scrape before
the window to its last after the traffic (as the instant `sum` reads it without faults),
corrected for each reset (the value before the drop is kept), so the restart costs only
what the member counted after its last scrape before it went down. That part is gone with the
process; it is estimated from the member's own rate over the scrape before (rate x time from that
scrape to the fault), and the operations in flight when it died (at most one per client thread)
failed on the client and were never counted on the server. The counts agree when the server is
within the tolerance of the client's attempts, widened downwards by those two. A server count
ABOVE the client's beyond the tolerance, with a fault that leaves the process running (pause,
partition, loss, delay, bandwidth) in the window, cannot be told from the client's retries of the
requests it gave up on (the server counts each try, the client one operation): `unknown` with
that reason. Otherwise a disagreement is a `fail`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench.checks.alignment import RawSamples
from workbench.checks.base import CheckContext, Judgement, Unobservable
from workbench.errors import WorkbenchError
from workbench.faults.spans import FAULT_GRACE_S, ErrorCount, FaultSpan, store_errors

RESETTING = ("kill", "stop", "restart")  # actions whose member's process (and counter) restarts
LOOKBACK_S = 5.0  # raw samples from before the window: its start edge needs a scrape on each side


def error_count(ctx: CheckContext, client: Mapping[str, Any]) -> ErrorCount:
    """The one error count of this run: each applied fault's errors_during (put on its recovery
    by the run when it finished, `put_error_count`), the client's store errors in total."""
    total = store_errors(client)
    if ctx.faults is None:
        return ErrorCount(total)
    during, known = {}, True
    for f in ctx.faults.applied:
        n = None if f.recovery is None else f.recovery.errors_during
        known = known and n is not None
        during[f.index] = 0.0 if n is None else float(n)
    return ErrorCount(total, during, FAULT_GRACE_S, attributed=known)


def errors_evidence(count: ErrorCount, faults: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    labels = {int(f["index"]): f["label"] for f in faults if "index" in f}
    return {
        **count.to_dict(),
        "during_by_fault": {labels.get(i, str(i)): n for i, n in sorted(count.during.items())},
    }


def gather_raw(ctx: CheckContext, server: Mapping[str, Any]) -> dict[str, Any] | None:
    """The raw per-member op counter over the window and the settle (None: no selector or no
    raw reads; the judge says why)."""
    selector = ctx.options.get("aligned_ops_counter")
    prom = ctx.prometheus
    if not selector or not isinstance(prom, RawSamples):
        return None
    at_end = float(server["end"]) + float(server["settle_s"])
    try:
        frame = prom.samples(str(selector), float(server["start"]) - LOOKBACK_S, at_end)
    except WorkbenchError as exc:
        return {"selector": selector, "error": str(exc)}
    return {"selector": selector, "frame": frame, "at_end": at_end}


def series_of(frame: pd.DataFrame) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Each series of raw counter samples: its instance, times (unix s) and values, by time."""
    if frame.empty:
        return []
    labels = [c for c in frame.columns if c not in ("timestamp", "value")]
    t = (frame["timestamp"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
    f = frame.assign(_t=t)
    groups = f.groupby(labels, observed=True, sort=True) if labels else [((), f)]
    out = []
    for _key, g in groups:
        g = g.sort_values("_t")
        instance = str(g["instance"].iloc[0]) if "instance" in g else ""
        out.append((instance, g["_t"].to_numpy(float), g["value"].to_numpy(float)))
    return out


def corrected_increase(frame: pd.DataFrame, start: float, end: float, settled: float) -> float:
    """The counter's increase from its last scrape at or before `start` to its last at or before
    `end`, each series corrected for resets (the value before a drop is kept) and summed. Every
    series needs a scrape before `start` and one at or after `settled` (the traffic's end):
    else Unobservable naming it."""
    total, short = 0.0, []
    for instance, ts, v in series_of(frame):
        corrected = v + np.concatenate([[0.0], np.cumsum(np.where(np.diff(v) < 0, v[:-1], 0.0))])
        i0, i1 = np.searchsorted(ts, start, "right") - 1, np.searchsorted(ts, end, "right") - 1
        if i0 < 0 or i1 < 0 or ts[i1] < settled:
            short.append(instance)
            continue
        total += float(corrected[i1] - corrected[i0])
    if short or not len(frame):
        raise Unobservable(
            "the raw counter has no scrape before the window or none after the traffic for "
            + (", ".join(sorted(set(short))) or "any member")
        )
    return total


def counter_resets(
    frame: pd.DataFrame, start: float, end: float, faults: Sequence[FaultSpan]
) -> list[dict[str, Any]]:
    """Each drop of a series' value inside [start, end]: which instance, when, and the estimate of
    what it counted after its last scrape before (None: no scrape before that one to take a rate
    from)."""
    out = []
    for instance, ts, v in series_of(frame):
        for j in range(1, len(v)):
            if v[j] >= v[j - 1] or not start <= ts[j] <= end:
                continue
            died = min(  # by when the action had returned (it began at `start`)
                (
                    s.applied if s.applied is not None else s.start
                    for s in faults
                    if s.hits(instance) and ts[j - 1] <= s.start <= ts[j]
                ),
                default=ts[j],
            )
            rate = (v[j - 1] - v[j - 2]) / (ts[j - 1] - ts[j - 2]) if j >= 2 else None
            out.append(
                {
                    "instance": instance,
                    "last_scrape_before": ts[j - 1],
                    "first_scrape_after": ts[j],
                    "went_down": died,
                    "lost_estimate": None if rate is None else max(0.0, rate * (died - ts[j - 1])),
                }
            )
    return out


def judge_counts_with_faults(
    obs: Mapping[str, Any], options: Mapping[str, Any], client: float, tol: float
) -> Judgement:
    """counts_agree when the workbench faulted members in the window (module docstring)."""
    faults, srv, raw = obs["faults"], obs["server"], obs.get("raw")
    ev: dict[str, Any] = {"client_ops": client, "tolerance": tol, "faults": faults}
    if raw is None or "error" in raw:
        why = (raw or {}).get("error") or "no raw counter (`aligned_ops_counter`) to read"
        raise Unobservable(
            f"faults in the window and {why}: a restarted member's counter reset cannot be "
            "corrected",
            ev,
        )
    start, at_end = float(srv["start"]), float(raw["at_end"])
    try:
        increase = corrected_increase(raw["frame"], start, at_end, float(srv["end"]))
    except Unobservable as exc:
        raise Unobservable(exc.reason, ev) from None
    background = float(srv.get("baseline_rate", 0.0)) * (at_end - start)
    server = increase - background
    resets = counter_resets(raw["frame"], start, at_end, obs.get("spans") or [])
    ev.update(selector=raw["selector"], server_ops=server, background_ops=background)
    ev["counter_resets"] = resets
    if any(r["lost_estimate"] is None for r in resets):
        raise Unobservable(
            "a member's counter restarted with no two scrapes before it: what it counted "
            "after its last scrape cannot be estimated",
            ev,
        )
    lost = sum(float(r["lost_estimate"]) for r in resets)
    restarted = sorted({r["instance"] for r in resets})  # a member's series reset together
    in_flight = len(restarted) * int(obs["client"].get("threads") or 1)
    low, high = client * (1 - tol) - lost - in_flight, client * (1 + tol)
    diff = (server - client) / client
    ev.update(relative_diff=diff, lost_estimate=lost, in_flight_allowance=in_flight)
    text = f"client {client} vs server {server:.0f} ops ({diff:+.2%}, tolerance ±{tol:.0%}"
    if resets:
        text += (
            f"; {', '.join(restarted)} restarted: its counter reset corrected "
            f"({len(resets)} series), ≈{lost:.0f} ops it counted after its last scrape and "
            f"≤{in_flight} in flight lost with it"
        )
    text += ")"
    if low <= server <= high:
        return Judgement("pass", text, ev)
    running = [f["label"] for f in faults if f.get("action") not in RESETTING]
    if server > high and running:
        return Judgement(
            "unknown",
            text + f": the server counted more than the client's attempts while "
            f"{', '.join(running)} left a member running but unreachable; the client's "
            "retries (one operation, several requests) cannot be told apart",
            ev,
        )
    return Judgement("fail", text, ev)
