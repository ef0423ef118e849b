"""Several generators for one phase: N one-off containers on the stack's network, one result.

The load is split by `workbench.shares` (disjoint key ranges in the load phase, the operation
count and target rate in the run phase); every generator runs the same tool with its share, its
own container, log (ycsb/g<i>/<phase>.log; generator 0's at ycsb/<phase>.log, where the faults'
start gate looks) and interval files (ycsb/g<i>/). They start together: a gated tool (the native
generator) comes up in every container first, and one start line is released to all of them when
the last is up and the run's own gate has returned, so their t=0 are milliseconds apart; a tool
that cannot wait (go-ycsb) is launched by N threads at one instant (its t=0 then spreads with the
containers' start-up). The spread is recorded (PhaseInfo.start_spread_s).

After the phase the interval logs are merged by absolute time into ycsb/<phase>.hlog and
ycsb/<phase>.interval.csv, the final blocks into one (percentiles from the merged histograms),
and each generator's own series kept in ycsb/<phase>.generators.csv. A generator that fails does
not stop the others: its share is recorded as lost (GeneratorInfo.failed) and the phase's
limitations say so; only when every generator fails does the phase fail.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from workbench.artifacts import RunDir
from workbench.artifacts.record import GeneratorInfo
from workbench.errors import WorkbenchError
from workbench.params import RunParams
from workbench.shares import Share, shares
from workbench.stack import Stack
from workbench.telemetry import ContainerCpu
from workbench.waiting import wait_until
from workbench.ycsb.intervals import read_hlog
from workbench.ycsb.merge import merge_logs, merged_result
from workbench.ycsb.runner import RunOutcome
from workbench.ycsb.tools import PhaseRecord, PhaseRequest, Tool, interval_files, own_line

UP_TIMEOUT_S = 120.0
MAX_SPREAD_S = 0.1  # the generators' t=0 within this: one common start


def tool_is_up(log: Path) -> bool:
    """The tool printed its first own line (not `docker compose run` progress) to its log."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(own_line(line) for line in text.splitlines())


def share_request(req: PhaseRequest, share: Share, interval_dir: str) -> PhaseRequest:
    """Generator `share.index`'s request: its key range (load) or its operations and target."""
    props = dict(req.properties)
    if req.phase == "load":
        props.update(share.load_properties())
    elif req.duration_s is None:
        props.update(share.run_properties())
    target = (share.target or None) if req.target else None
    return dataclasses.replace(req, properties=props, target=target, interval_dir=interval_dir)


def split(
    req: PhaseRequest, params: RunParams, n: int, dir_in_container: str
) -> list[PhaseRequest]:
    parts = shares(
        n,
        params.recordcount,
        operationcount=params.operationcount if req.phase == "run" else None,
        target=params.target if req.phase == "run" else 0,
        props=params.props,
    )
    return [share_request(req, s, f"{dir_in_container}/g{s.index}") for s in parts]


class StartTogether:
    """The gate of N gated generators: each waits until its own tool is up, then all wait for
    the last; the run's gate runs once (the barrier's action), then all are released."""

    def __init__(self, logs: list[Path], gate: Callable[[], None] | None) -> None:
        self.logs = logs
        self.barrier = threading.Barrier(len(logs), action=gate)

    def for_generator(self, i: int) -> Callable[[], None]:
        def wait() -> None:
            wait_until(lambda: tool_is_up(self.logs[i]), timeout=UP_TIMEOUT_S, every=0.02)
            self.barrier.wait(timeout=UP_TIMEOUT_S + 60)

        return wait


@dataclasses.dataclass
class Part:
    """One generator's run: its request, container and what came of it."""

    index: int
    request: PhaseRequest
    container: str
    log: Path
    record: PhaseRecord | None = None
    error: str | None = None


def run_all(
    tool: Tool,
    parts: list[Part],
    prefix: Callable[[str], list[str]],
    *,
    project: str,
    service: str,
    on_line: Callable[[str], None] | None,
    gate: Callable[[], None] | None,
) -> None:
    """Run every part at once (one thread each); each records its PhaseRecord or its error."""
    if gate is not None and not tool.gated:
        gate()  # go-ycsb cannot start up first: wait once, then launch all together
        gate = None
    # a gated tool is always started together, also where the run has no gate (the load)
    together = StartTogether([p.log for p in parts], gate) if tool.gated else None

    def one(p: Part) -> None:
        with ContainerCpu(project, service, name=p.container) as cpu:
            try:
                p.record = tool.run(
                    p.request,
                    prefix,
                    project=project,
                    service=service,
                    log_path=p.log,
                    on_line=on_line if p.index == 0 else None,
                    gate=together.for_generator(p.index) if together else None,
                    container=p.container,
                )
            except (WorkbenchError, OSError) as exc:
                p.error = str(exc).splitlines()[0][:300]
                if together is not None:
                    together.barrier.abort()  # the others are not left waiting for it
        if p.record is not None:
            p.record.cpu_seconds, p.record.cpu_cores = cpu.seconds, cpu.cores

    with ThreadPoolExecutor(max_workers=len(parts), thread_name_prefix="generator") as pool:
        list(pool.map(one, parts))


