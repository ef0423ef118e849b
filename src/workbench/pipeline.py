"""The only place that knows the order of a benchmark's stages.

    stack up → pre checks → YCSB load → YCSB run → post checks → metrics → timeline + figures
    → teardown (unless kept) → report

`Benchmark` exposes each stage as a method so `benchmark.ipynb` can call them one cell at a time
(a user sees every output), and `execute()` runs them all. Every stage saves what it has before it
raises; on any failure (stack never healthy, workload error, Ctrl-C, SIGTERM) the run directory
gets the right status, the container logs, the verdicts known so far and a report showing the
failure, and the stack is torn down. Post checks run before metrics are collected because they
already wait for Prometheus' last scrape after the run: collecting afterwards costs no extra wait.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench import artifacts
from workbench.artifacts import RunDir
from workbench.errors import CheckFailed, StackError, WorkbenchError
from workbench.manifest import Manifest, load_manifest
from workbench.model import ClientSummary, Verdict
from workbench.params import ExploreParams, RunParams, VerifyParams, new_run_id

if TYPE_CHECKING:
    import pandas as pd

    from workbench.stack import Stack
    from workbench.ycsb.runner import RunOutcome

Progress = Callable[[str], None]
TRAFFIC_END_MARGIN_S = 0.3
HUGE_OPERATIONCOUNT = 2_000_000_000  # time-bounded runs: the duration stops the run, not the count
STAGES = ("stack_up", "pre_checks", "load", "run", "post_checks", "metrics", "timeline", "finish")
_ENDPOINT_REF = re.compile(r"\$\{([a-z][a-z0-9_]*)\}")
# `docker compose run` reports the one-off container's lifecycle on the same stream before the
# tool prints anything (" Container p-ycsb-load Creating"): not the tool's t=0.
_COMPOSE_PROGRESS = re.compile(r"^\s*(Container|Network|Volume) \S+ +[A-Z][a-z]+\s*$")


def _print(msg: str) -> None:
    print(msg, flush=True)


@dataclass
class PhaseRecord:
    """What one YCSB phase produced, with its place on the run's clock (unix seconds)."""

    outcome: RunOutcome
    launched: float  # just before the process started
    first_line: float  # the tool's t=0 (status t_s count from here): its first output, or the
    # start line written to it when gated
    ended: float
    cpu_seconds: float | None = None  # the tool's container CPU time (None: not measured)
    cpu_cores: float | None = None


