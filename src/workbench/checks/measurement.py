"""H4 and the checks on the measurement itself (post phase).

Inputs: the client's summary (`ctx.client`), the run window, and Prometheus. Server traffic is the
delta of a counter expression (`server_ops_query` option, a raw counter sum) between the window's
start and its end plus a settle time, minus the background rate measured over
`ctx.baseline_window` when one is given. The settle time is measured, not guessed: it ends as soon
as Prometheus reports every target scraped after the window closed (`wait_for_scrape`); a fixed
`settle_s` option replaces that wait.

With faults in the run (`ctx.faults`), errors are the one count of workbench.faults.spans (each
fault's errors_during, put on its recovery when the run finished): the traffic check says how many
fell in the faults' spans and how many outside, `error_rate` judges those outside, and
`counts_agree` is judged by checks.faulted (a restarted member's counter corrected). Before that,
`counts_agree` said
`unknown` with the reason (a killed or restarted member's counter vanishes; a paused or cut-off
member's requests are retried or never counted).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.checks.base import (
    CheckContext,
    Judgement,
    PrometheusAPI,
    Unobservable,
    register,
)
from workbench.checks.faulted import (
    error_count,
    errors_evidence,
    gather_raw,
    judge_counts_with_faults,
)
from workbench.checks.faultspans import fault_spans
from workbench.errors import WorkbenchError
from workbench.model import ClientSummary
from workbench.prometheus import wait_for_scrape

FALLBACK_SETTLE_S = 5.0  # when the targets cannot tell
SETTLE_MARGIN_S = 0.1  # past the observed scrape, so the instant query sees its samples


def _client(ctx: CheckContext) -> ClientSummary:
    if ctx.client is None:
        raise Unobservable("no YCSB result to judge (the run phase did not report)")
    return ctx.client


def _window(ctx: CheckContext) -> tuple[float, float]:
    if ctx.window is None:
        raise Unobservable("no run window")
    return ctx.window


def _applied_faults(ctx: CheckContext) -> list[dict[str, Any]]:
    """The run's faults that were applied, with their errors (the one count, on their recovery),
    as the evidence rows the judges read."""
    if ctx.faults is None:
        return []
    return [
        {
            "index": f.index,
            "label": f.label,
            "action": f.spec.action,
            "took_effect": f.took_effect,
            "start": f.start,
            "end": f.end,
            "errors": None if f.recovery is None else f.recovery.errors_during,
        }
        for f in ctx.faults.applied
    ]


def _scalar(prom: PrometheusAPI, promql: str, at: float) -> float | None:
    frame = prom.query(promql, at)
    if frame.empty:
        return None
    return float(frame["value"].sum())


def server_delta(ctx: CheckContext) -> dict[str, Any]:
    """Server counter values around the run window (waiting for the settle time if needed)."""
    query = ctx.options.get("server_ops_query")
    if not query:
        raise Unobservable("no `server_ops_query` in [checks.options]: server traffic unknown")
    prom = ctx.require_prometheus()
    start, end = _window(ctx)
    fixed = ctx.options.get("settle_s")
    if fixed is not None:
        at_end = end + float(fixed)
        wait = at_end - ctx.clock()
        if wait > 0:
            ctx.sleep(wait)
        settled = "fixed"
    else:
        quiet_from = max(end, ctx.traffic_ended or end)
        scraped = wait_for_scrape(prom.targets, quiet_from, clock=ctx.clock, sleep=ctx.sleep)
        if scraped is None:  # targets unreadable or never all scraped: the old fixed wait
            at_end = max(quiet_from + FALLBACK_SETTLE_S, ctx.clock())
            if at_end > ctx.clock():
                ctx.sleep(at_end - ctx.clock())
            settled = "fallback"
        else:  # Prometheus may show lastScrape a moment before that scrape's samples commit
            ctx.sleep(SETTLE_MARGIN_S)
            at_end, settled = scraped + SETTLE_MARGIN_S, "scraped"
    obs: dict[str, Any] = {
        "query": query,
        "start": start,
        "end": end,
        "settle_s": at_end - end,
        "settled_by": settled,
    }
    try:
        obs["before"] = _scalar(prom, str(query), start)
        obs["after"] = _scalar(prom, str(query), at_end)
        if ctx.baseline_window is not None:
            b0, b1 = ctx.baseline_window
            v0, v1 = _scalar(prom, str(query), b0), _scalar(prom, str(query), b1)
            if v0 is not None and v1 is not None and b1 > b0 and v1 >= v0:
                obs["baseline_rate"] = (v1 - v0) / (b1 - b0)
                obs["baseline_window"] = [b0, b1]
    except WorkbenchError as exc:
        raise Unobservable(f"Prometheus query failed: {exc}", {"query": query}) from exc
    return obs


def _net_delta(srv: Mapping[str, Any]) -> tuple[float, dict[str, Any]]:
    before, after = srv.get("before"), srv.get("after")
    ev = dict(srv)
    if before is None or after is None:
        raise Unobservable("server counter has no samples at the window's start or end", ev)
    if after < before:
        raise Unobservable(f"server counter went down ({before} → {after}): a restart?", ev)
    raw = after - before
    span = srv["end"] + srv["settle_s"] - srv["start"]
    background = srv.get("baseline_rate", 0.0) * span
    ev.update(server_delta_raw=raw, background_ops=background, server_ops=raw - background)
    return raw - background, ev


# -- H4: YCSB traffic -------------------------------------------------------------------------


def gather_traffic(ctx: CheckContext) -> dict[str, Any]:
    obs = gather_client(ctx)
    obs["server"] = server_delta(ctx)
    if obs["faults"]:  # a restarted member's counter: the raw per-member samples (faulted.py)
        obs["raw"] = gather_raw(ctx, obs["server"])
        obs["spans"] = fault_spans(ctx)
    return obs


def judge_traffic(obs: Mapping[str, Any], options: Mapping[str, Any]) -> Judgement:
    """The client did operations with zero errors and the server's own counters saw traffic."""
    c = obs["client"]
    evidence: dict[str, Any] = {"client": c}
    if c["total_ops"] <= 0:
        return Judgement("fail", "the client reported no successful operations", evidence)
    ours, note, extra = _interrupt_errors(c)
    evidence.update(extra)
    c = {**c, "total_errors": c["total_errors"] - ours}  # the store's errors only
    faults = obs.get("faults") or []
    if c["total_errors"] > 0 and not faults:
        return Judgement("fail", f"{c['total_errors']} client errors: {c['errors']}", evidence)
    if faults:  # errors in a fault's span are the fault checks' business, the rest error_rate's
        count = obs["error_count"]
        evidence.update(faults=faults, errors=errors_evidence(count, faults))
        if obs["server"].get("after") is not None and obs["server"].get("before") is not None:
            moved = obs["server"]["after"] != obs["server"]["before"]
            return Judgement(
                "pass" if moved else "fail",
                f"{c['total_ops']} client ops, {_errors_text(count, len(faults))}{note}; "
                f"server counters {'moved' if moved else 'did not move'}",
                evidence,
            )
    server, ev = _net_delta(obs["server"])
    evidence["server"] = ev
    if ev["server_delta_raw"] <= 0:
        return Judgement(
            "fail",
            f"client did {c['total_ops']} ops but the server counters did not move",
            evidence,
        )
    return Judgement(
        "pass",
        f"{c['total_ops']} client ops, 0 errors{note}; server counted {server:.0f} in the window",
        evidence,
    )