def merge(rd: RunDir, phase: str, tool: Tool, parts: list[Part], interval_s: float) -> PhaseRecord:
    """The parts' results as one PhaseRecord; merged interval files written to ycsb/."""
    done = [p for p in parts if p.record is not None]
    if not done:
        raise WorkbenchError(
            f"{phase}: every generator failed: "
            + "; ".join(f"g{p.index}: {p.error}" for p in parts)
        )
    recs = [p.record for p in done if p.record is not None]
    hists = None
    limitations = [*recs[0].limitations]
    if tool.interval_logs:
        hlog, _csv = interval_files(phase)
        hists = merge_logs(
            [rd.generator_dir(p.index) / hlog for p in done], rd.hlog(phase), interval_s
        )
        if hists is not None:
            rd.save_frame(f"ycsb/{rd.interval_csv(phase).name}", read_hlog(rd.hlog(phase)))
            save_series(rd, phase, [(p.index, rd.generator_dir(p.index) / hlog) for p in done])
    result, origin = merged_result(
        [r.outcome.result for r in recs], [r.first_line for r in recs], interval_s, hists
    )
    first = recs[0]
    outcome = RunOutcome(
        argv=first.outcome.argv,
        returncode=max(r.outcome.returncode for r in recs),
        output="",
        result=result,
        log_path=first.outcome.log_path,
        wall_seconds=max(r.ended for r in recs) - min(r.launched for r in recs),
        interrupted=any(r.outcome.interrupted for r in recs),
        released_at=min(
            (r.outcome.released_at for r in recs if r.outcome.released_at), default=None
        ),
    )
    if hists is None and not result.raw_samples:
        limitations.append(
            f"{len(done)} generators and no per-generator histograms (go-ycsb without "
            "measurementtype=raw): percentiles cannot be combined, the merged ones are missing"
        )
    spread = max(r.first_line for r in recs) - origin
    if spread > MAX_SPREAD_S:
        limitations.append(
            f"the generators' t=0 were {spread:.2f} s apart ({tool.name} cannot wait for a "
            "common start line): their per-interval counts are apportioned to the merged "
            "intervals by overlap, so a step in the rate is smeared over two intervals"
        )
    lost = [p for p in parts if p.record is None]
    limitations += [
        f"generator {p.index} failed ({p.error}): its share of the load is missing from the "
        "merged result"
        for p in lost
    ]
    cpu = [r.cpu_seconds for r in recs]
    cores = [r.cpu_cores for r in recs]
    return PhaseRecord(
        outcome,
        tool.name,
        launched=min(r.launched for r in recs),
        first_line=origin,
        ended=max(r.ended for r in recs),
        ready=max(r.ready for r in recs if r.ready is not None) if first.ready else None,
        cpu_seconds=None if None in cpu else sum(c for c in cpu if c is not None),
        # every generator may use the host's cores: their CPU adds up, the cores do not
        cpu_cores=None if None in cores else max(c for c in cores if c is not None),
        limitations=tuple(limitations),
        parts=tuple(p.record for p in parts if p.record is not None),
    )


def save_series(rd: RunDir, phase: str, logs: list[tuple[int, Path]]) -> None:
    """Each generator's per-interval rows, tagged by generator, on the absolute clock."""
    frames = []
    for i, path in logs:
        if path.exists():
            f = read_hlog(path)
            f.insert(0, "generator", i)
            frames.append(f)
    if frames:
        rd.save_frame(f"ycsb/{phase}.generators.csv", pd.concat(frames, ignore_index=True))


def info(parts: list[Part]) -> tuple[list[GeneratorInfo], float | None]:
    """PhaseInfo's generators and their start spread (max - min t=0, s)."""
    out = []
    for p in parts:
        props, rec = p.request.properties, p.record
        res = rec.outcome.result if rec else None
        total = res.get("TOTAL") if res else None
        out.append(
            GeneratorInfo(
                index=p.index,
                container=p.container,
                insertstart=_int(props.get("insertstart")) if p.request.phase == "load" else None,
                insertcount=_int(props.get("insertcount")) if p.request.phase == "load" else None,
                operationcount=_int(props.get("operationcount"))
                if p.request.phase == "run" and p.request.duration_s is None
                else None,
                target=p.request.target,
                first_line_unix=rec.first_line if rec else None,
                ended_unix=rec.ended if rec else None,
                run_seconds=res.run_seconds if res else None,
                ops=total.count if total else None,
                errors=res.error_count() if res else None,
                cpu_seconds=rec.cpu_seconds if rec else None,
                cpu_cores=rec.cpu_cores if rec else None,
                failed=p.error,
            )
        )
    starts = [g.first_line_unix for g in out if g.first_line_unix is not None]
    return out, (max(starts) - min(starts)) if len(starts) > 1 else None


def _int(v: str | None) -> int | None:
    return int(v) if v is not None else None


def run_generators(
    tool: Tool,
    req: PhaseRequest,
    params: RunParams,
    *,
    stack: Stack,
    service: str,
    rd: RunDir,
    dir_in_container: str,
    on_line: Callable[[str], None] | None,
    gate: Callable[[], None] | None,
) -> tuple[PhaseRecord, list[Part]]:
    """Run `params.generators` generators of `req` and merge them."""
    n = params.generators
    reqs = split(req, params, n, dir_in_container)
    volumes = {str(rd.ycsb_dir): dir_in_container} if tool.interval_logs else None
    stamp = f"{int(time.time() * 1000) % 10**8}"
    parts = [
        Part(
            i,
            r,
            f"{stack.project}-{service}-{req.phase}-g{i}-{stamp}",
            rd.ycsb_log(req.phase) if i == 0 else rd.generator_dir(i) / f"{req.phase}.log",
        )
        for i, r in enumerate(reqs)
    ]
    for p in parts:
        rd.generator_dir(p.index)  # the tool writes its interval files there
    run_all(
        tool,
        parts,
        lambda name: stack.run_argv(service, name=name, volumes=volumes),
        project=stack.project,
        service=service,
        on_line=on_line,
        gate=gate,
    )
    return merge(rd, req.phase, tool, parts, float(req.interval_s)), parts
