"""One YCSB phase of a run: the tool-neutral request from the run's parameters and the subject's
manifest, the tool run in the stack's network with its container's CPU measured, and what it
produced saved to the run directory (raw log, final block, intervals, marks, record).

How a tool is started, bounded and stopped is `workbench.ycsb.tools`; this module only joins the
stack, the tool, the engine telemetry and the run directory.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import TypedDict

import pandas as pd

from workbench.artifacts import ErrorClasses, RunDir
from workbench.artifacts.record import Gate, PhaseInfo, RequestPolicyInfo
from workbench.manifest import Manifest
from workbench.model import ClientSummary
from workbench.params import RunParams, workload_file_name
from workbench.run import generators
from workbench.stack import Stack
from workbench.telemetry import ContainerCpu
from workbench.ycsb.intervals import raw_intervals
from workbench.ycsb.series import interval_frame
from workbench.ycsb.tools import (
    PhaseRecord,
    PhaseRequest,
    get_tool,
    interrupted_in_flight,
)

_ENDPOINT_REF = re.compile(r"\$\{([a-z][a-z0-9_]*)\}")
# the run directory's ycsb/ folder inside the tool's container (per-interval files land there)
YCSB_DIR_IN_CONTAINER = "/workbench-results/ycsb"


def tool_name(params: RunParams, manifest: Manifest) -> str:
    """The run's YCSB tool: the `tool` parameter when given, else the subject's own."""
    assert manifest.ycsb is not None
    return params.tool or manifest.ycsb.tool


def request(phase: str, params: RunParams, manifest: Manifest, stack: Stack) -> PhaseRequest:
    y = manifest.ycsb
    assert y is not None
    own = y.for_tool(tool_name(params, manifest))  # the tool's binding and properties
    assert own.binding is not None and own.properties is not None
    props = {
        k: _ENDPOINT_REF.sub(lambda m: stack.endpoint(m.group(1), "network"), v)
        for k, v in own.properties.items()
    }
    props.update(params.ycsb_properties())
    return PhaseRequest(
        phase=phase,
        binding=own.binding,
        workload_file=f"{y.workloads_path_in_container}/{workload_file_name(params.workload)}",
        properties=props,
        threads=params.threads,
        target=params.target or None,
        interval_s=max(1, round(params.status_interval)),
        duration_s=params.duration if phase == "run" else None,
        warmup_s=params.warmup if phase == "run" else 0.0,
        interval_dir=YCSB_DIR_IN_CONTAINER,
    )


def run_phase(
    phase: str,
    *,
    params: RunParams,
    manifest: Manifest,
    stack: Stack,
    rd: RunDir,
    progress: Callable[[str], None],
    gate: Callable[[], None] | None = None,
) -> PhaseRecord:
    """Run one phase and save everything it produced; `gate`: the first operation waits until
    it returns (tools that cannot start up first wait before they start)."""
    assert manifest.ycsb is not None
    tool = get_tool(tool_name(params, manifest))
    y = manifest.ycsb.for_tool(tool.name)  # the service it runs in
    assert y.service is not None
    req = request(phase, params, manifest, stack)
    volumes = {str(rd.ycsb_dir): YCSB_DIR_IN_CONTAINER} if tool.interval_logs else None
    service = y.service

    def on_line(line: str) -> None:
        if ("Takes(s)" in line and line.startswith("TOTAL")) or "Run finished" in line:
            progress(f"  {phase}: {line.strip()}")

    if params.generators > 1:
        rec, parts = generators.run_generators(
            tool,
            req,
            params,
            stack=stack,
            service=service,
            rd=rd,
            dir_in_container=YCSB_DIR_IN_CONTAINER,
            on_line=on_line,
            gate=gate,
        )
        save_phase(rd, rec, phase, warmup=req.warmup_s, interval_s=req.interval_s)
        infos, spread = generators.info(parts)
        rd.record.phases[phase] = rd.record.phases[phase].model_copy(
            update={"generators": infos, "start_spread_s": spread}
        )
        rd.save()
        return rec
    with ContainerCpu(stack.project, y.service) as cpu:
        rec = tool.run(
            req,
            lambda name: stack.run_argv(service, name=name, volumes=volumes),
            project=stack.project,
            service=y.service,
            log_path=rd.ycsb_log(phase),
            on_line=on_line,
            gate=gate,
        )
    rec.cpu_seconds, rec.cpu_cores = cpu.seconds, cpu.cores
    save_phase(rd, rec, phase, warmup=req.warmup_s, interval_s=req.interval_s)
    return rec


def save_phase(
    rd: RunDir, rec: PhaseRecord, phase: str, warmup: float = 0.0, interval_s: float = 1.0
) -> None:
    result = rec.outcome.result
    rd.save_ycsb(phase, result.final_frame(), interval_frame(result))
    save_raw_intervals(rd, rec, phase, interval_s)
    start = rec.first_line
    rd.add_mark(phase, start, start + (result.run_seconds or (rec.ended - start)))
    if warmup:
        rd.add_mark("warmup", start, start + warmup)
    gate = None
    if rec.ready is not None:  # gated: the tool was up at `ready`, idle until released
        gate = Gate(ready_unix=rec.ready, released_unix=rec.outcome.released_at)
    rd.record.phases[phase] = PhaseInfo(
        tool=rec.tool,
        argv=rec.outcome.argv,
        wall_s=rec.outcome.wall_seconds,
        launched_unix=rec.launched,
        ended_unix=rec.ended,
        gate=gate,
        run_seconds=result.run_seconds,
        errors=result.error_count(),
        limitations=list(rec.limitations),
        **request_info(rd.error_classes(phase)),
    )
    rd.save()


class RequestInfo(TypedDict, total=False):
    """PhaseInfo's request fields, each present only when the generator reported it."""

    processes: int
    request_policy: RequestPolicyInfo
    requests: dict[str, dict[str, int]]


