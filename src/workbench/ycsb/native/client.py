"""Run the core workload with N Python threads and print go-ycsb's output.

What it adds over go-ycsb: ``maxexecutiontime`` works, and with ``target`` every operation has an
intended start on a per-thread schedule; latency from that intended start is recorded as
``<OP>-INTENDED`` (and ``TOTAL-INTENDED``) beside the usual service time, and a ``TARGET`` line
says how far the achieved rate fell behind. Failed operations land only in ``<OP>_ERROR``, and
operations whose record did not exist (the binding raised ``NotFound``) only in ``<OP>_NOTFOUND``.
With ``measurement.interval_log`` / ``measurement.interval_csv`` set, every status tick also
writes that interval's own histograms (see ``native.intervals``); the status lines stay cumulative.
Failed operations are also counted by class (``bindings.error_class``: timeout, connection
refused, server error, other) per operation and per second of the run, in a JSON side file beside
the interval CSV (``<phase>.errors.json``, or ``measurement.error_classes``), so go-ycsb's output
stays as it is; the same file holds completions per 100 ms (successes, errors), from which a
fault's unavailability is measured at that resolution, the request policy (`native.policy`) and
the attempts, retries and final errors per operation. The threads' operations are
`native.worker`; this module starts them, prints and writes.
With ``processes`` above 1 (or ``auto``, see `native.processes`) the threads run in several
worker processes and this one merges what they record into the same output.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from workbench.errors import ParameterError
from workbench.ycsb.native import measure as m
from workbench.ycsb.native.bindings import Binding, create_binding
from workbench.ycsb.native.intervals import IntervalLog
from workbench.ycsb.native.policy import RequestPolicy, request_policy
from workbench.ycsb.native.processes import ProcessWorkers, choose_processes
from workbench.ycsb.native.props import Props
from workbench.ycsb.native.signals import sigint_stops
from workbench.ycsb.native.worker import Outcome, ThreadWorkers
from workbench.ycsb.native.workload import CoreWorkload, build_workload
from workbench.ycsb.parser import format_go_duration
from workbench.ycsb.results import OpStats, TargetReport

__all__ = ["NativeClient", "RunReport", "sigint_stops"]

STAR_LINE = "*" * 46


class Workers(Protocol):
    """A phase's workers: threads in this process, or several processes' (`ProcessWorkers`)."""

    stopping: bool

    def start(self, start_ns: int, warm_end: int) -> None: ...

    def request_stop(self) -> None: ...

    def alive(self) -> int: ...

    def wait(self, timeout: float) -> None: ...

    def snapshot(self) -> dict[str, m.Merged]: ...

    def outcome(self, stuck: int = 0) -> Outcome: ...


@dataclass
class RunReport:
    """What a native run produced (the same numbers it printed)."""

    final: list[OpStats]
    run_seconds: float
    ops_done: int
    stopped_early: bool
    target: TargetReport | None = None
    last_error: str | None = None
    stuck_threads: int = 0
    status_blocks: list[list[OpStats]] = field(default_factory=list)
    intervals: list[dict[str, Any]] = field(default_factory=list)
    error_classes: dict[str, dict[str, int]] = field(default_factory=dict)  # op -> class -> n
    requests: dict[str, dict[str, int]] = field(default_factory=dict)  # op -> attempts, ...
    processes: int = 1


def _stdout_write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


class NativeClient:
    """One load or run phase. All validation happens in ``__init__``, before any operation."""

    def __init__(
        self,
        db: str,
        properties: Mapping[str, str],
        phase: str,
        *,
        write: Callable[[str], None] = _stdout_write,
        seed: int | None = None,
        start_gate: Callable[[], None] | None = None,
        default_processes: str = "1",
    ) -> None:
        """`start_gate`: called after the properties banner, before the clock starts and the
        first operation; it blocks until the run may begin (or raises to cancel it).
        `default_processes`: without a ``processes`` property (the command line says ``auto``)."""
        self.properties = dict(properties)
        self.db, self.phase = db, phase
        self.wl: CoreWorkload = build_workload(self.properties, phase)
        props = Props(self.properties)
        self.binding: Binding = create_binding(db, props)
        attach = getattr(self.binding, "attach_output", None)
        if attach is not None:
            attach(self._emit)
        self.policy: RequestPolicy = request_policy(
            props, float(getattr(self.binding, "default_deadline_s", 0.0))
        )
        if props.problems:
            raise ParameterError(props.problems)
        self.processes = choose_processes(
            self.properties.get("processes", default_processes), self.wl, self.properties
        )
        self.silence = props.get_bool("silence", True)
        self.write = write
        self.seed = seed if seed is not None else time.time_ns()
        self._out_lock = threading.Lock()
        self._wall_offset_ns = time.time_ns() - time.perf_counter_ns()
        self.stop_reason: str | None = None
        self.start_gate = start_gate
        self._start_ns: int | None = None
        self.workers: Workers = self._workers()

    def _workers(self) -> Workers:
        if self.processes > 1:
            self.binding.close()  # the children open their own
            return ProcessWorkers(
                self.db, self.properties, self.phase, self.processes, self.seed, self._emit
            )
        return ThreadWorkers(
            self.wl, self.binding, self.seed, self._emit, policy=self.policy, silence=self.silence
        )

    # ------------------------------------------------------------------ control

    def request_stop(self, reason: str = "stop requested") -> None:
        """Finish the current operations and print the final block (SIGINT, time limit)."""
        if self.stop_reason is None:
            self.stop_reason = reason
        self.workers.request_stop()

    def _emit(self, text: str) -> None:
        if text:
            with self._out_lock:
                self.write(text)

    # ------------------------------------------------------------------ the run

    def run(self) -> RunReport:
        wl = self.wl
        banner = ["***************** properties *****************\n"]
        banner += [f'"{k}"="{v}"\n' for k, v in sorted(self.properties.items())]
        banner.append(STAR_LINE + "\n")
        self._emit("".join(banner))
        if isinstance(self.workers, ProcessWorkers):
            self.workers.launch()  # start-up overlaps the gate's wait
        if self.start_gate is not None:
            self._emit("Waiting for the start line on stdin\n")
            try:
                self.start_gate()
            except BaseException:
                self.workers.request_stop()
                raise
        start_ns = self._start_ns = time.perf_counter_ns()
        ilog = self._interval_log(start_ns)
        done = threading.Event()
        blocks: list[list[OpStats]] = []
        reporter = threading.Thread(
            target=self._reporter, args=(blocks, start_ns, ilog, done), daemon=True
        )
        self.workers.start(start_ns, start_ns + int(wl.warmup_s * 1e9))
        reporter.start()
        stuck = self._wait(start_ns)
        done.set()
        reporter.join(timeout=5)
        # the end: when the last thread ended (the time to notice it is not the run's)
        out = self.workers.outcome(stuck)
        end_ns = out.end_ns or time.perf_counter_ns()
        merged = self.workers.snapshot()
        elapsed = (end_ns - start_ns) / 1e9
        if ilog is not None:  # the last, partial interval
            ilog.tick({op: mg.counts for op, mg in merged.items()}, elapsed)
            ilog.close()
        self._emit(f"{STAR_LINE}\nRun finished, takes {format_go_duration(elapsed)}\n")
        final = m.summary_of(merged, end_ns)
        text = (
            m.raw_csv(out.raw_samples, self._wall_offset_ns)
            if wl.raw
            else m.render(final, wl.output_style)
        )
        if wl.output_file:
            with open(wl.output_file, "w", encoding="utf-8") as f:
                f.write(text)
        else:
            self._emit(text)
        target = None
        if wl.target > 0:
            achieved = out.ops_done / elapsed if elapsed > 0 else 0.0
            lag_ms = out.max_lag_ns / 1e6
            self._emit(m.render_target(wl.target, achieved, lag_ms))
            behind = max(0.0, (1 - achieved / wl.target) * 100)
            target = TargetReport(wl.target, achieved, behind, lag_ms)
        self.binding.close()
        classes, requests = self._write_error_classes(elapsed, out, final)
        return RunReport(
            final=final,
            run_seconds=elapsed,
            ops_done=out.ops_done,
            stopped_early=self.stop_reason is not None,
            target=target,
            last_error=out.last_error,
            stuck_threads=out.stuck,
            status_blocks=blocks,
            intervals=ilog.rows if ilog is not None else [],
            error_classes=classes,
            requests=requests,
            processes=self.processes,
        )

    def _write_error_classes(
        self, elapsed: float, out: Outcome, final: list[OpStats]
    ) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
        """Totals per operation and class, and attempts/retries/errors per operation; per
        second to the side file when there is one."""
        totals: dict[str, dict[str, int]] = {}
        for (op, cls, _), n in out.errors.items():
            totals.setdefault(op, {}).setdefault(cls, 0)
            totals[op][cls] += n
        requests = request_counts(final, out)
        csv = self.properties.get("measurement.interval_csv")
        path = self.properties.get("measurement.error_classes") or (
            str(Path(csv).with_name(Path(csv).name.split(".")[0] + ".errors.json")) if csv else ""
        )
        if path:
            merged: dict[int, list[int]] = {}
            for per_thread in out.completions:
                for b, (ok, err) in per_thread.items():
                    c = merged.setdefault(b, [0, 0])
                    c[0], c[1] = c[0] + ok, c[1] + err
            doc = {
                "run_seconds": elapsed,
                "totals": totals,
                "per_second": per_second(out.errors),
                "completions_100ms": [
                    {"t_s": round((b + 1) / 10, 1), "ok": c[0], "errors": c[1]}
                    for b, c in sorted(merged.items())
                ],
                "policy": self.policy.info(),
                "processes": self.processes,
                "requests": requests,
                "retries_per_second": per_second(out.retries),
            }
            Path(path).write_text(json.dumps(doc, indent=1), encoding="utf-8")
        return totals, requests

    def _interval_log(self, start_ns: int) -> IntervalLog | None:
        wl = self.wl
        if not (wl.interval_log or wl.interval_csv):
            return None
        wall = (start_ns + self._wall_offset_ns) / 1e9
        ilog = IntervalLog(wl.interval_log, wl.interval_csv, wall)
        ilog.start_at(wl.warmup_s)
        return ilog

    def _wait(self, start_ns: int) -> int:
        """Wait for the workers; enforce maxexecutiontime; give up on threads stuck 10 s after a
        stop (the number still running is returned)."""
        limit = self.wl.max_execution_s
        deadline = start_ns + int(limit * 1e9) if limit > 0 else None
        stop_seen: int | None = None
        workers = self.workers
        while True:
            alive = workers.alive()
            if not alive:
                return 0
            now = time.perf_counter_ns()
            if deadline is not None and now >= deadline and not workers.stopping:
                self.request_stop(f"maxexecutiontime {limit:g}s reached")
            if workers.stopping:
                stop_seen = stop_seen or now
                if now - stop_seen > 10_000_000_000:
                    self._emit("\nWait 10s for closed, force exit\n")
                    return alive
            wait = 0.2
            if deadline is not None and not workers.stopping:
                wait = min(wait, max(0.0, (deadline - now) / 1e9))
            workers.wait(wait)

    def _reporter(
        self,
        blocks: list[list[OpStats]],
        start_ns: int,
        ilog: IntervalLog | None,
        done: threading.Event,
    ) -> None:
        interval_ns = int(self.wl.interval_s * 1e9)
        # like go-ycsb, the status ticker starts when the warm-up ends
        if self.wl.warmup_s > 0 and done.wait(self.wl.warmup_s):
            return
        if self.wl.raw and ilog is None:  # go-ycsb prints no status blocks for raw measurements
            return
        origin = start_ns + int(self.wl.warmup_s * 1e9)
        k = 1
        while not done.wait(max(0.0, (origin + k * interval_ns - time.perf_counter_ns()) / 1e9)):
            now = time.perf_counter_ns()
            k = max(k + 1, (now - origin) // interval_ns + 1)  # on the grid, skipping missed ticks
            merged = self.workers.snapshot()
            if ilog is not None:
                ilog.tick({op: mg.counts for op, mg in merged.items()}, (now - start_ns) / 1e9)
            if self.wl.raw:
                continue
            rows = m.summary_of(merged, now)
            if rows:
                blocks.append(rows)
                self._emit(m.render(rows, self.wl.output_style))


def per_second(counts: Mapping[tuple[str, str, int], int]) -> list[dict[str, Any]]:
    """(operation, class, second) counts as rows, by second (t_s: the end of the second)."""
    return [
        {"t_s": float(sec), "operation": op, "class": cls, "count": n}
        for (op, cls, sec), n in sorted(counts.items(), key=lambda kv: kv[0][2])
    ]


def request_counts(final: list[OpStats], out: Outcome) -> dict[str, dict[str, int]]:
    """Per operation: operations measured (successes, not-found and failures), attempts (those
    plus their retries), retries and final errors; a warm-up's operations are not measured."""
    ops: dict[str, dict[str, int]] = {}
    for row in final:
        name = row.operation
        if name.startswith("TOTAL") or name.endswith("-INTENDED"):
            continue
        base = name.removesuffix("_ERROR").removesuffix("_NOTFOUND")
        d = ops.setdefault(base, {"operations": 0, "attempts": 0, "retries": 0, "errors": 0})
        d["operations"] += row.count or 0
        if name.endswith("_ERROR"):
            d["errors"] += row.count or 0
    for (op, _, _), n in out.retries.items():
        d = ops.setdefault(op, {"operations": 0, "attempts": 0, "retries": 0, "errors": 0})
        d["retries"] += n
    for d in ops.values():
        d["attempts"] = d["operations"] + d["retries"]
    return ops
