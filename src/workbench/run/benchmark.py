"""The conductor: the only place that knows the order of a benchmark's stages.

    stack up → pre checks → YCSB load → YCSB run → post checks → metrics → timeline + figures
    → teardown (unless kept) → report

`Benchmark` exposes each stage as a method so `benchmark.ipynb` can call them one cell at a time,
and `execute()` runs them all. Every stage saves what it has before it raises; on any failure
(stack never healthy, workload error, Ctrl-C, SIGTERM, the interpreter going away) the run gets
the right status, the container logs, the verdicts known so far and a report, and the stack is
torn down. What each stage does lives in its room: `stackctl`, `workload` (a YCSB phase through
the tool registry), `faulting`, `observe` (checks, settle, metrics, timeline), `finishing`.
"""

from __future__ import annotations

import atexit
import contextlib
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from workbench.artifacts import Fingerprint, RunDir
from workbench.artifacts.progress import EventKind
from workbench.checks import get_check, raise_for_verdicts
from workbench.errors import WorkbenchError
from workbench.manifest import Manifest, load_manifest
from workbench.model import Verdict
from workbench.params import RunParams, new_run_id
from workbench.run import faulting, finishing, observe, operating, workload
from workbench.run.stackctl import StackControl
from workbench.stack import Stack
from workbench.telemetry import HostSampler
from workbench.ycsb.tools import PhaseRecord, get_tool

Progress = Callable[[str], None]
STAGES = ("stack_up", "pre_checks", "load", "run", "post_checks", "metrics", "timeline", "finish")


