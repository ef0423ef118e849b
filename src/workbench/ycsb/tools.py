"""The YCSB tool registry: how each load generator is started, bounded in time, named, stopped.

Like papermill's engines: a tool is one class registered under its name (`native`, `go-ycsb`),
and nothing outside this module asks which tool it is. Every tool takes the same `PhaseRequest`
and returns the same `PhaseRecord` (the parsed result with its place on the run's clock), so the
conductor, the checks and the report never branch on the tool.

The caller (the run layer) gives the argv prefix that starts a one-off container in the stack's
network; this module knows nothing about stacks.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from workbench.docker import cli as docker
from workbench.errors import ConfigError
from workbench.ycsb.runner import RunOutcome, build_go_ycsb_argv, build_native_argv, run_ycsb

HUGE_OPERATIONCOUNT = 2_000_000_000  # time-bounded runs: the duration stops the run, not the count
TRAFFIC_END_MARGIN_S = 0.3
# `docker compose run` reports the one-off container's lifecycle on the same stream before the
# tool prints anything (" Container p-ycsb-load Creating"): not the tool's t=0.
_COMPOSE_PROGRESS = re.compile(r"^\s*(Container|Network|Volume) \S+ +[A-Z][a-z]+\s*$")


def own_line(text: str) -> bool:
    """A line the tool printed itself: not blank, not `docker compose run`'s progress."""
    return bool(text.strip()) and not _COMPOSE_PROGRESS.match(text)


@dataclass(frozen=True)
class PhaseRequest:
    """One YCSB phase, as the run asks for it (tool-neutral)."""

    phase: str  # load | run
    binding: str
    workload_file: str  # as seen by the tool (inside its container)
    properties: dict[str, str]
    threads: int
    target: int | None = None
    interval_s: int = 1
    duration_s: float | None = None  # run phase bounded by time (None: by operationcount)
    warmup_s: float = 0.0
    # where the tool writes <phase>.hlog and <phase>.interval.csv, as seen by the tool (inside
    # its container); None: no per-interval latency files
    interval_dir: str | None = None


@dataclass
class PhaseRecord:
    """What one YCSB phase produced, with its place on the run's clock (unix seconds)."""

    outcome: RunOutcome
    tool: str
    launched: float  # just before the process started
    first_line: float  # the tool's t=0 (status t_s count from here): its first output, or the
    # start line written to it when gated
    ended: float
    ready: float | None = None  # gated: when the tool was up and waiting for the start line
    cpu_seconds: float | None = None  # the tool's container CPU time (None: not measured)
    cpu_cores: float | None = None
    limitations: tuple[str, ...] = field(default_factory=tuple)
    # several generators: each one's own record (this one is their merged result); () for one
    parts: tuple[PhaseRecord, ...] = ()

    def traffic_end(self) -> float:
        """When the phase's traffic had certainly ended: from the tool's reported run time when
        its clock starts with the first operation, else when the process ended."""
        tool = get_tool(self.tool)
        secs = self.outcome.result.run_seconds
        if not tool.clock_from_first_line or secs is None:
            return self.ended
        return min(self.ended, self.first_line + secs + TRAFFIC_END_MARGIN_S)


class Tool:
    """Base of every registered tool. Subclasses set the class facts and build the argv."""

    name: ClassVar[str]
    gated: ClassVar[bool] = False  # can start up first and wait for a start line on stdin
    self_bounded: ClassVar[bool] = False  # bounds a run by `maxexecutiontime` itself
    clock_from_first_line: ClassVar[bool] = False  # first line printed before the first op
    # the line it prints right before its first operation, its t=0 (None: its first output)
    start_line: ClassVar[re.Pattern[str] | None] = None
    limitations: ClassVar[tuple[str, ...]] = ()  # what it cannot measure (the report says so)
    # prints <OP>_NOTFOUND rows (else a missing record is an error or a success: reads_found
    # cannot tell)
    not_found_reported: ClassVar[bool] = True
    # stopped by SIGINT, it counts each operation in flight as <OP>_ERROR (one per thread)
    interrupt_fails_in_flight: ClassVar[bool] = False
    interval_logs: ClassVar[bool] = False  # writes per-interval HdrHistogram log and CSV

    def argv(self, req: PhaseRequest, properties: dict[str, str], gated: bool) -> list[str]:
        raise NotImplementedError

    def properties(self, req: PhaseRequest) -> dict[str, str]:
        """The request's properties with the time bound and warmup folded in."""
        props = dict(req.properties)
        if req.phase == "run":
            if req.duration_s is not None:
                props["operationcount"] = str(HUGE_OPERATIONCOUNT)
                if self.self_bounded:
                    props["maxexecutiontime"] = f"{req.duration_s:g}"
            if req.warmup_s:
                props["warmuptime"] = f"{req.warmup_s:g}"
        if self.interval_logs and req.interval_dir:
            props.update(interval_properties(req.interval_dir, req.phase))
        return props

    def container_name(self, project: str, service: str, phase: str) -> str:
        """A named one-off container: `docker compose run` neither forwards SIGINT to it nor
        removes it when interrupted, so a time-bounded run is stopped through the engine."""
        return f"{project}-{service}-{phase}"

    def run(
        self,
        req: PhaseRequest,
        prefix: Callable[[str], list[str]],
        *,
        project: str,
        service: str,
        log_path: Path,
        on_line: Callable[[str], None] | None = None,
        gate: Callable[[], None] | None = None,
        container: str | None = None,
    ) -> PhaseRecord:
        """Run the phase; `prefix(container_name)` is the argv that starts the one-off container.
        `gate` is honoured when the tool is `gated` (else the caller waits before calling).
        `container`: the one-off container's name when several run at once (default: one per
        project, service and phase)."""
        if gate is not None and not self.gated:
            gate()  # this tool cannot start up first: wait, then start it
            gate = None
        container = container or self.container_name(project, service, req.phase)
        argv = [*prefix(container), *self.argv(req, self.properties(req), gate is not None)]
        first: list[float] = []

        def line(text: str) -> None:
            t0_line = self.start_line is None or self.start_line.match(text)
            if not first and t0_line and own_line(text):
                first.append(time.time())
            if on_line is not None:
                on_line(text)

        launched = time.time()
        bounded = req.phase == "run" and req.duration_s is not None and not self.self_bounded
        outcome = run_ycsb(
            argv,
            log_path=log_path,
            on_line=line,
            duration_s=req.duration_s if bounded else None,
            timeout_s=(req.duration_s or 0) + 600 if req.phase == "run" else 1800,
            interval_s=float(req.interval_s),
            interrupt_argv=docker.kill(container, "INT"),
            kill_argv=docker.rm(container),
            start_gate=gate,
            # the bound counts from the tool's t=0, not from `docker compose run` (1-2 s before)
            duration_from=(
                (lambda: first[0] if first else None)
                if bounded and self.clock_from_first_line
                else None
            ),
        )
        ended = time.time()
        ready = first[0] if first else launched
        # gated: the clock starts at the start line, or when the tool got to reading it (its
        # "Waiting for the start line" comes right after its first line) if it came up later
        t0 = max(outcome.released_at, ready) if outcome.released_at is not None else ready
        return PhaseRecord(
            outcome,
            self.name,
            launched,
            t0,
            ended,
            ready=ready if gate is not None else None,
            limitations=self.limitations,
        )


