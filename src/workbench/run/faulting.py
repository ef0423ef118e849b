"""The run phase's faults: the schedule checked with the parameters, the injector started at the
run phase's t=0 and closed in `finally`, and what happened written where the run keeps it.

    plan = RunFaults.for_run(params, manifest)       # ParameterError before anything starts
    with plan.during(stack) as begin:                # closes (undoes everything) on any exit
        rec = tool.run(..., gate=begin)              # `begin()` starts the clock: t=0
    plan.finish(rd, rec, stack)                      # faults.json, marks, record, recoveries

`begin` is the phase's start gate: a gated tool (the native generator) is released right after it
returns, so the schedule's t=0 is the run phase's t=0 to a few ms; an ungated tool (go-ycsb) is
started after it returns, so its first operation comes a container start later (recorded: faults
carry unix times, recoveries are measured from the phase's own t=0, `PhaseRecord.first_line`).
What lives elsewhere: the schedule from the parameters and its params rule (workbench.faults.plan,
named in workbench.params.rules.RUN_RULES), the actions, targets, injector and recovery metrics
(workbench.faults), the file (workbench.artifacts.faults), the verdicts (workbench.checks.faults),
the conductor's stage order (benchmark.py).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import httpx
import pandas as pd

from workbench.artifacts import FaultsDoc, RunDir
from workbench.cluster.probe import AvailabilityProbe, probe_http, prober_for
from workbench.errors import WorkbenchError
from workbench.faults.availability import counter_frame, per_fault, samples_frame
from workbench.faults.injector import Injector, compose_lookup, leftovers, sweep, windows
from workbench.faults.outcome import (
    FaultObservation,
    FaultOutcome,
    FaultRecord,
    HealthAfter,
    ProbeInfo,
    ProbeNumbers,
    RecoveryNumbers,
    ServerCounters,
    outcomes,
)
from workbench.faults.plan import schedule_for
from workbench.faults.recovery import Recovery, distribution, recoveries
from workbench.faults.schedule import Schedule
from workbench.faults.spans import ErrorCount, count_errors, spans
from workbench.faults.targets import FaultsConfig, TargetResolver
from workbench.manifest import Manifest
from workbench.params import RunParams
from workbench.prometheus import PrometheusClient, counter_increase
from workbench.run import workload
from workbench.stack import Stack
from workbench.ycsb.intervals import INTENDED_SUFFIX, partial_mask
from workbench.ycsb.tools import PhaseRecord, own_line

HEALTHY_WAIT_S = 90.0  # after the last fault: how long the stack may take to be healthy again
TOOL_UP_WAIT_S = 120.0  # a gated tool's first line (its start-up) before the clock starts anyway


def tool_is_up(log: Path) -> bool:
    """The tool printed its first own line (not `docker compose run` progress) to its log."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(own_line(line) for line in text.splitlines())


def series_for_recovery(rd: RunDir, phase: str = "run") -> pd.DataFrame:
    """The client's per-interval series in recovery's long form: t_s, operation, ops (per s) and,
    from the generator's interval histograms when it wrote them, p99_ms, interval_s and partial.

    With histograms, each row IS one interval of one operation (its end, its own length, its
    count and p99): nothing is joined, so no p99 is lost to two clocks (the status blocks count
    intervals at 10.0 s, the histograms close them at 10.016 s). Else the status blocks' counts
    (no p99). `_ERROR` rows are the errors per interval; TOTAL rows are left out (they sum the
    others); the last, partial interval is marked (recovery leaves it out)."""
    hist = histogram_series(rd, phase)
    if hist is not None:
        return hist
    frame = rd.ycsb_intervals(phase)
    if frame is None:
        return pd.DataFrame(columns=["t_s", "operation", "ops"])
    frame = frame[~frame["operation"].astype(str).str.startswith("TOTAL")]  # the sum of the rest
    out = frame[["t_s", "operation"]].copy()
    out["ops"] = frame["interval_ops"].astype(float).fillna(0.0)
    return out