# -- counts agree -----------------------------------------------------------------------------


def judge_counts(obs: Mapping[str, Any], options: Mapping[str, Any]) -> Judgement:
    """Client attempts (ok + errors) and server counter delta agree within `counts_tolerance`."""
    c = obs["client"]
    per_op = options.get("server_msgs_per_op")
    if per_op:  # the server counts messages, some operations send several
        weights = {str(k).upper(): float(v) for k, v in dict(per_op).items()}
        ops = {**{k: 0 for k in c["errors"]}, **c["operations"]}
        client_f = sum(
            (n + c["errors"].get(op, 0)) * weights.get(op, 1.0)
            for op, n in ops.items()
            if op != "READ_MODIFY_WRITE"
        )
        client = round(client_f, 3) if client_f != int(client_f) else int(client_f)
    else:
        client = c["total_ops"] + c["total_errors"]
    if client <= 0:
        raise Unobservable("the client reported no operations to compare", {"client": c})
    tol = float(options.get("counts_tolerance", 0.01))
    if obs.get("faults"):
        return judge_counts_with_faults(obs, options, client, tol)
    server, ev = _net_delta(obs["server"])
    diff = (server - client) / client
    evidence = {
        "msgs_per_op": per_op or None,
        "client_ops": client,
        "server_ops": server,
        "relative_diff": diff,
        "tolerance": tol,
        "server": ev,
    }
    text = f"client {client} vs server {server:.0f} ops ({diff:+.2%}, tolerance ±{tol:.0%})"
    return Judgement("pass" if abs(diff) <= tol else "fail", text, evidence)