def _print(msg: str) -> None:
    print(msg, flush=True)


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
        self.params, self.kind = params, kind
        self._show = progress  # the caller's own printer; every line also goes to progress.jsonl
        self.manifest: Manifest = load_manifest(params.subject)
        self.post_names = post_checks
        run_id = params.run_id or new_run_id(self.manifest.name, params.workload)
        resolved = {**params.to_dict(), "run_id": run_id}
        rd = RunDir.open_handoff(params.results_dir, run_id)  # a supervisor made it for us
        self.rd = rd or RunDir.create(
            params.results_dir, run_id, self.manifest.name, resolved, kind
        )
        self.ctl = StackControl(
            self.manifest, self.rd, self.progress, project=project, keep=params.keep_stack
        )
        self.verdicts: list[Verdict] = []
        self.phases: dict[str, PhaseRecord] = {}
        self.done: list[str] = []
        self.closed = False
        self.settled_at: float | None = None
        self.figures: dict[str, Figure] = {}
        self.figure_files: dict[str, Path] = {}
        self.faults = faulting.RunFaults.for_run(params, self.manifest)  # checked before stack up
        self.operator = operating.RunOperator.for_run(params, self.manifest, self.faults)
        self.host: HostSampler | None = None  # host CPU and other stacks, for host_contention
        # side work off the critical path: the fingerprint, pre checks beside the load
        self._side = ThreadPoolExecutor(3, thread_name_prefix="bench-side")
        self._beside: Future[list[Verdict]] | None = None
        self._fingerprint: Future[Fingerprint] | None = None
        atexit.register(self._at_exit)

    def say(self, kind: EventKind, text: str) -> None:
        """One progress event: appended to the run's progress.jsonl (the supervisor prints it
        from there) and shown by the caller's printer."""
        with contextlib.suppress(OSError):  # a full disk: the run goes on, the line is shown
            self.rd.progress.emit(kind, text)
        self._show(text)

    def progress(self, text: str) -> None:
        """A line of the stack's own (health, start, removal): an `info` event."""
        self.say("info", text)

    def warn(self, text: str) -> None:
        self.say("warning", text)

    @property
    def run_dir(self) -> Path:
        return self.rd.path

    @property
    def stack(self) -> Stack | None:
        return self.ctl.stack

    # ---- bookkeeping: one place for stage records, save-then-raise and cleanup ---------------
    def _at_exit(self) -> None:
        """The interpreter (a notebook kernel) is going away with the run unfinished."""
        if not self.closed:
            with contextlib.suppress(Exception):
                self._fail(RuntimeError("the process exited before the run finished"))

    @contextlib.contextmanager
    def _stage(self, name: str) -> Iterator[None]:
        if self.closed:
            raise WorkbenchError(f"run {self.rd.run_id} is already finished; start a new one")
        self.say("stage_start", f"[{self.rd.run_id}] stage {name} ...")
        t0 = time.monotonic()
        try:
            with self.rd.stage(name):
                yield
        except BaseException as exc:
            self._fail(exc)
            raise
        self.done.append(name)
        self.say(
            "stage_end", f"[{self.rd.run_id}] stage {name} done in {time.monotonic() - t0:.1f}s"
        )

    def _fail(self, exc: BaseException) -> None:
        """Save everything known, tear the stack down, mark the run, render the failure."""
        status = "aborted" if isinstance(exc, KeyboardInterrupt) else "error"
        message = finishing.describe(exc)
        self.say("error", f"[{self.rd.run_id}] {status}: {message.splitlines()[0][:300]}")
        for side in (
            self.operator.close,
            self.faults.close,
            self._collect_beside,
            self._record_fingerprint,
        ):
            with contextlib.suppress(Exception):
                side()
        try:
            self.ctl.down(force=True)
        except Exception as down_exc:  # keep the first error, note the second
            message += f"\n(teardown also failed: {down_exc})"
        self._close(status, message)

    def _close(self, status: str, error: str | None) -> None:
        if self.host is not None:
            self.host.stop()
        self.rd.finish(status, error=error)
        self.closed = True
        atexit.unregister(self._at_exit)
        self._side.shutdown(wait=False)
        finishing.render(self.rd, self.warn)

    def _record(self, got: list[Verdict]) -> list[Verdict]:
        self.verdicts += got
        self.rd.save_verdicts(got)
        for v in got:
            self.say("result", f"  {v.phase:<4} {v.name:<20} {v.status.upper():<8} {v.summary}")
        return got

    def _names(self, phase: str) -> list[str]:
        if phase == "post" and self.post_names is not None:
            return list(self.post_names)
        return list(self.manifest.checks.get(phase, ()))

    def _collect_beside(self) -> list[Verdict]:
        fut, self._beside = self._beside, None
        return [] if fut is None else self._record(fut.result())

    def _record_fingerprint(self) -> None:
        fut, self._fingerprint = self._fingerprint, None
        if fut is not None:
            self.rd.update(fingerprint=fut.result())

    # ---- stages --------------------------------------------------------------------------------
    def stack_up(self) -> Stack:
        """Bring the subject's stack up, health-gated; the fingerprint is taken beside."""
        with self._stage("stack_up"):
            st = self.ctl.open()
            self.host = HostSampler(st.project).start()
            self._fingerprint = self._side.submit(finishing.fingerprint, self.manifest, self.ctl)
        return st

    def pre_checks(self) -> list[Verdict]:
        """The subject's pre checks, at once. In a benchmark with a load, those that need no
        idle cluster (a probe container) run on beside the load; its stage records them."""
        with self._stage("pre_checks"):
            st, names = self.ctl.require(), self._names("pre")
            later: list[str] = []
            if self.kind == "benchmark" and "load" in self.params.phase_list:
                later = [n for n in names if get_check(n).beside_traffic]
            if later:
                self._beside = self._side.submit(observe.checks, st, self.manifest, "pre", later)
                self.say("info", f"  pre  {', '.join(later)}: running beside the load")
            now = [n for n in names if n not in later]
            return self._record(observe.checks(st, self.manifest, "pre", now))

    def _phase(self, phase: str, gate: Callable[[], None] | None = None) -> PhaseRecord:
        rec = workload.run_phase(
            phase,
            params=self.params,
            manifest=self.manifest,
            stack=self.ctl.require(),
            rd=self.rd,
            progress=lambda text: self.say("result", text),  # the tool's totals
            gate=gate,
        )
        self.phases[phase] = rec
        return rec

    def _baseline(self) -> None:
        """The idle span from healthy to the first YCSB launch (the checks subtract the server
        counters' background rate over it). Recorded, never waited for."""
        if self.ctl.healthy_at is not None and self.rd.record.baseline_window is None:
            self.rd.update(baseline_window=(self.ctl.healthy_at, time.time()))

    def load(self) -> PhaseRecord | None:
        if "load" not in self.params.phase_list:
            return None
        with self._stage("load"):
            self._baseline()
            self._start_operator()
            rec = self._phase("load")
            self._collect_beside()
            self._record_fingerprint()
            return rec

    def _start_operator(self) -> None:
        """The operator under test (and the watch on it) from before the first phase."""
        if self.operator and self.operator.run_start is None:
            self.operator.start(self.ctl.require(), self.rd)
            who = self.params.operator
            if who != "none":
                sock = (
                    " with the Docker socket (root on this host)"
                    if self.params.operator_docker
                    else ""
                )
                self.say("info", f"  operator {who} started{sock}")

    def run(self) -> PhaseRecord | None:
        """The run phase; the fault schedule (if any) starts at its t=0 and is undone on exit."""
        if "run" not in self.params.phase_list:
            return None
        with self._stage("run"):
            self._baseline()
            self._start_operator()
            load, st, rec = self.phases.get("load"), self.ctl.require(), None
            after = load.traffic_end() if load is not None else None
            gated_tool = get_tool(workload.tool_name(self.params, self.manifest)).gated
            tool_log = self.rd.ycsb_log("run") if gated_tool else None  # t=0: it is up
            try:
                with self.faults.during(st) as begin:

                    def gate() -> None:  # a gated tool starts up meanwhile; t=0 when it returns
                        if after is not None:
                            self.rd.record.settle_after_load = observe.settle(st, after)
                            self.settled_at = time.time()
                        begin(tool_log)

                    gated = after is not None or bool(self.faults)
                    try:
                        rec = self._phase("run", gate=gate if gated else None)
                    finally:
                        self.operator.phase_ended()  # before the faults are undone
                        self.rd.save()
            except BaseException:  # Ctrl-C, errors: the fault records as they are, no waiting
                with contextlib.suppress(Exception):
                    self.faults.finish(self.rd, None, None)
                raise
            self.faults.finish(self.rd, rec, st)
            self._finish_operator(rec)
            return rec

    def _finish_operator(self, rec: PhaseRecord | None) -> None:
        doc = self.operator.finish(self.rd, self.ctl.stack, self.faults, rec)
        self.operator.close()
        if doc is not None and doc.scores is not None:
            for f in doc.scores.faults:
                back = f"recovered after {f.recovery_s:.1f} s" if f.recovered else "not recovered"
                seen = (
                    "not detected" if f.detect_s is None else f"detected after {f.detect_s:.1f} s"
                )
                self.say("result", f"  operator {f.label}: {seen}, {back}")

    def post_checks(self) -> list[Verdict]:
        with self._stage("post_checks"):
            if self.operator.run_start is not None and self.operator.doc is None:
                self._finish_operator(None)  # no run phase: the watch ends with the load
            ctx = observe.post_context(self.phases, self.params, self.settled_at, self.rd)
            got = observe.checks(
                self.ctl.require(),
                self.manifest,
                "post",
                self._names("post"),
                **ctx,
                faults=self.faults.observation(),
                operator=self.operator.observation(),
                host=self.host,
            )
            return self._record(got)

    def collect_metrics(self) -> dict[str, pd.DataFrame]:
        """Every manifest query over the run into metrics/."""
        with self._stage("metrics"):
            frames, errors = observe.metrics(
                self.ctl.require(), self.manifest, self.phases, self.rd, self.params.prometheus_step
            )
            for name, err in errors.items():
                self.warn(f"  query {name} failed: {err.splitlines()[0]}")
            return frames

    def build_timeline(self) -> pd.DataFrame:
        """Timeline and figures; nothing after the metrics needs the stack, so it goes down
        meanwhile (finish waits)."""
        with self._stage("timeline"):
            self.ctl.down_in_background()
            tl, self.figures = observe.timeline(self.rd, self.phases)
            self.figure_files = finishing.save_figures(self.rd, self.figures)
            return tl

    def finish(self) -> str:
        """Tear down (unless kept), set the final status from the verdicts, render the report."""
        with self._stage("finish"):
            self._record_fingerprint()  # when there was no load stage to record it
            self.ctl.down()
            status, error = finishing.status(self.verdicts)
        self._close(status, error)
        self.say("result", f"[{self.rd.run_id}] {status}: {self.rd.path}")
        return status

    def raise_for_checks(self) -> None:
        """Raise CheckFailed when a check failed: AFTER everything was saved."""
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