class Benchmark:
    """One benchmark run, stage by stage. Create it, then call the stages in order (or execute)."""

    def __init__(
        self,
        params: RunParams,
        *,
        progress: Progress = _print,
        kind: str = "benchmark",
        project: str = "",
        post_checks: tuple[str, ...] | None = None,
    ) -> None:
        """`project`: attach to that running compose project instead of starting a stack (it is
        then never torn down). `post_checks`: check names instead of the manifest's post list."""
        self.params = params
        self.progress = progress
        self.manifest: Manifest = load_manifest(params.subject)
        self.project = project
        self.post_names = post_checks
        run_id = params.run_id or new_run_id(self.manifest.name, params.workload)
        resolved = {**params.to_dict(), "run_id": run_id}
        if project:
            resolved["project"] = project
        self.rd = RunDir.create(params.results_dir, run_id, self.manifest.name, resolved, kind)
        self.kind = kind
        self.stack: Stack | None = None
        self.verdicts: list[Verdict] = []
        self.phases: dict[str, PhaseRecord] = {}
        self.healthy_at: float | None = None
        self.done: list[str] = []
        self.closed = False
        self._scrape_interval: float | None = None
        self.figures: dict[str, Any] = {}
        self.figure_files: dict[str, Path] = {}  # the PNGs in figures/, as the report shows them
        self.baseline_window: tuple[float, float] | None = None
        self.settled_at: float | None = None  # when every target was scraped after the load
        self.settle_record: dict[str, Any] | None = None
        # the stack goes down in this thread while the figures are drawn (build_timeline)
        self._down_thread: threading.Thread | None = None
        self._down_error: BaseException | None = None
        self.teardown_span: tuple[float, float] | None = None
        self.teardown_s: float | None = None
        self._beside: Future[list[Verdict]] | None = None  # pre checks running beside the load
        # side work off the stages' critical path: engine versions, the fingerprint, the pre
        # checks that run beside the load
        self._background = ThreadPoolExecutor(3, thread_name_prefix="bench-side")
        self._fingerprint: Future[dict[str, Any]] | None = None
        atexit.register(self._at_exit)

    def _at_exit(self) -> None:
        """The interpreter (a notebook kernel) is going away with the run unfinished: a cell
        outside the stages failed, or the kernel was shut down. Never leave a stack behind."""
        if not self.closed:
            with contextlib.suppress(Exception):
                self._fail(RuntimeError("the process exited before the run finished"))

    # ---- plumbing ----------------------------------------------------------------------------
    @property
    def run_dir(self) -> Path:
        return self.rd.path

    @contextlib.contextmanager
    def _stage(self, name: str) -> Iterator[None]:
        if self.closed:
            raise WorkbenchError(f"run {self.rd.run_id} is already finished; start a new one")
        self.progress(f"[{self.rd.run_id}] stage {name} ...")
        t0 = time.monotonic()
        try:
            with self.rd.stage(name):
                yield
        except BaseException as exc:
            self._fail(exc)
            raise
        self.done.append(name)
        self.progress(f"[{self.rd.run_id}] stage {name} done in {time.monotonic() - t0:.1f}s")

    def _fail(self, exc: BaseException) -> None:
        """Save everything known, tear the stack down, mark the run, render the failure."""
        aborted = isinstance(exc, KeyboardInterrupt)
        status = "aborted" if aborted else "error"
        message = f"{type(exc).__name__}: {exc}"
        self.progress(f"[{self.rd.run_id}] {status}: {message.splitlines()[0][:300]}")
        with contextlib.suppress(Exception):
            self._collect_beside()  # a verdict known so far
        with contextlib.suppress(Exception):
            self._record_fingerprint()
        with contextlib.suppress(Exception):
            if self.verdicts:
                self.rd.save_verdicts(self.verdicts)
        try:
            self._teardown(force=True)
        except Exception as down_exc:  # keep the first error, note the second
            message += f"\n(teardown also failed: {down_exc})"
        self.rd.finish(status, error=message)
        self.closed = True
        atexit.unregister(self._at_exit)
        self._render()

    def _teardown(self, force: bool = False) -> None:
        """Take the stack down now, or wait for the background teardown begun by build_timeline
        (and raise what it raised)."""
        thread, self._down_thread = self._down_thread, None
        if thread is not None:
            thread.join()
            err, self._down_error = self._down_error, None
            if err is not None:
                raise err
        self._down_now(force)
        if self.teardown_span is not None and "teardown" not in self.rd.record:
            t0, t1 = self.teardown_span
            self.rd.update(
                teardown_s=self.teardown_s,
                teardown={"started_unix": t0, "ended_unix": t1, "background": thread is not None},
            )

    def _down_now(self, force: bool = False) -> None:
        st, self.stack = self.stack, None
        if st is None:
            return
        if not st.owned:  # attached: the stack is someone else's; keep a copy of its logs
            _safe(lambda: st.capture_logs(self.rd.logs_dir))
            return
        if self.params.keep_stack and not force:
            _safe(lambda: st.capture_logs(self.rd.logs_dir))
            self.progress(f"keeping stack {st.project} (workbench down --project {st.project})")
            return
        started = time.time()
        try:
            st.__exit__(None, None, None)
        finally:
            self.teardown_span = (started, time.time())
        self.teardown_s = st.timings.down_s

    def _teardown_in_background(self) -> None:
        """Once the metrics are in, nothing needs the stack: take it down (logs first) in a
        thread while the timeline and figures are built; finish() waits for it. A kept or
        attached stack is left to finish()."""
        st = self.stack
        if st is None or self._down_thread is not None or not st.owned or self.params.keep_stack:
            return

        def work() -> None:
            try:
                self._down_now()
            except BaseException as exc:  # re-raised by _teardown in the caller's thread
                self._down_error = exc

        self._down_thread = threading.Thread(target=work, name="stack-down", daemon=False)
        self._down_thread.start()

    def _render(self) -> None:
        from workbench import report

        try:
            s = report.summarize(self.rd)  # kept in run.json: `workbench run` prints it from there
            self.rd.update(
                summary={
                    "throughput": s.throughput,
                    "p99_ms": s.p99_ms,
                    "operations": s.operations,
                    "errors": s.errors,
                    "verdicts": s.verdicts,
                }
            )
            report.render(self.rd.path)
            report.render_index(self.rd.path.parent)
        except Exception as exc:  # the run's outcome matters more
            self.progress(f"report rendering failed: {type(exc).__name__}: {exc}")

    def _require_stack(self) -> Stack:
        if self.stack is None:
            raise WorkbenchError("the stack is not up: call stack_up() first")
        return self.stack

    # ---- stages --------------------------------------------------------------------------------
    def stack_up(self) -> Stack:
        """Bring the subject's stack up, health-gated; record project, ports and fingerprint."""
        from workbench.stack import Stack

        with self._stage("stack_up"):
            begun = time.time()
            engine = self._background.submit(engine_versions)  # while the stack comes up
            pre: dict[str, Any] = {}
            if self.project:
                st = Stack.attach(self.manifest, self.project, progress=self.progress)
                self.rd.update(project=st.project, ports=st.ports, attached=True)
                health = st.services_health()
                if not health:
                    raise StackError(f"no running containers in project {self.project!r}")
                self.stack = st
            else:
                pre = self.rd.record.get("prestart") or {}
                if pre.get("project"):  # `workbench run` began it while the kernel started
                    st = Stack.adopt(
                        self.manifest, pre["project"], self.rd.path, progress=self.progress
                    )
                else:
                    st = Stack(self.manifest, run_dir=self.rd.path, progress=self.progress)
                self.rd.update(project=st.project, ports=st.ports)
                st.__enter__()  # on failure Stack tears itself down (logs captured) and raises
                self.stack = st
            self.healthy_at = time.time()
            up_s = st.timings.healthy_s
            if pre.get("started_unix") and not self.project:  # from the stack's real start
                up_s = self.healthy_at - float(pre["started_unix"])
            self.rd.update(
                stack_up_s=up_s,
                stack_up={
                    "started_unix": float(pre.get("started_unix") or begun),
                    "healthy_unix": self.healthy_at,
                },
            )

            def fingerprint() -> dict[str, Any]:
                return artifacts.fingerprint(
                    compose_file=self.manifest.compose_file,
                    engine=engine.result(),
                    images=_safe(st.image_ids) or {},
                )

            # ~0.2 s of docker and git calls: beside the next stages, recorded after the load
            # (or by finish, or by a failure)
            self._fingerprint = self._background.submit(fingerprint)
        return st

    def _record_fingerprint(self) -> None:
        fut, self._fingerprint = self._fingerprint, None
        if fut is not None:
            self.rd.update(fingerprint=fut.result())

    def _context(self, **kwargs: Any) -> Any:
        import httpx

        from workbench.checks import CheckContext
        from workbench.prometheus import PrometheusClient

        st = self._require_stack()
        http = httpx.Client(timeout=5.0)
        prom = PrometheusClient(http, st.endpoint("prometheus"))
        probe = None
        if "probe" in _compose_services(self.manifest):

            def probe() -> Any:
                return st.run("probe", [], timeout=60)

        return CheckContext.from_manifest(
            self.manifest, st.ports, http=http, prometheus=prom, probe=probe, **kwargs
        )

    def _check_names(self, phase: str) -> list[str]:
        if phase == "post" and self.post_names is not None:
            return list(self.post_names)
        return list(self.manifest.checks.get(phase, ()))

    def _run_checks(self, phase: str, names: list[str], **ctx_kwargs: Any) -> list[Verdict]:
        from workbench.checks import run_checks

        ctx = self._context(**ctx_kwargs)
        try:
            return run_checks(names, ctx, phase, parallel=True)  # type: ignore[arg-type]
        finally:
            if ctx.http is not None:
                ctx.http.close()

    def _record(self, got: list[Verdict]) -> list[Verdict]:
        self.verdicts += got
        self.rd.save_verdicts(got)
        for v in got:
            self.progress(f"  {v.phase:<4} {v.name:<20} {v.status.upper():<8} {v.summary}")
        return got

    def _checks(self, phase: str, **ctx_kwargs: Any) -> list[Verdict]:
        return self._record(self._run_checks(phase, self._check_names(phase), **ctx_kwargs))

    def pre_checks(self) -> list[Verdict]:
        """The subject's pre checks, at once. In a benchmark, those that need no idle cluster
        (the probe container) run on beside the load when there is one; its stage records them.
        A verification keeps them all here (it is about the verdicts, not the time)."""
        from workbench.checks import get_check

        with self._stage("pre_checks"):
            names = self._check_names("pre")
            later: list[str] = []
            if self.kind == "benchmark" and "load" in self.params.phase_list:
                later = [n for n in names if get_check(n).beside_traffic]
            if later:
                self._beside = self._background.submit(self._run_checks, "pre", later)
                self.progress(f"  pre  {', '.join(later)}: running beside the load")
            return self._record(self._run_checks("pre", [n for n in names if n not in later]))

    def _collect_beside(self) -> list[Verdict]:
        """Record the pre checks that ran beside the load (waits for them)."""
        fut, self._beside = self._beside, None
        return [] if fut is None else self._record(fut.result())

    def _ycsb(self, phase: str, gate: Callable[[], None] | None = None) -> PhaseRecord:
        """One YCSB phase in the tool's service. `gate` (native generator only): the container
        starts at once and the first operation waits until `gate` returns."""
        from workbench.ycsb.runner import build_go_ycsb_argv, build_native_argv, run_ycsb

        st = self._require_stack()
        p, y = self.params, self.manifest.ycsb
        props = {k: self._endpoint_refs(v) for k, v in y.properties.items()}
        props.update(p.ycsb_properties())
        bounded = phase == "run" and p.duration is not None
        if phase == "run":
            if bounded:
                props["operationcount"] = str(HUGE_OPERATIONCOUNT)
                if y.tool == "native":
                    props["maxexecutiontime"] = f"{p.duration:g}"
            if p.warmup:
                props["warmuptime"] = f"{p.warmup:g}"
        build = (
            functools.partial(build_native_argv, start_on_stdin=gate is not None)
            if y.tool == "native"
            else build_go_ycsb_argv
        )
        wl = p.workload if p.workload.startswith("workload") else f"workload{p.workload}"
        # A named one-off container: `docker compose run` neither forwards SIGINT to it nor
        # removes it when interrupted, so a time-bounded go-ycsb run is stopped through the
        # engine by this name (the native generator bounds itself with maxexecutiontime).
        container = f"{st.project}-{y.service}-{phase}"
        argv = [
            *st.run_argv(y.service, name=container),
            *build(
                phase,
                y.binding,
                workload_files=[f"{y.workloads_path_in_container}/{wl}"],
                properties=props,
                threads=p.threads,
                target=p.target if phase == "run" and p.target else None,
                interval=max(1, round(p.status_interval)),
                executable=(),
            ),
        ]
        first: list[float] = []

        def on_line(line: str) -> None:
            if not first and not _COMPOSE_PROGRESS.match(line):
                first.append(time.time())
            if ("Takes(s)" in line and line.startswith("TOTAL")) or "Run finished" in line:
                self.progress(f"  {phase}: {line.strip()}")

        launched = time.time()
        duration = p.duration if bounded and y.tool != "native" else None
        with ContainerCpu(st.project, y.service) as cpu:
            outcome = run_ycsb(
                argv,
                log_path=self.rd.ycsb_dir / f"{phase}.log",
                on_line=on_line,
                duration_s=duration,
                timeout_s=(p.duration or 0) + 600 if phase == "run" else 1800,
                interval_s=float(max(1, round(p.status_interval))),
                interrupt_argv=["docker", "kill", "--signal", "INT", container],
                kill_argv=["docker", "rm", "-f", container],
                start_gate=gate,
            )
        ended = time.time()
        ready = first[0] if first else launched
        # gated: the clock starts at the start line, or when the tool got to reading it (its
        # "Waiting for the start line" comes right after its first line) if it came up later
        t0 = max(outcome.released_at, ready) if outcome.released_at is not None else ready
        rec = PhaseRecord(outcome, launched, t0, ended, cpu.seconds, cpu.cores)
        self.phases[phase] = rec
        self.rd.save_ycsb(phase, outcome.result.final_frame(), interval_frame(outcome.result))
        start = rec.first_line
        end = start + (outcome.result.run_seconds or (ended - start))
        self.rd.add_mark(phase, start, end)
        if phase == "run" and p.warmup:
            self.rd.add_mark("warmup", start, start + p.warmup)
        self.rd.update(
            **{
                f"ycsb_{phase}": {
                    "argv": outcome.argv,
                    "wall_s": outcome.wall_seconds,
                    "launched_unix": launched,
                    "ended_unix": ended,
                    # gated: the tool was up at `ready` and idle until `released` (the settle)
                    "gate": (
                        {"ready_unix": ready, "released_unix": outcome.released_at}
                        if gate is not None
                        else None
                    ),
                    "run_seconds": outcome.result.run_seconds,
                    "errors": outcome.result.error_count(),
                }
            }
        )
        return rec

    def _endpoint_refs(self, value: str) -> str:
        st = self._require_stack()
        return _ENDPOINT_REF.sub(lambda m: st.endpoint(m.group(1), "network"), value)

    def load(self) -> PhaseRecord | None:
        if "load" not in self.params.phase_list:
            return None
        with self._stage("load"):
            self._baseline()
            rec = self._ycsb("load")
            self._collect_beside()
            self._record_fingerprint()
            return rec

    def _baseline(self) -> None:
        """The idle span from healthy to the first YCSB launch: the checks subtract the server
        counters' background rate over it (none on the etcd subject, whose healthchecks use
        /health, not the KV service). Recorded, never waited for."""
        if self.healthy_at is None or self.baseline_window is not None:
            return
        self.baseline_window = (self.healthy_at, time.time())
        self.rd.update(baseline_window=list(self.baseline_window))

    def run(self) -> PhaseRecord | None:
        if "run" not in self.params.phase_list:
            return None
        with self._stage("run"):
            load = self.phases.get("load")
            self._baseline()
            if load is None:
                return self._ycsb("run")
            after = self._traffic_end(load)
            try:
                if self.manifest.ycsb.tool == "native":  # its start-up overlaps the settle
                    return self._ycsb("run", gate=lambda: self._settle(after))
                self._settle(after)
                return self._ycsb("run")
            finally:
                if self.settle_record is not None:
                    self.rd.update(settle_after_load=self.settle_record)

    def _traffic_end(self, rec: PhaseRecord) -> float:
        """When a phase's traffic had certainly ended. The native generator prints its first line
        before any operation and reports its run time to the last one, so that plus a margin
        (its container's exit and removal take ~0.2 s more); other tools: when the process
        ended."""
        secs = rec.outcome.result.run_seconds
        if self.manifest.ycsb.tool != "native" or secs is None:
            return rec.ended
        return min(rec.ended, rec.first_line + secs + TRAFFIC_END_MARGIN_S)

    def _settle(self, after: float) -> None:
        """Let Prometheus scrape every target after `after` (the load's end) before the run
        window opens, so server counters at the window's start hold all the load's traffic.
        Waits only as long as needed (about half a scrape interval on average)."""
        import httpx

        from workbench.checks.measurement import wait_for_scrape
        from workbench.prometheus import PrometheusClient

        t0 = time.time()
        with httpx.Client(timeout=3.0) as http:
            prom = PrometheusClient(http, self._require_stack().endpoint("prometheus"))
            seen = wait_for_scrape(prom.targets, after)
            if seen is None:  # cannot tell: a whole interval
                wait = after + self.scrape_interval() + 0.5 - time.time()
                if wait > 0:
                    time.sleep(wait)
        self.settled_at = time.time()
        # recorded by run(): this may be the start gate's thread
        self.settle_record = {"after": after, "seen": seen, "waited_s": self.settled_at - t0}

    def scrape_interval(self) -> float:
        """The longest scrape interval of the stack's Prometheus targets (2 s if unknown)."""
        if self._scrape_interval is None:
            import httpx

            from workbench.checks import parse_go_duration

            self._scrape_interval = 2.0
            with contextlib.suppress(Exception), httpx.Client(timeout=3.0) as http:
                url = self._require_stack().endpoint("prometheus") + "/api/v1/targets"
                active = http.get(url).json()["data"]["activeTargets"]
                got = [parse_go_duration(t["scrapeInterval"]) for t in active]
                self._scrape_interval = max(got) if got else 2.0
        return self._scrape_interval

    def _window(self) -> tuple[float, float] | None:
        """The span holding the measured phase's traffic: from the tool's first line to the end
        of its reported run time (not container start-up and removal)."""
        rec = self.phases.get("run") or self.phases.get("load")
        if rec is None:
            return None
        secs = rec.outcome.result.run_seconds
        end = rec.ended if secs is None else min(rec.ended, rec.first_line + secs + 0.5)
        start = rec.first_line - 0.25
        if rec is self.phases.get("run") and self.settled_at is not None:
            # counters are read at the window's start: not before the scrapes that hold all of
            # the load (a fast container start can print its first line 0.15 s after them)
            start = max(start, self.settled_at)
        return (start, end)

    def post_checks(self) -> list[Verdict]:
        with self._stage("post_checks"):
            rec = self.phases.get("run") or self.phases.get("load")
            client = client_summary(rec, self.params) if rec else None
            return self._checks(
                "post",
                client=client,
                window=self._window(),
                baseline_window=self.baseline_window,
                traffic_ended=rec.ended if rec else None,
            )

    def collect_metrics(self) -> dict[str, pd.DataFrame]:
        """Every manifest query over the run (load start - 5 s .. run end + up to 2 s) into
        metrics/."""
        import httpx

        from workbench.prometheus import PrometheusClient, collect

        with self._stage("metrics"):
            st = self._require_stack()
            recs = list(self.phases.values())
            if not recs:
                return {}
            start = min(r.launched for r in recs) - 5
            # up to 2 s past the last phase, but no waiting for it: the post checks already
            # waited for a scrape after the run, and a range query cannot see the future anyway
            end = min(max(r.ended for r in recs) + 2, time.time())
            queries: list[Any] = list(self.manifest.queries)  # frozen Query fits QueryLike
            with httpx.Client(timeout=10.0) as http:
                prom = PrometheusClient(http, st.endpoint("prometheus"))
                got = collect(
                    prom,
                    queries,
                    start,
                    end,
                    self.params.prometheus_step,
                    self.rd.metrics_dir,
                    raise_on_error=False,
                )
            for name, err in got.errors.items():
                self.progress(f"  query {name} failed: {err.splitlines()[0]}")
            return got.frames

    def build_timeline(self) -> pd.DataFrame:
        """Client intervals, server series and stage marks on one clock; figures into figures/.
        Nothing after the metrics needs the stack, so it goes down meanwhile (finish waits)."""
        from workbench import plots

        with self._stage("timeline"):
            self._teardown_in_background()
            run = self.phases.get("run")
            origin = run.first_line if run else float(self.rd.record["started_unix"])
            client = [
                artifacts.client_rows(self.rd.ycsb_intervals(ph), ph, rec.first_line)
                for ph, rec in self.phases.items()
            ]
            q = {x["name"]: x for x in self.rd.queries()}
            server = [
                artifacts.server_rows(
                    n, f, q.get(n, {}).get("unit", ""), q.get(n, {}).get("kind", "other")
                )
                for n, f in self.rd.metrics().items()
            ]
            tl = artifacts.build_timeline(client, server, self.rd.marks(), origin)
            self.rd.save_timeline(tl)
            self.figures = {"throughput": plots.throughput(tl), "latency": plots.latency(tl)}
            if (tl["kind"] == "resource").any():
                self.figures["resources"] = plots.resources(tl)
            self.figure_files = {n: self.rd.save_figure(n, f) for n, f in self.figures.items()}
            return tl

    def finish(self) -> str:
        """Tear down (unless kept), set the final status from the verdicts, render the report."""
        with self._stage("finish"):
            self._record_fingerprint()  # when there was no load stage to record it
            self._teardown()
            status = artifacts.run_status(self.verdicts)
            bad = [
                f"{v.name}: {v.status}" for v in self.verdicts if v.status in ("fail", "unknown")
            ]
            self.rd.finish(status, error="; ".join(bad) if bad else None)
        self.closed = True
        atexit.unregister(self._at_exit)
        self._render()
        self.progress(f"[{self.rd.run_id}] {status}: {self.rd.path}")
        return status

    def raise_for_checks(self) -> None:
        """Raise CheckFailed when a check failed: AFTER everything was saved."""
        from workbench.checks import raise_for_verdicts

        raise_for_verdicts(self.verdicts)

    def execute(self) -> str:
        """All stages in order; returns the final status (checks are not raised)."""
        self.stack_up()
        self.pre_checks()
        self.load()
        self.run()
        self.post_checks()
        self.collect_metrics()
        self.build_timeline()
        return self.finish()