# -- error rate, target rate, client saturation -----------------------------------------------


def _interrupt_errors(c: Mapping[str, Any]) -> tuple[int, str, dict[str, Any]]:
    """Errors the tool reported for the operations our SIGINT cancelled (a time-bounded go-ycsb
    run: `interrupt_errors`, at most one per thread), counted apart: how many, the text for the
    summary and the evidence with the tool's reason."""
    ours = int(c.get("interrupt_errors") or 0)
    if ours <= 0:
        return 0, "", {}
    return (
        ours,
        f"; {ours} more in flight when our SIGINT stopped the tool, not counted",
        {"interrupt_errors": ours, "interrupt_reason": c.get("interrupt_reason", "")},
    )


def gather_client(ctx: CheckContext) -> dict[str, Any]:
    client = _client(ctx).to_dict()
    return {
        "client": client,
        "generators": [g.to_dict() for g in ctx.generator_clients],
        "faults": _applied_faults(ctx),
        "error_count": error_count(ctx, client),
    }


def _errors_text(count: Any, n_faults: int) -> str:
    """The one error count in words: during the faults' spans, outside them."""
    if not count.attributed:
        return f"{count.total:g} errors, how many during {n_faults} fault(s) unknown"
    return (
        f"{count.total:g} errors: {count.in_faults:g} during {n_faults} fault(s) "
        f"(applied..undo + {count.grace_s:g} s), {count.outside:g} outside"
    )


def judge_error_rate(obs: Mapping[str, Any], options: Mapping[str, Any]) -> Judgement:
    c = obs["client"]
    attempts = c["total_ops"] + c["total_errors"]
    if attempts <= 0:
        raise Unobservable("the client reported no operations", {"client": c})
    limit = float(options.get("max_error_rate", 0.0))
    ours, note, extra = _interrupt_errors(c)
    c = {**c, "total_errors": c["total_errors"] - ours}  # the store's errors only
    faults = obs.get("faults") or []
    errors, where = c["total_errors"], ""
    if faults:
        count = obs["error_count"]
        if not count.attributed:
            raise Unobservable(
                "errors per fault unknown (no per-interval client errors): cannot leave the "
                "faults out",
                {"client": c, "faults": faults},
            )
        errors, where = count.outside, f" outside {len(faults)} fault(s)"
    rate = errors / attempts
    evidence = {"errors": c["errors"], "attempts": attempts, "error_rate": rate, "max": limit}
    if faults:
        evidence.update(faults=faults, errors_outside_faults=errors)
        evidence["error_count"] = errors_evidence(obs["error_count"], faults)
    text = f"error rate{where} {rate:.4%} ({errors:g}/{attempts}), limit {limit:.4%}"
    evidence.update(extra)
    return Judgement("pass" if rate <= limit else "fail", text + note, evidence)