def histogram_series(rd: RunDir, phase: str = "run") -> pd.DataFrame | None:
    """The interval histograms (`<phase>.interval.csv`) in recovery's form; None without."""
    lat = rd.interval_histograms(phase)
    if lat is None:
        return None
    op = lat["operation"].astype(str)
    lat = lat[~op.str.endswith(INTENDED_SUFFIX) & ~op.str.startswith("TOTAL")]
    lat = lat[pd.to_numeric(lat["interval_s"], errors="coerce") > 0]
    if lat.empty:
        return None
    length = lat["interval_s"].astype(float)
    return pd.DataFrame(
        {
            "t_s": lat["t_s"].astype(float),
            "operation": lat["operation"].astype(str),
            "ops": lat["count"].astype(float) / length,
            "p99_ms": pd.to_numeric(lat["p99_ms"], errors="coerce").astype(float),
            "interval_s": length,
            "partial": partial_mask(length),
        }
    ).reset_index(drop=True)


def completions_for_recovery(rd: RunDir, phase: str = "run") -> pd.DataFrame | None:
    """The native generator's completions per 100 ms (`<phase>.errors.json`) as recovery's
    completion rows (t_s, ok): a success row and an error row per bucket that had them. None
    when the tool wrote none (go-ycsb): unavailability then comes from the 1 s intervals."""
    doc = rd.error_classes(phase)
    if doc is None:
        return None
    rows = []
    for c in doc.completions_100ms:
        if c.ok:
            rows.append({"t_s": c.t_s, "ok": True})
        if c.errors:
            rows.append({"t_s": c.t_s, "ok": False})
    return pd.DataFrame(rows, columns=["t_s", "ok"]) if rows else None


