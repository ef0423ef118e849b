"""What a run observes besides the client: checks against the live stack, the post-load settle
(Prometheus has scraped every target), the measured window, the metric queries and the timeline
with its figures. Knowledge of each technology stays in its room (`prometheus`, `checks`,
`artifacts.timeline`, `report.plots`); this module passes them the run's facts.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pandas as pd
from matplotlib.figure import Figure

from workbench import artifacts
from workbench.artifacts import QueryEntry, RunDir, ServerOpsInfo
from workbench.artifacts.record import Settle
from workbench.checks import CheckContext, run_checks
from workbench.checks.alignment import grid_edges
from workbench.errors import QueryError
from workbench.manifest import Manifest
from workbench.model import Verdict
from workbench.params import RunParams
from workbench.prometheus import (
    PrometheusClient,
    collect,
    counter_increase,
    scrape_interval,
    wait_for_scrape,
)
from workbench.report import plots
from workbench.run import workload
from workbench.stack import Stack
from workbench.ycsb.intervals import partial_mask
from workbench.ycsb.tools import PhaseRecord

# raw scrapes of the subject's op counter (`aligned_ops_counter`), outside metrics/*.parquet (which
# are the manifest's queries), and the labels its per-series lines are summed by


def checks(
    stack: Stack, manifest: Manifest, phase: str, names: list[str], **ctx: Any
) -> list[Verdict]:
    """Run `names` against the live stack, at once; the context says where everything is."""
    if not names:
        return []
    with httpx.Client(timeout=5.0) as http:
        prom = PrometheusClient(http, stack.endpoint("prometheus"))
        probe_service = manifest.probe
        probe = None
        if probe_service:

            def probe() -> Any:
                return stack.run(probe_service, [], timeout=60)

        context = CheckContext.from_manifest(
            manifest, stack.ports, http=http, prometheus=prom, probe=probe, **ctx
        )
        return run_checks(names, context, phase, parallel=True)  # type: ignore[arg-type]


def post_context(
    phases: dict[str, PhaseRecord], params: RunParams, settled_at: float | None, rd: RunDir
) -> dict[str, Any]:
    """What the post checks know of the measured phase: the client's numbers, the window it
    ran in, the idle baseline before it and when its traffic had ended."""
    rec = phases.get("run") or phases.get("load")
    return {
        "client": workload.client_summary(rec, params) if rec else None,
        "generator_clients": tuple(workload.generator_summaries(rec, params)) if rec else (),
        "window": window(phases, settled_at),
        "baseline_window": rd.record.baseline_window,
        "traffic_ended": rec.ended if rec else None,
        "client_intervals": (
            workload.client_intervals(rd, "run" if "run" in phases else "load", rec.first_line)
            if rec
            else None
        ),
    }


def settle(stack: Stack, after: float) -> Settle:
    """Let Prometheus scrape every target after `after` (the load's end) before the run window
    opens, so server counters at the window's start hold all the load's traffic. Waits only as
    long as needed (about half a scrape interval on average)."""
    t0 = time.time()
    with httpx.Client(timeout=3.0) as http:
        prom = PrometheusClient(http, stack.endpoint("prometheus"))
        seen = wait_for_scrape(prom.targets, after)
        if seen is None:  # cannot tell: a whole interval
            wait = after + scrape_interval(prom) + 0.5 - time.time()
            if wait > 0:
                time.sleep(wait)
    return Settle(after=after, seen=seen, waited_s=time.time() - t0)


def window(phases: dict[str, PhaseRecord], settled_at: float | None) -> tuple[float, float] | None:
    """The span holding the measured phase's traffic: from the tool's first line to the end of
    its reported run time (not container start-up and removal)."""
    rec = phases.get("run") or phases.get("load")
    if rec is None:
        return None
    secs = rec.outcome.result.run_seconds
    end = rec.ended if secs is None else min(rec.ended, rec.first_line + secs + 0.5)
    start = rec.first_line - 0.25
    if rec is phases.get("run") and settled_at is not None:
        # counters are read at the window's start: not before the scrapes that hold all of the
        # load (a fast container start can print its first line 0.15 s after them)
        start = max(start, settled_at)
    return (start, end)


def metrics(
    stack: Stack, manifest: Manifest, phases: dict[str, PhaseRecord], rd: RunDir, step: float
) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Every manifest query over the run (first launch - 5 s .. last end + up to 2 s) into
    metrics/; returns the frames and the errors by query name."""
    recs = list(phases.values())
    if not recs:
        return {}, {}
    start = min(r.launched for r in recs) - 5
    # up to 2 s past the last phase, but no waiting for it: the post checks already waited for
    # a scrape after the run, and a range query cannot see the future anyway
    end = min(max(r.ended for r in recs) + 2, time.time())
    queries: list[Any] = list(manifest.queries)  # frozen Query fits QueryLike
    selector = manifest.check_options.get("aligned_ops_counter")
    with httpx.Client(timeout=10.0) as http:
        prom = PrometheusClient(http, stack.endpoint("prometheus"))
        got = collect(prom, queries, start, end, step, rd.metrics_dir, raise_on_error=False)
        errors = dict(got.errors)
        if selector:  # raw scrapes of the server's op counter, for series on the client's grid
            try:
                raw = prom.samples(str(selector), start, end)
                by = [str(b) for b in manifest.check_options.get("aligned_ops_by", [])]
                rd.save_server_ops(raw, ServerOpsInfo(selector=str(selector), by=by))
            except QueryError as exc:
                errors["aligned_ops_counter"] = str(exc)
    return got.frames, errors


def aligned_server_rows(rd: RunDir, phase: str, rec: PhaseRecord) -> pd.DataFrame:
    """`server_ops_aligned` (ops/s, series TOTAL and per label of `aligned_ops_by`) on the
    phase's client interval grid, from the raw counter scrapes (no rate window): interval i of
    the server covers the same seconds as the client's."""
    raw, info = rd.server_ops()
    grid = workload.client_intervals(rd, phase, rec.first_line)
    if raw is None or raw.empty or grid is None or grid.empty:
        return pd.DataFrame(columns=list(artifacts.TIMELINE_COLUMNS))
    edges = grid_edges(grid)
    by = info.by
    parts = [counter_increase(raw, edges).assign(series="TOTAL")]
    if by and all(b in raw.columns for b in by):
        per = counter_increase(raw, edges, by)
        parts.append(per.assign(series=per[by].astype(str).agg(",".join, axis=1)))
    got = pd.concat(parts, ignore_index=True)
    got = got[got["end"] - got["start"] > 0]
    length = (got["end"] - got["start"]).astype(float)
    return pd.DataFrame(
        {
            "unix": got["end"],
            "name": "server_ops_aligned",
            "series": got["series"],
            "kind": "throughput",
            "unit": "ops/s",
            "value": got["ops_s"].astype(float),
            "source": "server",
            "phase": phase,
            "interval_s": length,
            "partial": partial_mask(length),  # the client grid's sliver, the same interval
        }
    )


def timeline(rd: RunDir, phases: dict[str, PhaseRecord]) -> tuple[pd.DataFrame, dict[str, Figure]]:
    """Client intervals, server series and marks on one clock (saved), and the figures."""
    run = phases.get("run")
    origin = run.first_line if run else rd.record.started_unix
    client = [
        artifacts.client_rows(
            rd.ycsb_intervals(ph), ph, rec.first_line, workload.interval_histograms(rd, ph)
        )
        for ph, rec in phases.items()
    ]
    q = {x.name: x for x in rd.queries()}
    unknown = QueryEntry(name="")
    server = [
        artifacts.server_rows(n, f, q.get(n, unknown).unit, q.get(n, unknown).kind)
        for n, f in rd.metrics().items()
    ]
    server += [aligned_server_rows(rd, ph, rec) for ph, rec in phases.items()]
    op = rd.operator()
    marks = rd.marks() + (op.marks() if isinstance(op, artifacts.OperatorDoc) else [])
    tl = artifacts.build_timeline(client, server, marks, origin)
    rd.save_timeline(tl)
    figures = {"throughput": plots.throughput(tl), "latency": plots.latency(tl)}
    if (tl["kind"] == "resource").any():
        figures["resources"] = plots.resources(tl)
    return tl, figures