def judge_target_rate(obs: Mapping[str, Any], options: Mapping[str, Any]) -> Judgement:
    c = obs["client"]
    target = c.get("target_ops")
    if not target:
        return Judgement("skipped", "no target rate set (unthrottled run)", {"client": c})
    run_s = c.get("run_seconds")
    if not run_s or run_s <= 0:
        raise Unobservable("the client reported no run time", {"client": c})
    achieved = c["total_ops"] / run_s
    frac = float(options.get("target_rate_min", 0.95))
    evidence = {"target_ops": target, "achieved_ops": achieved, "min_fraction": frac}
    text = f"achieved {achieved:.1f} ops/s of target {target:.1f} ({achieved / target:.1%})"
    return Judgement("pass" if achieved >= frac * target else "fail", text, evidence)


def judge_saturation(obs: Mapping[str, Any], options: Mapping[str, Any]) -> Judgement:
    """`fail` when the generator, not the cluster, was the limit: its CPU was (nearly) all used
    while it did not reach its target (or had none). Several generators: each is judged on its
    own (its share of the target) and the verdict names the ones that were the limit."""
    gens = obs.get("generators") or []
    if gens:
        return _judge_generators(gens, options)
    return _judge_one(obs["client"], options)


def _judge_one(c: Mapping[str, Any], options: Mapping[str, Any]) -> Judgement:
    target, run_s = c.get("target_ops"), c.get("run_seconds")
    cpu_s, cores = c.get("cpu_seconds"), c.get("cpu_cores")
    if cpu_s is None or not cores or not run_s or run_s <= 0:
        raise Unobservable("client CPU time or cores not measured", {"client": c})
    util = cpu_s / (run_s * cores)
    limit = float(options.get("client_cpu_max", 0.9))
    achieved = c["total_ops"] / run_s
    evidence = {
        "client_cpu_utilisation": util,
        "limit": limit,
        "cpu_seconds": cpu_s,
        "cores": cores,
        "run_seconds": run_s,
        "achieved_ops": achieved,
        "target_ops": target,
        "threads": c.get("threads"),
    }
    frac = float(options.get("target_rate_min", 0.95))
    reached = bool(target) and achieved >= frac * float(target or 0)
    text = f"client used {util:.0%} of {cores:g} cores"
    if reached:
        return Judgement("pass", f"{text}; target reached, the client was not the limit", evidence)
    if util >= limit:
        return Judgement("fail", f"{text} (≥ {limit:.0%}): the generator was the limit", evidence)
    return Judgement("pass", f"{text} (< {limit:.0%}): the client was not the limit", evidence)


def _judge_generators(gens: list[Mapping[str, Any]], options: Mapping[str, Any]) -> Judgement:
    each: list[dict[str, Any]] = []
    limited, unknown = [], []
    for i, g in enumerate(gens):
        try:
            j = _judge_one(g, options)
        except Unobservable as exc:
            unknown.append(i)
            each.append({"generator": i, "status": "unknown", "summary": str(exc)})
            continue
        if j.status == "fail":
            limited.append(i)
        each.append({"generator": i, "status": j.status, "summary": j.summary, **j.evidence})
    evidence = {"generators": each}
    if limited:
        names = ", ".join(f"generator {i} ({each[i]['summary']})" for i in limited)
        return Judgement("fail", f"{len(limited)} of {len(gens)} were the limit: {names}", evidence)
    if unknown:
        raise Unobservable(
            f"CPU of generator(s) {', '.join(map(str, unknown))} not measured", evidence
        )
    busiest = max(range(len(gens)), key=lambda i: each[i].get("client_cpu_utilisation", 0.0))
    return Judgement(
        "pass",
        f"none of {len(gens)} generators was the limit; the busiest, generator {busiest}: "
        f"{each[busiest]['summary']}",
        evidence,
    )


register(
    "ycsb_traffic",
    "client ops with zero errors; the server counters saw traffic",
    gather_traffic,
    judge_traffic,
)
register(
    "counts_agree",
    "client op count and server counter delta agree within 1%",
    gather_traffic,
    judge_counts,
    needs=("scrape_coverage",),  # a member's missing counter leaves the sum: not a disagreement
)
register("error_rate", "client error rate under `max_error_rate`", gather_client, judge_error_rate)
register(
    "target_rate",
    "achieved rate ≥ 95% of the target when one is set",
    gather_client,
    judge_target_rate,
)
register(
    "client_saturation", "the generator's CPU was not the limit", gather_client, judge_saturation
)