class RunFaults:
    """One run's faults, from the checked schedule to the recorded result."""

    def __init__(
        self, schedule: Schedule, config: FaultsConfig, seed: int, target: float | None = None
    ) -> None:
        self.schedule, self.config, self.seed = schedule, config, seed
        self.target = target  # the client's target rate (ops/s): a pre-fault level of last resort
        self.injector: Injector | None = None
        self.records: list[FaultRecord] = []
        self.recoveries: list[Recovery] = []
        self.t0: float | None = None  # the injector's t=0 (unix s)
        self.healthy_after: HealthAfter | None = None
        self.server_view: dict[int, ServerCounters] = {}
        self.server_problem: str | None = None
        self.errors: ErrorCount | None = None  # the one error count, per fault (faults.spans)
        self.probe: AvailabilityProbe | None = None  # the independent availability probe
        self.probe_info: ProbeInfo | None = None
        self.probe_numbers: dict[int, ProbeNumbers] = {}
        self._probe_http: httpx.Client | None = None
        self.containers: list[str] = []
        self._http: httpx.Client | None = None
        self._stack: Stack | None = None
        self._watch: threading.Thread | None = None
        self._closing = threading.Event()
        self.clock: Callable[[], float] = time.time  # the times of records and recovery (tests)

    @classmethod
    def for_run(cls, params: RunParams, manifest: Manifest) -> RunFaults:
        schedule = schedule_for(params, manifest)
        config = FaultsConfig.from_table(manifest.faults)
        target = float(params.target) if params.target else None
        return cls(schedule, config, params.fault_seed, target)

    def __bool__(self) -> bool:
        return bool(self.schedule)

    # --- during the run phase -----------------------------------------------------------------
    def arm(
        self,
        stack: Stack,
        *,
        lookup: Callable[[str], str] | None = None,
        make_injector: Callable[..., Injector] = Injector,
    ) -> None:
        """Resolver and injector for this stack (nothing is injected before `begin`); `lookup`
        (service -> container) and `make_injector` are for tests."""
        self._http = httpx.Client(timeout=2.0)
        urls = self.config.member_urls(lambda u: stack.manifest.resolve(u, stack.ports))
        resolver = TargetResolver(self.config, urls, self._http, self.seed)
        lookup = lookup or compose_lookup(stack.project)
        self._stack = stack
        with contextlib.suppress(WorkbenchError):
            self.containers = [lookup(s) for s in self.config.targets]
        self.injector = make_injector(self.schedule, resolver=resolver, lookup=lookup)
        self._arm_probe(urls)

    def _arm_probe(self, urls: Mapping[str, str]) -> None:
        """The availability probe of the cluster's members (started with the schedule)."""
        cfg = self.config.probe
        if self.config.leader is None or not cfg.enabled or not urls:
            return
        self._probe_http = probe_http(len(urls) + 1, cfg.every_s, cfg.deadline_s)
        prober = prober_for(self.config.leader.kind, self._probe_http, urls, cfg.deadline_s)
        self.probe = AvailabilityProbe(
            prober, every_s=cfg.every_s, deadline_s=cfg.deadline_s, clock=self.clock
        )
        self.probe_info = ProbeInfo(
            scope=prober.scope,
            every_s=cfg.every_s,
            deadline_s=cfg.deadline_s,
            targets=prober.targets(),
        )

    def begin(self, ready_log: Path | None = None) -> None:
        """t=0 of the schedule: the injector starts now (idempotent). `ready_log`: a gated tool's
        log; wait until the tool is up (its first line), since its clock starts at the later of
        its first line and the release. A watcher then times the stack's health after the last
        fault."""
        if self.injector is None or self.t0 is not None:
            return
        if ready_log is not None:
            deadline = time.time() + TOOL_UP_WAIT_S
            while not tool_is_up(ready_log) and time.time() < deadline:
                time.sleep(0.02)
        self.t0 = self.clock()
        self.injector.start(self.t0)
        if self.probe is not None:
            self.probe.start()
        if self._stack is not None:
            stack = self._stack
            self._watch = threading.Thread(
                target=self._watch_health, args=(stack,), name="faults-health", daemon=True
            )
            self._watch.start()

    def _watch_health(self, stack: Stack) -> None:
        """Once every fault is undone, poll health until healthy (or the run closes)."""
        while not self._closing.is_set() and not self._schedule_done():
            time.sleep(0.1)
        self.healthy_after = self.wait_healthy(stack, stop=self._closing)

    def close(self) -> list[FaultRecord]:
        """Stop the schedule and undo whatever is in force (idempotent; on every exit path)."""
        if self.injector is not None:
            if self._watch is not None:
                if self._schedule_done():  # its health after the last fault, when it is in time
                    self._watch.join(5.0)
                self._closing.set()  # an interrupted schedule is undone at once, not after 5 s
                self._watch.join(2.0)
            try:
                self.records = list(self.injector.close())
            finally:
                self.injector = None
                if self._http is not None:
                    self._http.close()
                self._stop_probe()
        return self.records

    def _stop_probe(self) -> None:
        if self.probe is not None and self.probe_info is not None:
            self.probe.stop()
            self.probe_info.ticks, self.probe_info.skipped = self.probe.ticks, self.probe.skipped
        if self._probe_http is not None:
            self._probe_http.close()
            self._probe_http = None

    def _schedule_done(self) -> bool:
        """Every fault ran its course (before close: the injector was not stopped early)."""
        return self.injector is not None and self.injector.done()

    @contextlib.contextmanager
    def during(self, stack: Stack | None) -> Iterator[Callable[..., None]]:
        """Armed on entry when there is a schedule; closed on any exit (errors, Ctrl-C)."""
        if self and stack is not None:
            self.arm(stack)
        try:
            yield self.begin
        finally:
            self.close()

    # --- after the run phase ------------------------------------------------------------------
    def wait_healthy(
        self,
        stack: Stack,
        timeout_s: float = HEALTHY_WAIT_S,
        stop: threading.Event | None = None,
    ) -> HealthAfter:
        """How long after the last fault's undo every healthy service was healthy again."""
        records = self.injector.records if self.injector is not None else self.records
        ends = [r.end or r.applied or r.start for r in records if r.start is not None]
        since = max((e for e in ends if e is not None), default=self.clock())
        deadline = time.time() + timeout_s
        health: dict[str, str] = {}
        while stop is None or not stop.is_set():
            with contextlib.suppress(WorkbenchError):
                health = stack.services_health()
            want = stack.manifest.healthy_services
            if all(health.get(s) == "healthy" for s in want):
                now = self.clock()
                return HealthAfter(
                    healthy=True, since=since, at=now, took_s=now - since, health=health
                )
            if time.time() >= deadline:
                waited = self.clock() - since
                return HealthAfter(healthy=False, since=since, waited_s=waited, health=health)
            time.sleep(0.5)
        return HealthAfter(
            healthy=False,
            since=since,
            waited_s=self.clock() - since,
            health=health,
            note="the run ended before the stack was healthy again",
        )

    def finish(self, rd: RunDir, phase: PhaseRecord | None, stack: Stack | None) -> None:
        """faults.json, one mark per applied fault, the record's fields and the recoveries."""
        if not self.schedule:
            return
        if stack is not None and (self.healthy_after is None or not self.healthy_after.healthy):
            self.healthy_after = self.wait_healthy(stack)  # not watched, or not yet healthy
            with contextlib.suppress(WorkbenchError):
                self.healthy_after.leftovers = leftovers(self.containers)
        run_t0 = phase.first_line if phase is not None else self.t0
        if run_t0 is not None and rd.has_intervals("run"):
            series = series_for_recovery(rd)
            done = completions_for_recovery(rd)
            faults = windows(self.records, run_t0)
            self.recoveries = recoveries(series, faults, completions=done, target_ops=self.target)
            if phase is not None:
                intervals = workload.client_intervals(rd, "run", phase.first_line)
                self.errors = put_error_count(self.records, self.recoveries, intervals)
        for r in self.records:
            if r.start is not None:
                rd.add_mark(r.label, r.start, r.end or r.scheduled_end, source="fault")
        if stack is not None and self.config.server_counters:
            try:
                with httpx.Client(timeout=5.0) as http:
                    prom = PrometheusClient(http, stack.endpoint("prometheus"), retries=1)
                    self.server_view = server_view(self.records, self.config.server_counters, prom)
            except Exception as exc:  # the server's view is extra: the fault records come first
                self.server_problem = f"{type(exc).__name__}: {exc}"
        self._probe_numbers(rd, run_t0, stack)
        rd.save_faults(self.document(run_t0))
        rd.update(faults=list(self.records), fault_seed=self.seed)

    def _probe_numbers(self, rd: RunDir, run_t0: float | None, stack: Stack | None) -> None:
        """The probe's samples (faults/probe.parquet) and its numbers per fault."""
        if self.probe is None or self.probe_info is None or run_t0 is None:
            return
        frame = samples_frame(self.probe.samples(), run_t0)
        self.probe_info.samples_file = rd.save_probe_samples(frame)
        raw = None
        name = self.config.probe.leader_counter
        if stack is not None and name is not None:
            try:
                with httpx.Client(timeout=5.0) as http:
                    prom = PrometheusClient(http, stack.endpoint("prometheus"), retries=1)
                    first = min((r.start for r in self.records if r.start is not None), default=0)
                    raw = prom.samples(self.config.server_counters[name], first - 5.0, time.time())
            except Exception as exc:  # the server's time is extra, as its view above
                why = f"{type(exc).__name__}: {exc}".splitlines()[0]
                self.probe_info.problem = f"the leader-change counter could not be read: {why}"
        self.probe_numbers = per_fault(frame, self.records, run_t0, counter_frame(raw, run_t0))

    def document(self, run_t0: float | None) -> FaultsDoc:
        """faults.json: the schedule's seed, each fault with its numbers, the health after."""
        return FaultsDoc(
            seed=self.seed,
            t0=self.t0,
            run_t0=run_t0,
            repeat=self.schedule.repeat,
            every_s=self.schedule.every_s,
            faults=self.outcomes(),
            distribution=distribution(self.recoveries),
            healthy_after=self.healthy_after,
            server_counters=list(self.config.server_counters) if self.server_view else [],
            server_problem=self.server_problem,
            error_grace_s=None if self.errors is None else self.errors.grace_s,
            probe=self.probe_info,
        )

    def outcomes(self) -> list[FaultOutcome]:
        numbers = [RecoveryNumbers.model_validate(r.to_dict()) for r in self.recoveries]
        out = outcomes(self.records, numbers, self.server_view)
        for o in out:
            o.probe = self.probe_numbers.get(o.index)
        return out

    def observation(self) -> FaultObservation | None:
        """`CheckContext.faults`: None when the run had no schedule (the fault checks skip)."""
        if not self.schedule:
            return None
        return FaultObservation(tuple(self.outcomes()), self.healthy_after)