# ---- helpers --------------------------------------------------------------------------------------
def interval_frame(result: Any) -> pd.DataFrame:
    """Per-interval rows plus latency: the exact interval mean (from cumulative count × mean) and
    the cumulative p50/p99 that YCSB status blocks carry."""
    import pandas as pd

    iv = result.intervals_frame()
    rows = []
    prev: dict[str, tuple[float, float]] = {}
    for block in result.status_blocks:
        if block.t_s is None:
            continue
        for r in block.rows:
            n, avg = r.count, r.avg_us
            interval_avg = None
            if n is not None and avg is not None and block.cumulative:
                pn, pavg = prev.get(r.operation, (0.0, 0.0))
                if n > pn:
                    interval_avg = (n * avg - pn * pavg) / (n - pn)
                prev[r.operation] = (float(n), float(avg))
            rows.append(
                {
                    "t_s": block.t_s,
                    "operation": r.operation,
                    "interval_avg_us": interval_avg,
                    "p50_us": r.p50_us,
                    "p99_us": r.p99_us,
                }
            )
    if iv.empty or not rows:
        return iv
    lat = pd.DataFrame(rows).drop_duplicates(["t_s", "operation"], keep="last")
    return iv.merge(lat, on=["t_s", "operation"], how="left")


def client_summary(rec: PhaseRecord, params: RunParams) -> ClientSummary:
    """The checks' view of a YCSB phase: successful ops and errors by operation, client CPU."""
    outcome = rec.outcome
    ops: dict[str, int] = {}
    errors: dict[str, int] = {}
    total = None
    for r in outcome.result.final:
        if r.count is None or r.kind == "intended":
            continue
        if r.operation == "TOTAL":
            total = r.count
        elif r.kind == "error":
            errors[r.base_operation] = r.count
        else:
            ops[r.operation] = r.count
    return ClientSummary(
        operations=ops,
        errors=errors,
        run_seconds=outcome.result.run_seconds,
        total=total,
        threads=params.threads,
        target_ops=float(params.target) if params.target else None,
        cpu_seconds=rec.cpu_seconds,
        cpu_cores=rec.cpu_cores,
    )


