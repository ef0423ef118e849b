"""One probe of a capacity search, run and observed: each a normal run directory.

  - `StackProber`: an attached Benchmark on the held stack (run.attached) at `target = offered`
    for the probe's duration: health re-checked, the run phase (the first probe also loads), the
    probe's post checks (`PROBE_CHECKS`), its report. The metrics and timeline stages are left
    out: the search needs the client's numbers, and the server series would cost more than the
    probe.
  - `NativeProber`: the native generator run here as a process with no stack (`basic`: each
    call sleeps its delay), its CPU from this process's children, the host sampled beside it,
    the same post checks on its numbers.
`observe` reads what the judge needs from the run directory: achieved, the intended-time latency
histogram merged over the probe from ycsb/run.hlog, its per-interval p50, errors, whether the
client was the limit or the host was contended; `to_probe` judges it (capacity.judge).
"""

from __future__ import annotations

import contextlib
import math
import os
import resource
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal, Protocol

from hdrh.log import HistogramLogReader

from workbench.artifacts import RunDir
from workbench.capacity import Objective, Probe, ProbeObservation, judge
from workbench.capacity.judge import ProbeVerdict, value_at_rank
from workbench.capacity.record import Settings, Step
from workbench.checks.base import CheckContext, run_checks
from workbench.manifest import Manifest
from workbench.model import ClientSummary, Verdict
from workbench.params import RunParams
from workbench.run import finishing, workload
from workbench.run.attached import HeldStack
from workbench.telemetry import HostSampler
from workbench.ycsb import intervals as iv
from workbench.ycsb.tools import PhaseRequest, get_tool

Progress = Callable[[str], None]
PROBE_CHECKS = ("error_rate", "target_rate", "client_saturation", "host_contention")
NATIVE_CHECKS = ("error_rate", "target_rate", "client_saturation")
HOST_OUTSIDE_MAX_CORES = 0.5  # as host_contention's default: busier outside is `unknown`


class ProbeSpec(Protocol):
    """What a prober needs of the search's parameters (findmax.FindmaxParams)."""

    @property
    def objective(self) -> Objective: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def binding(self) -> str: ...

    def run_params(self, offered: float, run_id: str, results: Path) -> RunParams: ...


# ---- observing a probe's run directory ---------------------------------------------------------
def merged_distribution(hlog: Path, tag: str) -> list[tuple[float, int]]:
    """The latency histogram of `tag` merged over every interval of an interval log, as
    ascending (ms, count) pairs (each value the highest equivalent of its bucket: never low)."""
    total = iv.new_histogram()
    reader = HistogramLogReader(str(hlog), iv.new_histogram())
    try:
        while (h := reader.get_next_interval_histogram()) is not None:
            if (h.get_tag() or "TOTAL") == tag:
                total.add(h)
    finally:
        reader.close()
    return [
        (
            total.get_highest_equivalent_value(it.value_iterated_to) / 1000.0,
            it.count_at_value_iterated_to,
        )
        for it in total.get_recorded_iterator()
    ]


def observe(
    rd: RunDir,
    objective: Objective,
    offered: float,
    client: ClientSummary,
    verdicts: list[Verdict],
    *,
    tolerate_host: bool,
) -> ProbeObservation:
    """What the judge needs from a probe's run directory and its verdicts."""
    op = objective.operation
    intended = offered > 0  # unthrottled: no intended clock, service time is all there is
    hlog = rd.hlog("run")
    have = hlog.is_file()
    dist = (
        merged_distribution(hlog, f"{op}{iv.INTENDED_SUFFIX}" if intended else op) if have else []
    )
    t: list[float] = []
    lat: list[float] = []
    achieved = client.achieved_ops or 0.0
    if have:
        rows = iv.read_hlog(hlog)
        every = rows[rows["operation"] == "TOTAL"]
        if len(every) and every["interval_s"].sum() > 0:  # the measured span, warmup left out
            achieved = float(every["count"].sum() / every["interval_s"].sum())
        mine = rows[rows["operation"] == op]
        full = mine[~iv.partial_mask(mine["interval_s"])]
        col = "p50_intended_ms" if intended else "p50_ms"
        t, lat = list(full["t_s"].astype(float)), list(full[col].astype(float))
    service = _stats(hlog, "TOTAL") if have else {}
    queued = _stats(hlog, "TOTAL" + iv.INTENDED_SUFFIX) if have and intended else {}
    by = {v.name: v for v in verdicts}
    sat, host = by.get("client_saturation"), by.get("host_contention")
    return ProbeObservation(
        offered=offered,
        achieved=achieved,
        operations=client.total_ops + client.total_errors,
        errors=client.total_errors - client.interrupt_errors,
        distribution=dist,
        interval_t_s=t,
        interval_latency_ms=lat,
        client_bound=sat.summary if sat is not None and sat.status == "fail" else None,
        host_contended=(
            host.summary
            if host is not None and host.status != "pass" and not tolerate_host
            else None
        ),
        service_p50_ms=service.get("p50_ms"),
        service_p99_ms=service.get("p99_ms"),
        intended_p50_ms=queued.get("p50_ms"),
        intended_p99_ms=queued.get("p99_ms"),
    )