def put_error_count(
    records: Sequence[FaultRecord], recs: Sequence[Recovery], intervals: pd.DataFrame | None
) -> ErrorCount:
    """The one error count (workbench.faults.spans) on each applied fault's recovery: the faults
    table and the checks read `errors_during` = the errors of the intervals the fault owns
    (applied..undo + grace); errors after that are the run's own (error_rate), no second count."""
    count = count_errors(intervals, spans(records), 0.0)
    applied = sorted((r for r in records if r.applied is not None), key=lambda r: r.start or 0.0)
    for r, rec in zip(applied, recs, strict=False):
        rec.errors_during = count.during.get(r.index, 0.0) if count.attributed else None
        if not count.attributed:
            rec.reasons["errors_during"] = "no per-interval client errors"
        rec.errors_after = None
        rec.reasons["errors_after"] = (
            f"errors later than {count.grace_s:g} s after the undo are outside the fault "
            "(error_rate counts them)"
        )
    return count


def salvage_sweep(manifest: Manifest, project: str) -> list[str]:
    """What a dead run left on its targets, repaired (the supervisor calls it before teardown)."""
    config = FaultsConfig.from_table(manifest.faults)
    lookup = compose_lookup(project)
    containers = []
    for s in config.targets:
        with contextlib.suppress(WorkbenchError):
            containers.append(lookup(s))
    return sweep(containers)