class ContainerCpu:
    """CPU time of a one-off compose container while it runs, from the engine's stats API.

    Sampled once a second on a background thread (the container is removed when it exits, so the
    last sample is the figure: it can miss up to a second of CPU). `seconds`/`cores` stay None
    when the engine's socket is not reachable: the client-saturation check then says `unknown`.
    """

    def __init__(self, project: str, service: str, socket: str = "/var/run/docker.sock") -> None:
        self.project, self.service, self.socket = project, service, socket
        self.seconds: float | None = None
        self.cores: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ycsb-cpu", daemon=True)

    def __enter__(self) -> ContainerCpu:
        if os.path.exists(self.socket):
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        import json

        import httpx

        labels = [
            f"com.docker.compose.project={self.project}",
            f"com.docker.compose.service={self.service}",
            "com.docker.compose.oneoff=True",
        ]
        transport = httpx.HTTPTransport(uds=self.socket)
        with (
            contextlib.suppress(Exception),
            httpx.Client(transport=transport, base_url="http://docker", timeout=5.0) as http,
        ):
            cid = None
            while not self._stop.is_set():
                if cid is None:
                    found = http.get(
                        "/containers/json", params={"filters": json.dumps({"label": labels})}
                    ).json()
                    cid = found[0]["Id"] if found else None
                if cid is not None:
                    r = http.get(f"/containers/{cid}/stats", params={"stream": "false"})
                    if r.status_code == 200:
                        cpu = r.json().get("cpu_stats", {})
                        total = cpu.get("cpu_usage", {}).get("total_usage")
                        if total:
                            self.seconds = total / 1e9
                            self.cores = float(cpu.get("online_cpus") or os.cpu_count() or 1)
                self._stop.wait(0.5 if cid is None else 1.0)