def _stats(hlog: Path, tag: str) -> dict[str, float]:
    """p50/p99 (ms) of a tag merged over the probe; empty when the log has none of it."""
    dist = merged_distribution(hlog, tag)
    n = sum(c for _, c in dist)
    if not n:
        return {}
    return {
        col: value_at_rank(dist, max(1, math.ceil(q * n)))
        for col, q in (("p50_ms", 0.5), ("p99_ms", 0.99))
    }


def to_probe(obs: ProbeObservation, p: ProbeSpec, step: Step, rd: RunDir, wall_s: float) -> Probe:
    j = judge(obs, p.objective, max_error_rate=p.settings.max_error_rate,
              confidence=p.settings.confidence)  # fmt: skip
    verdict: ProbeVerdict | Literal["measured"] = j.verdict
    why = j.why
    if obs.offered == 0:  # the top rate: the search's start and noise, never a bracket end
        rest = [w for w in j.why if not w.startswith("achieved")]  # of "0 ops/s offered"
        verdict, why = "measured", ["unthrottled: the top rate, not judged", *rest]
    return Probe(
        index=0,
        step=step,
        offered=obs.offered,
        achieved=round(obs.achieved, 2),
        verdict=verdict,
        why=why,
        limit=j.limit,
        percentile_ms=j.percentile_ms,
        percentile_bound_ms=j.percentile_bound_ms,
        samples=j.samples,
        slope_ms_per_s=j.slope.slope_ms_per_s if j.slope else None,
        slope_p=j.slope.p_value if j.slope else None,
        errors=obs.errors,
        operations=obs.operations,
        service_p50_ms=obs.service_p50_ms,
        service_p99_ms=obs.service_p99_ms,
        intended_p50_ms=obs.intended_p50_ms,
        intended_p99_ms=obs.intended_p99_ms,
        run_id=rd.run_id,
        run_dir=str(rd.path),
        wall_s=round(wall_s, 2),
    )


def failed_probe(offered: float, step: Step, run_id: str, exc: BaseException) -> Probe:
    """A probe whose run broke: unknown (the search repeats it once, then stops naming it)."""
    return Probe(index=0, step=step, offered=offered, achieved=0.0, verdict="unknown",
                 limit="error", why=[f"the probe's run failed: {finishing.describe(exc)[:300]}"],
                 run_id=run_id)  # fmt: skip


# ---- the two probers ----------------------------------------------------------------------------
class StackProber:
    """Probes as attached runs on a held stack (the first one loads)."""

    def __init__(self, held: HeldStack, p: ProbeSpec, probes_dir: Path, say: Progress) -> None:
        self.held, self.p, self.dir, self.say = held, p, probes_dir, say

    def __call__(self, offered: float, step: Step, run_id: str) -> Probe:
        params = self.p.run_params(offered, run_id, self.dir)
        bench = self.held.benchmark(params, progress=_quiet, post_checks=PROBE_CHECKS)
        t0 = time.monotonic()
        try:
            bench.stack_up()
            bench.load()
            rec = bench.run()
            bench.post_checks()
            bench.finish()
        except Exception as exc:  # the stage recorded it; the search hears of it as unknown
            return failed_probe(offered, step, run_id, exc)
        assert rec is not None
        client = workload.client_summary(rec, bench.params)
        obs = observe(bench.rd, self.p.objective, offered, client, bench.verdicts,
                      tolerate_host=self.p.settings.tolerate_host)  # fmt: skip
        return to_probe(obs, self.p, step, bench.rd, time.monotonic() - t0)