SERVER_AFTER_S = 10.0  # how long after a fault's end its server-side effects are counted


class CounterSource(Protocol):
    """What the server's view reads (workbench.prometheus.PrometheusClient satisfies it)."""

    def samples(self, selector: str, start: float, end: float) -> pd.DataFrame: ...


def server_view(
    records: Sequence[FaultRecord],
    counters: Mapping[str, str],
    prom: CounterSource,
    now: float | None = None,
) -> dict[int, ServerCounters]:
    """Per applied fault (by its index), each server counter's increase from the fault's start
    to 10 s after its end (resets from a restarted member are corrected): leader changes, failed
    proposals. A counter that cannot be read is None, never 0."""
    applied = [r for r in records if r.start is not None]
    if not applied:
        return {}
    first = min(float(r.start) for r in applied if r.start is not None)
    now = time.time() if now is None else now
    raw: dict[str, pd.DataFrame | None] = {}
    for name, selector in counters.items():
        try:
            raw[name] = prom.samples(selector, first - 5.0, now)
        except WorkbenchError:
            raw[name] = None
    out = {}
    for r in applied:
        start = float(r.start or 0.0)
        end = min(float(r.end or r.scheduled_end or start) + SERVER_AFTER_S, now)
        values: dict[str, float | None] = {}
        for name, frame in raw.items():
            got = None if frame is None else counter_increase(frame, [start, end])
            value = None if got is None or got.empty else got["increase"].iloc[0]
            values[name] = None if value is None or pd.isna(value) else float(value)
        out[r.index] = ServerCounters(start=start, end=end, counters=values)
    return out
