"""The post check `series_aligned`: server and client throughput agree interval by interval.

Inputs: the client's per-interval operation counts of the measured phase (`ctx.client_intervals`:
columns start, end in Unix s, operation, count) and the server's raw counter samples over the same
span (`aligned_ops_counter` option: a series selector of a counter, no `rate`, no `sum`). The
server counter is interpolated between scrapes at the client's interval edges and differenced
(`workbench.prometheus.counter_increase`), so server interval i covers the client's seconds.
Client operations are weighted by `server_msgs_per_op` (default 1 each) into expected server
messages; ``_ERROR``/``_NOTFOUND`` rows are counted with their operation, TOTAL and
READ_MODIFY_WRITE are not (their parts are). The first interval (ramp-up), the last (the tail:
a tool's grid does not always say it was full) and every PARTIAL one (shorter than 90 % of the
usual length, `workbench.ycsb.intervals.partial_mask`: the sliver at the end, the short one after
a late tick) are left out: they never decide the verdict. So is every interval in a fault's span
(workbench.faults.spans, from one scrape before it was applied: the member's last scrape is
interpolated across its downtime): a member the workbench took down is not a disagreement; how
many were left out is in the evidence.
What does not live here: how the server series are drawn (report.plots) or stored (run.observe).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from workbench.checks.base import CheckContext, Judgement, Unobservable, register
from workbench.checks.faultspans import fault_spans
from workbench.errors import WorkbenchError
from workbench.faults.spans import FaultSpan, owners
from workbench.prometheus import counter_increase
from workbench.ycsb.intervals import partial_mask

DEFAULT_TOLERANCE = 0.10  # |server - client| / client per interval
DEFAULT_MIN_SHARE = 0.90  # of the full intervals within tolerance
# A counter read between two scrapes is interpolated: the scrapes bracketing an interval's edges
# must be at most this fraction of the interval apart, or the comparison measures the harness
# (scrape resolution), not the system, and the verdict is `unknown` with that reason.
DEFAULT_MAX_GAP_SHARE = 0.5
WORST_LISTED = 5
NOT_COUNTED = ("TOTAL", "READ_MODIFY_WRITE")


@runtime_checkable
class RawSamples(Protocol):
    """A Prometheus client that reads raw scrapes (workbench.prometheus.PrometheusClient)."""

    def samples(self, selector: str, start: float, end: float) -> pd.DataFrame: ...


def base_operation(op: str) -> str:
    for suffix in ("_ERROR", "_NOTFOUND", "-INTENDED"):
        op = op.removesuffix(suffix)
    return op


def contiguous(client: pd.DataFrame) -> pd.DataFrame:
    """The client's intervals with each start moved onto the previous interval's end: a tool's
    interval lengths are rounded (1 ms), so start_i+1 and end_i differ by a hair; the grid has
    no gaps and no slivers between its intervals."""
    ends = sorted(set(client["end"].astype(float)))
    first = float(client["start"].min())
    prev = dict(zip(ends, [first, *ends[:-1]], strict=True))
    return client.assign(start=client["end"].astype(float).map(prev))


def grid_edges(client: pd.DataFrame) -> list[float]:
    """The edges of the client's interval grid: the first start, then every interval's end."""
    return [float(client["start"].min()), *sorted(set(client["end"].astype(float)))]


def expected_server(client: pd.DataFrame, msgs_per_op: Mapping[str, float]) -> pd.DataFrame:
    """Per interval (start, end): client operations, and the server messages they should cause."""
    c = contiguous(client[~client["operation"].astype(str).str.endswith("-INTENDED")])
    c["base"] = c["operation"].astype(str).map(base_operation)
    c = c[~c["base"].isin(NOT_COUNTED)]
    c["msgs"] = c["count"].astype(float) * c["base"].map(lambda o: float(msgs_per_op.get(o, 1)))
    return c.groupby(["start", "end"], as_index=False, sort=True).agg(
        client_ops=("count", "sum"), expected=("msgs", "sum")
    )


def gather_aligned(ctx: CheckContext) -> dict[str, Any]:
    selector = ctx.options.get("aligned_ops_counter")
    if not selector:
        raise Unobservable("no `aligned_ops_counter` in [checks.options]: server series unknown")
    client = ctx.client_intervals
    if client is None or client.empty:
        raise Unobservable("no per-interval client counts of the measured phase")
    prom = ctx.require_prometheus()
    if not isinstance(prom, RawSamples):
        raise Unobservable("the Prometheus client cannot read raw samples")
    start, end = float(client["start"].min()), float(client["end"].max())
    quiet = max(end, ctx.traffic_ended or end) + 2.0  # a scrape after the last interval
    if quiet > ctx.clock():
        ctx.sleep(quiet - ctx.clock())
    try:
        raw = prom.samples(str(selector), start - 5.0, quiet)
    except WorkbenchError as exc:
        raise Unobservable(f"Prometheus query failed: {exc}", {"selector": selector}) from exc
    exp = expected_server(client, ctx.options.get("server_msgs_per_op") or {})
    server = counter_increase(raw, grid_edges(exp))
    merged = exp.merge(server[["start", "end", "increase", "covered"]], on=["start", "end"])
    merged["scrape_gap_s"] = bracketing_gaps(raw, merged)
    merged["in_fault"] = in_faults(raw, merged, fault_spans(ctx))
    return {"selector": selector, "intervals": merged.to_dict("records")}


def in_faults(raw: pd.DataFrame, intervals: pd.DataFrame, spans: list[FaultSpan]) -> list[bool]:
    """Per interval: inside a fault's span, widened back by one scrape interval."""
    if not spans or intervals.empty:
        return [False] * len(intervals)
    ts = np.unique((raw["timestamp"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy())
    step = float(np.median(np.diff(ts))) if len(ts) > 1 else 0.0
    return [o >= 0 for o in owners(intervals["start"], intervals["end"] + step, spans)]


def bracketing_gaps(raw: pd.DataFrame, intervals: pd.DataFrame) -> list[float]:
    """Per interval, the widest gap between the scrapes around its start and around its end (a
    counter there is interpolated across that gap); NaN when an edge has no scrape on a side."""
    if raw.empty or intervals.empty:
        return [float("nan")] * len(intervals)
    ts = np.unique((raw["timestamp"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy())

    def gap(edge: float) -> float:
        i = int(np.searchsorted(ts, edge))
        return float(ts[i] - ts[i - 1]) if 0 < i < len(ts) else float("nan")

    return [
        max(gap(float(a)), gap(float(b)))
        for a, b in zip(intervals["start"], intervals["end"], strict=True)
    ]


def full_intervals(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The intervals of the run without the first (ramp-up), the last (tail) and the partial
    ones (see `partial_intervals`)."""
    ordered = sorted(rows, key=lambda r: float(r["start"]))[1:-1]
    short = {id(r) for r in partial_intervals(rows)}
    return [r for r in ordered if id(r) not in short]


def partial_intervals(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The intervals shorter than 90 % of the run's usual length (the one definition of the
    ycsb room), in the order of their starts."""
    ordered = sorted(rows, key=lambda r: float(r["start"]))
    lengths = pd.Series([float(r["end"]) - float(r["start"]) for r in ordered], dtype=float)
    return [r for r, short in zip(ordered, partial_mask(lengths), strict=True) if short]


def judge_aligned(obs: Mapping[str, Any], options: Mapping[str, Any]) -> Judgement:
    tol = float(options.get("aligned_tolerance", DEFAULT_TOLERANCE))
    share = float(options.get("aligned_min_share", DEFAULT_MIN_SHARE))
    rows = full_intervals(obs["intervals"])
    ev: dict[str, Any] = {"selector": obs.get("selector"), "tolerance": tol, "min_share": share}
    ev["in_fault_windows"] = sum(bool(r.get("in_fault")) for r in rows)
    rows = [r for r in rows if not r.get("in_fault")]
    t0 = min((float(r["start"]) for r in obs["intervals"]), default=0.0)  # the first interval
    ev["partial"] = [
        [round(float(r["start"]) - t0, 3), round(float(r["end"]) - t0, 3)]
        for r in partial_intervals(obs["intervals"])
    ]
    if not rows:
        return Judgement("unknown", "fewer than 3 intervals: no full interval to compare", ev)
    uncovered = [r for r in rows if not r["covered"] or pd.isna(r["increase"])]
    if uncovered:
        ev["uncovered"] = [[r["start"], r["end"]] for r in uncovered[:WORST_LISTED]]
        return Judgement(
            "unknown", f"the scrapes do not cover {len(uncovered)} of {len(rows)} intervals", ev
        )
    max_gap = float(options.get("aligned_max_gap_share", DEFAULT_MAX_GAP_SHARE))
    coarse = [
        r
        for r in rows
        if not (r.get("scrape_gap_s", 0.0) <= max_gap * (float(r["end"]) - float(r["start"])))
    ]
    if coarse:
        gaps = sorted(float(r.get("scrape_gap_s", float("nan"))) for r in coarse)
        ev.update(coarse=len(coarse), scrape_gaps_s=gaps[:WORST_LISTED], max_gap_share=max_gap)
        span = float(coarse[0]["end"]) - float(coarse[0]["start"])
        return Judgement(
            "unknown",
            f"scrapes {gaps[-1]:.2f} s apart cannot resolve {span:.2f} s intervals "
            f"({len(coarse)} of {len(rows)}; need gaps ≤ {max_gap:.0%} of an interval): "
            "scrape faster or use longer status intervals",
            ev,
        )
    scored = [dict(r, rel_diff=_rel(r["increase"], r["expected"])) for r in rows]
    good = sum(r["rel_diff"] <= tol for r in scored)
    worst = sorted(scored, key=lambda r: -r["rel_diff"])[:WORST_LISTED]
    ev.update(intervals=len(rows), within=good, worst=[_describe(r, t0) for r in worst])
    summary = (
        f"{good}/{len(rows)} full intervals with server ops within {tol:.0%} of the client's "
        f"(need {share:.0%})"
    )
    if good >= share * len(rows):
        return Judgement("pass", summary, ev)
    return Judgement("fail", summary + "; worst: " + "; ".join(ev["worst"][:3]), ev)


def _rel(server: float, expected: float) -> float:
    if expected <= 0:
        return 0.0 if server <= 0 else float("inf")
    return abs(float(server) - float(expected)) / float(expected)


def _describe(r: Mapping[str, Any], t0: float) -> str:
    span = float(r["end"]) - float(r["start"])
    return (
        f"+{float(r['start']) - t0:.1f}s..+{float(r['end']) - t0:.1f}s: server "
        f"{float(r['increase']) / span:,.0f}/s vs client {float(r['expected']) / span:,.0f}/s "
        f"({float(r['rel_diff']):.0%})"
    )


register(
    "series_aligned",
    "server and client ops/s agree per interval of the run (same seconds, no rate window)",
    gather_aligned,
    judge_aligned,
    needs=("scrape_coverage",),
)