class NativeProber:
    """Probes on the native generator with no stack (`basic`: each call sleeps its delay)."""

    def __init__(self, p: ProbeSpec, manifest: Manifest, probes_dir: Path, say: Progress) -> None:
        self.p, self.manifest, self.dir, self.say = p, manifest, probes_dir, say

    def __call__(self, offered: float, step: Step, run_id: str) -> Probe:
        params = self.p.run_params(offered, run_id, self.dir)
        rd = RunDir.create(self.dir, run_id, f"{self.p.binding} binding", params.to_dict(), "probe")
        t0 = time.monotonic()
        try:
            with _sampled() as host:
                rec, cpu_s = self._run(params, rd)
            rec.cpu_seconds, rec.cpu_cores = cpu_s, float(os.cpu_count() or 1)
            workload.save_phase(
                rd, rec, "run", warmup=params.warmup, interval_s=params.status_interval
            )
            client = workload.client_summary(rec, params)
            window = (rec.first_line, rec.traffic_end())
            ctx = CheckContext(subject=rd.record.subject, endpoints={}, client=client,
                               window=window, options={"max_error_rate": self.p.settings.max_error_rate})  # fmt: skip
            verdicts = [*run_checks(NATIVE_CHECKS, ctx, "post"), host_verdict(host, window, cpu_s)]
            rd.save_verdicts(verdicts)
            status, error = finishing.status(verdicts)
            rd.finish(status, error=error)
        except BaseException as exc:
            rd.finish("aborted" if isinstance(exc, KeyboardInterrupt) else "error",
                      error=finishing.describe(exc))  # fmt: skip
            finishing.render(rd, self.say)
            if isinstance(exc, KeyboardInterrupt):
                raise
            return failed_probe(offered, step, run_id, exc)
        finishing.render(rd, self.say)
        obs = observe(rd, self.p.objective, offered, client, verdicts,
                      tolerate_host=self.p.settings.tolerate_host)  # fmt: skip
        return to_probe(obs, self.p, step, rd, time.monotonic() - t0)

    def _run(self, params: RunParams, rd: RunDir) -> tuple[Any, float]:
        tool = get_tool("native")
        req = PhaseRequest(
            phase="run",
            binding=self.p.binding,
            workload_file=str(self.manifest.workload_file(params.workload)),
            properties=params.ycsb_properties(),
            threads=params.threads,
            target=params.target or None,
            interval_s=max(1, round(params.status_interval)),
            duration_s=params.duration,
            warmup_s=params.warmup,
            interval_dir=str(rd.ycsb_dir),
        )
        before = _children_cpu()
        rec = tool.run(
            req,
            lambda name: [sys.executable, "-m", "workbench.ycsb.native"],
            project="findmax",
            service="native",
            log_path=rd.ycsb_log("run"),
        )
        return rec, _children_cpu() - before


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


@contextlib.contextmanager
def _sampled() -> Iterator[HostSampler]:
    host = HostSampler(None).start()
    try:
        yield host
    finally:
        host.stop()


def host_verdict(host: HostSampler, window: tuple[float, float], client_cpu_s: float) -> Verdict:
    """host_contention without a stack: the host's busy cores outside the workbench and its
    generator over the probe (`unknown` above HOST_OUTSIDE_MAX_CORES)."""
    obs = host.contention(*window)
    if not obs.get("measured"):
        return Verdict(
            "host_contention", "post", "unknown", f"host CPU not measured: {obs.get('reason')}"
        )
    span = max(window[1] - window[0], 1e-9)
    outside = obs["host_busy_cores"] - obs["workbench_cores"] - client_cpu_s / span
    text = (f"host CPU busy outside the workbench and its generator: {outside:.2f} cores "
            f"(host {obs['host_busy_cores']:.2f} of {obs['cpu_count']} cores)")  # fmt: skip
    if outside > HOST_OUTSIDE_MAX_CORES:
        return Verdict(
            "host_contention",
            "post",
            "unknown",
            f"{text} > {HOST_OUTSIDE_MAX_CORES:g}: the host was not idle",
        )
    return Verdict("host_contention", "post", "pass", f"{text} ≤ {HOST_OUTSIDE_MAX_CORES:g}")


def _quiet(_: str) -> None:
    pass