class NativeTool(Tool):
    """The workbench's own generator (`python -m workbench.ycsb.native`, go-ycsb's command line)."""

    name = "native"
    gated = True
    self_bounded = True
    clock_from_first_line = True
    interval_logs = True

    def argv(self, req: PhaseRequest, properties: dict[str, str], gated: bool) -> list[str]:
        return client_argv(build_native_argv, req, properties, start_on_stdin=gated)


class GoYcsb(Tool):
    """pingcap/go-ycsb: bounded in time by SIGINT through the engine (it ignores
    `maxexecutiontime`), latency from the actual start of each call."""

    name = "go-ycsb"
    # its main prints the properties block, closes it with a line of stars, then `start :=
    # time.Now()` and the workers: status ticks and "Run finished, takes" count from that line
    # (the etcd client was dialled before it)
    start_line = re.compile(r"^\*+\s*$")
    clock_from_first_line = True
    not_found_reported = False  # its etcd binding answers a missing key with READ_ERROR
    interrupt_fails_in_flight = True  # the cancelled calls: `context canceled`, <OP>_ERROR
    limitations = (
        "no intended-time latency: go-ycsb measures from the actual start of each call, so a "
        "target rate hides coordinated omission",
        "no per-interval percentiles unless measurementtype=raw: its status lines are cumulative",
        "no start gate: the run container starts after the post-load settle",
        "no NOTFOUND rows: a read of a missing key is a READ_ERROR, so reads_found is unknown",
    )

    def argv(self, req: PhaseRequest, properties: dict[str, str], gated: bool) -> list[str]:
        return client_argv(build_go_ycsb_argv, req, properties)


def client_argv(
    build: Callable[..., list[str]], req: PhaseRequest, properties: dict[str, str], **extra: Any
) -> list[str]:
    """go-ycsb's command line for a request, by a runner's argv builder (the image's entrypoint
    is the tool: no executable); `extra`: the builder's own options."""
    return build(
        req.phase,
        req.binding,
        workload_files=[req.workload_file],
        properties=properties,
        threads=req.threads,
        target=req.target if req.phase == "run" and req.target else None,
        interval=req.interval_s,
        executable=(),
        **extra,
    )


def interval_files(phase: str) -> tuple[str, str]:
    """The names of a phase's per-interval files: HdrHistogram interval log and CSV."""
    return f"{phase}.hlog", f"{phase}.interval.csv"


def interval_properties(directory: str, phase: str) -> dict[str, str]:
    """The native generator's properties that write a phase's per-interval files in `directory`."""
    hlog, csv = interval_files(phase)
    d = directory.rstrip("/")
    return {"measurement.interval_log": f"{d}/{hlog}", "measurement.interval_csv": f"{d}/{csv}"}


TOOLS: dict[str, Tool] = {t.name: t for t in (NativeTool(), GoYcsb())}


def interrupted_in_flight(rec: PhaseRecord, threads: int) -> tuple[int, str]:
    """How many of a phase's errors may be the operations our SIGINT cancelled (at most one per
    thread, never more than it reported), and why; (0, "") when none can be."""
    tool = get_tool(rec.tool)
    if not (tool.interrupt_fails_in_flight and rec.outcome.interrupted):
        return 0, ""
    n = min(max(threads, 0), rec.outcome.result.error_count())
    return n, (
        f"{tool.name} was stopped by SIGINT (the run's time bound): it counts each of its "
        f"{threads} threads' operation in flight as an error, so up to {threads} errors are ours"
    )


def get_tool(name: str) -> Tool:
    try:
        return TOOLS[name]
    except KeyError:
        raise ConfigError(
            f"unknown YCSB tool {name!r}; valid: {', '.join(sorted(TOOLS))}"
        ) from None


def tool_names() -> Sequence[str]:
    return tuple(sorted(TOOLS))