def request_info(side: ErrorClasses | None) -> RequestInfo:
    """PhaseInfo's fields from the native generator's side file (its processes, request policy
    and per-operation attempts/retries/errors); nothing when it wrote none (go-ycsb, older)."""
    out = RequestInfo()
    if side is None:
        return out
    if side.processes is not None:
        out["processes"] = side.processes
    if side.policy is not None:
        out["request_policy"] = side.policy
    if side.requests is not None:
        out["requests"] = side.requests
    return out


def save_raw_intervals(rd: RunDir, rec: PhaseRecord, phase: str, interval_s: float) -> None:
    """go-ycsb `measurementtype=raw` samples → ycsb/<phase>.interval.csv (the native tool's
    shape), on the phase's clock from its first line; nothing when there are no samples."""
    samples = rec.outcome.result.raw_samples
    target = rd.interval_csv(phase)
    if not samples or target.exists():  # the tool wrote its own per-interval files
        return
    frame = raw_intervals(samples, interval_s, start_us=round(rec.first_line * 1e6))
    rd.save_frame(f"ycsb/{target.name}", frame)


def interval_histograms(rd: RunDir, phase: str) -> pd.DataFrame | None:
    """The phase's per-interval histogram rows (ycsb/<phase>.interval.csv), None without."""
    return rd.interval_histograms(phase)


def client_intervals(rd: RunDir, phase: str, first_line: float) -> pd.DataFrame | None:
    """The phase's client operations per interval: start, end (Unix s), operation, count. From
    the interval histograms when written, else from the status blocks' interval counts."""
    hist = interval_histograms(rd, phase)
    if hist is not None and not hist.empty:
        h = hist[hist["interval_s"] > 0]
        end = h["time"].where(h["time"].notna(), first_line + h["t_s"]).astype(float)
        return pd.DataFrame(
            {
                "start": end - h["interval_s"].astype(float),
                "end": end,
                "operation": h["operation"].astype(str),
                "count": h["count"].astype(float),
            }
        )
    iv = rd.ycsb_intervals(phase)
    if iv is None or iv.empty or "interval_count" not in iv.columns:
        return None
    iv = iv.sort_values("t_s")
    ends = sorted(set(iv["t_s"].astype(float)))
    starts = dict(zip(ends, [0.0, *ends[:-1]], strict=True))
    return pd.DataFrame(
        {
            "start": first_line + iv["t_s"].astype(float).map(starts),
            "end": first_line + iv["t_s"].astype(float),
            "operation": iv["operation"].astype(str),
            "count": pd.to_numeric(iv["interval_count"], errors="coerce").fillna(0.0),
        }
    )


def client_summary(
    rec: PhaseRecord, params: RunParams, target: float | None = None
) -> ClientSummary:
    """The checks' view of a YCSB phase (the one rule: `ClientSummary.from_final_rows`), with
    the tool's facts (in-flight errors of our SIGINT, whether it reports NOTFOUND). Several
    generators: threads are every generator's; `target`: one generator's share."""
    threads = params.threads * max(1, len(rec.parts))
    if target is None:
        target = float(params.target) if params.target else None
    base = ClientSummary.from_final_rows(
        rec.outcome.result.final,
        rec.outcome.result.run_seconds,
        threads=threads,
        target_ops=target,
        cpu_seconds=rec.cpu_seconds,
        cpu_cores=rec.cpu_cores,
    )
    interrupted, reason = interrupted_in_flight(rec, threads)
    return dataclasses.replace(
        base,
        interrupt_errors=interrupted,
        interrupt_reason=reason,
        not_found_reported=get_tool(rec.tool).not_found_reported,
    )


def generator_summaries(rec: PhaseRecord, params: RunParams) -> list[ClientSummary]:
    """Each generator's own view (its share of the target), for the per-generator checks."""
    if not rec.parts:
        return []
    n = len(rec.parts)
    share = float(params.target) / n if params.target else None
    return [
        dataclasses.replace(client_summary(p, params, target=share), threads=params.threads)
        for p in rec.parts
    ]