def engine_versions() -> dict[str, Any]:
    from workbench import proc

    out: dict[str, Any] = {}
    for key, argv in (
        ("engine", ["docker", "version", "--format", "{{.Server.Version}}"]),
        ("compose", ["docker", "compose", "version", "--short"]),
    ):
        with contextlib.suppress(WorkbenchError):
            r = proc.run(argv, timeout=20, check=False)
            out[key] = r.stdout.strip() if r.returncode == 0 else None
    return out


def _compose_services(manifest: Manifest) -> set[str]:
    import yaml

    with contextlib.suppress(Exception):
        data = yaml.safe_load(manifest.compose_file.read_text())
        return set((data or {}).get("services", {}))
    return set()


def _safe(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception:  # best effort: missing stays missing
        return None


SEED_POST_CHECKS = ("ycsb_traffic",)


def verification(params: VerifyParams, progress: Progress = _print) -> Benchmark:
    """The seed's checks: the subject's pre checks, then a small YCSB load + run judged by the
    traffic check (H4), on a stack started here or on a running project (`params.project`)."""
    run = RunParams(
        subject=params.subject,
        workload="a",
        recordcount=200,
        operationcount=1000,
        threads=2,
        keep_stack=params.keep_stack,
        run_id=params.run_id or new_run_id(Path(params.subject).name, "verify"),
        results_dir=params.results_dir,
    )
    return Benchmark(
        run, progress=progress, kind="verify", project=params.project, post_checks=SEED_POST_CHECKS
    )


def attach(subject: str, project: str = "") -> Stack:
    """A handle on a running stack of `subject` (the newest workbench project when not named)."""
    from workbench.stack import Stack, running_projects

    manifest = load_manifest(subject)
    if not project:
        running = sorted(running_projects(prefix=manifest.project_prefix + "-"))
        if len(running) != 1:
            found = ", ".join(running) or "none"
            raise StackError(
                f"need exactly one running {manifest.name} stack to attach to, found: {found}; "
                f"start one with `workbench up --subject {manifest.name}` or pass project"
            )
        project = running[0]
    return Stack.attach(manifest, project)


def explore(params: ExploreParams) -> dict[str, pd.DataFrame]:
    """Ad-hoc PromQL over the last `lookback` seconds of a running stack, as tidy frames."""
    import httpx

    from workbench.prometheus import PrometheusClient

    st = attach(params.subject, params.project)
    queries = {f"q{i}": q for i, q in enumerate(params.queries)} or {
        q.name: q.query for q in st.manifest.queries
    }
    end = time.time()
    out = {}
    with httpx.Client(timeout=10.0) as http:
        prom = PrometheusClient(http, st.endpoint("prometheus"))
        for name, q in queries.items():
            out[name] = prom.query_range(q, end - params.lookback, end, params.step)
    return out


def run_benchmark(params: RunParams, progress: Progress = _print) -> tuple[Path, str]:
    """Run every stage; return (run directory, final status). Raises only on stage errors."""
    bench = Benchmark(params, progress=progress)
    return bench.run_dir, bench.execute()


__all__ = ["Benchmark", "CheckFailed", "client_summary", "interval_frame", "run_benchmark"]
