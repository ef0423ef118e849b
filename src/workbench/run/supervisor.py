"""`workbench run` around a papermill kernel: the process that owns a run from outside.

It creates the run record and hands it to the notebook's kernel, pre-starts the stack while
papermill and the kernel start, prints the kernel's progress events as they are appended to the
run's progress.jsonl (stages, verdicts, warnings, errors: typed, none matched out of a log),
forwards the first Ctrl-C/SIGTERM to the kernel (which records `aborted` and tears down itself), and, when the kernel died or was interrupted twice, finishes the
record from outside (`salvage`): container logs, teardown, status, report. Exit codes come from
the final status.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import psutil

from workbench import report
from workbench.artifacts import RunDir, is_run_dir, notebook_of
from workbench.artifacts.record import Headline, Prestart, Summary
from workbench.errors import ConfigError, WorkbenchError
from workbench.manifest import Manifest, load_manifest
from workbench.params import RunParams, new_run_id, replace, validate_run
from workbench.run import faulting
from workbench.stack import Stack, compose, running_projects

REPO = Path(__file__).resolve().parents[3]
NOTEBOOKS = REPO / "notebooks"
FOLLOW_JOIN_S = 5.0  # the last events after the kernel ended


def _print(line: str) -> None:
    print(line, flush=True)


@contextlib.contextmanager
def following(run_dir: Path, out: Callable[[str], None] | None) -> Iterator[None]:
    """Print every progress event of the run (its text, as the conductor wrote it) while the
    block runs, then the ones still unread; `out` None: print nothing (quiet)."""
    if out is None:
        yield
        return
    stop = threading.Event()
    show = out  # narrowed for the closure
    follower = threading.Thread(
        target=RunDir(run_dir).progress.follow,
        args=(lambda event: show(event.text), stop),
        name="progress",
        daemon=True,
    )
    follower.start()
    try:
        yield
    finally:
        stop.set()
        follower.join(FOLLOW_JOIN_S)


def kernel_pids(parent: int) -> list[int]:
    """Jupyter kernels started by this process."""
    out = []
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process(parent).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if any("ipykernel" in part for part in child.cmdline()):
                    out.append(child.pid)
    return out


class Interrupts:
    """Ctrl-C or SIGTERM while the notebook runs. The kernel lives in its own session and never
    sees the terminal's Ctrl-C, so the first signal is forwarded to it as SIGINT: the conductor
    stops its stage, records `aborted`, tears the stack down and renders the report itself.
    A second signal (or no kernel to forward to) interrupts this process: `salvage` then."""

    def __init__(self, kernels: Callable[[], list[int]] | None = None) -> None:
        self.count = 0
        self.signals: list[int] = []
        self.kernels = kernels or (lambda: kernel_pids(os.getpid()))

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        self.signals.append(signum)
        kernels = self.kernels()
        if self.count == 1 and kernels:
            print("interrupting the run: the stack is being removed (again to force)", flush=True)
            for pid in kernels:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGINT)
            return
        raise KeyboardInterrupt(signal.Signals(signum).name)


#: how a run's record words the signal that ended it (the kernel only ever sees a SIGINT)
SIGNAL_WORDS = {"SIGINT": "interrupted by SIGINT (Ctrl-C)", "SIGTERM": "terminated (SIGTERM)"}


def interruption(name: str, kernel_error: str | None) -> str:
    """The record's error for a run that signal `name` ended: the signal in its own words, then
    whatever the kernel said beyond its own "interrupted" line (it cannot know the signal)."""
    lines = [ln for ln in (kernel_error or "").splitlines() if ln.strip()]
    if lines and lines[0].startswith("interrupted"):
        lines = lines[1:]
    return "\n".join([SIGNAL_WORDS.get(name, f"interrupted by {name}"), *lines])


MIN_FREE_BYTES = int(float(os.environ.get("WORKBENCH_MIN_FREE_MB", "64")) * 2**20)


def check_results_dir(results: Path, min_free: int = MIN_FREE_BYTES) -> Path:
    """The results folder exists (made if missing), is a writable folder and has room for a
    run; else a clear error before anything starts."""
    results = Path(results).resolve()
    for part in (results, *results.parents):
        if part.exists() and not part.is_dir():
            raise ConfigError(
                f"the results folder {results} cannot be made: {part} is a file, not a folder"
                " (pass another --results)"
            )
    try:
        results.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the results folder {results}: {exc.strerror}") from None
    if not results.is_dir():
        raise ConfigError(f"the results folder {results} is not a directory")
    try:
        with tempfile.NamedTemporaryFile(dir=results, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise ConfigError(f"the results folder {results} is not writable: {exc.strerror}") from None
    free = shutil.disk_usage(results).free
    if free < min_free:
        raise ConfigError(
            f"the results folder {results} has {free / 2**20:.1f} MiB free; a run needs at "
            f"least {min_free / 2**20:.0f} MiB (WORKBENCH_MIN_FREE_MB)"
        )
    return results


def prepare(params: RunParams) -> tuple[RunParams, Manifest, RunDir]:
    """The run's id and absolute results folder, and its record, handed over to the kernel."""
    manifest = load_manifest(params.subject)
    results = check_results_dir(Path(params.results_dir))
    run_id = params.run_id or new_run_id(manifest.name, params.workload)
    params = replace(params, run_id=run_id, results_dir=str(results))
    rd = RunDir.create(results, run_id, manifest.name, params.to_dict(), handoff=True)
    return params, manifest, rd


def prestart(manifest: Manifest, rd: RunDir) -> None:
    """Start creating the stack now, while papermill imports and the kernel starts (about 3 s
    measured): the notebook's stack_up adopts the project from run.json and waits for health.
    Recorded first, so a run that never reaches the notebook is still torn down (salvage)."""
    st = Stack(manifest, run_dir=rd.path)
    rd.update(project=st.project, ports=st.ports)
    started = time.time()
    try:
        st.prestart()
    except Exception as exc:  # e.g. no docker CLI: the notebook's own stack_up says it properly
        print(f"workbench: could not pre-start the stack ({exc}); the notebook starts it")
        return
    rd.update(prestart=Prestart(project=st.project, started_unix=started))


Executor = Callable[[dict[str, Any], Path], None]


def papermill_execute(parameters: dict[str, Any], run_dir: Path) -> None:
    """Execute benchmark.ipynb into run_dir/notebook.ipynb (raises what papermill raises)."""
    # papermill -> nbformat -> jsonschema imports rfc3987_syntax when it is installed (JupyterLab
    # brings it), which compiles a grammar at import: 1.5 s of papermill's 2.1 s import,
    # measured. It only backs jsonschema's "iri" format check, which nbformat does not use.
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    import papermill  # here: 0.6 s, after the stack's prestart has begun

    papermill.execute_notebook(
        str(NOTEBOOKS / "benchmark.ipynb"),
        str(notebook_of(run_dir)),
        parameters=parameters,
        log_output=False,  # progress comes as events (progress.jsonl), not from cell output
        progress_bar=False,
        cwd=str(REPO),
        kernel_name="python3",
        # no graceful kernel exit (0.3 s measured): its atexit safety net is replaced by the
        # salvage below, which tears the stack down when the run record was left open
        shutdown_kernel="immediate",
        # the kernel's own warnings (its loopback TCP "without encryption" notice on every run)
        # are not the run's; its errors still show. papermill owns the kernel, so a dead one is
        # noticed (DeadKernelError) and salvaged.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )


def supervise(
    parameters: dict[str, Any],
    run_dir: Path,
    *,
    quiet: bool,
    before: Callable[[], None] | None = None,
    execute: Executor = papermill_execute,
    out: Callable[[str], None] = _print,
) -> None:
    """Run the notebook; never raises for a failed run: whatever the kernel left open is
    finished here. `before` runs first, under the same salvage on Ctrl-C or error. The kernel's
    progress events are printed with `out` as they come (not when `quiet`)."""
    with following(run_dir, None if quiet else out):
        _supervise(parameters, run_dir, quiet=quiet, before=before, execute=execute)


def _supervise(
    parameters: dict[str, Any],
    run_dir: Path,
    *,
    quiet: bool,
    before: Callable[[], None] | None,
    execute: Executor,
) -> None:
    try:
        if before is not None:
            before()
        execute(parameters, run_dir)
        salvage(run_dir, "error", "the notebook ended without finishing the run record")
    except KeyboardInterrupt as exc:
        why = str(exc) or "SIGINT"
        salvage(run_dir, "aborted", f"interrupted ({why}) while the notebook ran")
    except Exception as exc:
        ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
        if ename is None:  # DeadKernelError, CellTimeoutError, ...: not a cell's own error
            salvage(run_dir, "error", f"{type(exc).__name__}: {exc}")
        else:  # a stage or a check failed: the notebook saved everything first (else: salvage)
            lines = [ln for ln in (evalue or "").strip().splitlines() if ln.strip()][:20]
            salvage(run_dir, "error", f"notebook stopped: {ename}: " + "\n".join(lines))
            if not quiet:  # every line: "N check(s) did not pass:" is followed by which
                print(f"notebook stopped: {ename}: " + "\n  ".join(ln[:300] for ln in lines))


def salvage(run_dir: Path, status: str, message: str) -> None:
    """The kernel could not finish its own record (it died, or Ctrl-C twice): do it from
    outside. Tear down the run's stack (logs first), mark the run, keep the verdicts written."""
    rd = RunDir(run_dir)
    if rd.status != "running":
        return  # the conductor inside the kernel already finished the record
    error = message
    project = rd.record.project
    if project and rd.record.params.get("faults"):  # a dead injector's pause, stop, rules
        try:
            swept = faulting.salvage_sweep(load_manifest(rd.record.params["subject"]), project)
            if swept:
                error += f"\n(fault state repaired: {'; '.join(swept)})"
        except Exception as exc:
            error += f"\n(fault sweep of {project} failed: {exc})"
    if project and not rd.record.attached:
        try:
            st = Stack.attach(load_manifest(rd.record.params["subject"]), project)
            with contextlib.suppress(Exception):
                st.capture_logs(rd.logs_dir)
            st.down()
        except Exception as exc:
            error += f"\n(teardown of {project} failed: {exc})"
    rd.reload()
    if rd.status == "running":
        rd.update(pid=os.getpid())
        rd.finish(status, error=error)


def conclude(run_dir: Path, *, quiet: bool = False) -> int:
    """Render the report and the index when the kernel did not, print the headline and the
    run directory, map the status to an exit code."""
    rd = RunDir(run_dir)
    if rd.status == "running":  # the kernel ended without finishing or raising: never "passed"
        salvage(run_dir, "error", "the notebook ended without finishing the run")
        rd.reload()
    summary = rd.record.summary
    if not rd.rendered_after_record() or summary.throughput is None:
        try:
            report.render(rd.path)
            report.render_index(rd.path.parent)
        except Exception as exc:  # a full disk, a damaged file: the record is what counts
            print(f"workbench: the report could not be written: {exc}", file=sys.stderr)
        rd.release_reserve()
        s = report.summarize(rd)
        summary = Summary.of(s.numbers, summary.verdicts)
    if not quiet:
        print(headline(rd.status, summary, rd.report_path))
        for line in reasons(rd):
            print(f"  {line}")
    print(rd.path)
    return rd.record.exit_code()


def reasons(rd: RunDir, limit: int = 12) -> list[str]:
    """Why a run did not pass, one line each: its error and its failed or unknown verdicts."""
    if rd.status == "passed":
        return []
    out = []
    try:
        bad = [v for v in rd.verdicts() if v.status in ("fail", "unknown")]
    except WorkbenchError as exc:
        bad, out = [], [str(exc)]
    out += [f"{v.name} {v.status}: {v.summary}" for v in bad]
    if rd.record.error and not bad:
        out += [line for line in rd.record.error.splitlines() if line.strip()]
    return out[:limit]


def headline(status: str, summary: Headline, page: Path) -> str:
    """The CLI's last line: the run's headline numbers in the one wording (`headline_text`:
    service-time p99 and, with a target rate, intended-time p99, each named as such)."""
    return f"{status}: {report.headline_text(summary)}; report {page}"


def run(params: RunParams, *, quiet: bool = False, execute: Executor = papermill_execute) -> int:
    """The whole of `workbench run` after argument parsing: record, prestart, kernel, salvage,
    report, exit code."""
    params, manifest, rd = prepare(params)
    if not quiet:
        print(f"run {rd.run_id}: {manifest.name}, workload {params.workload} -> {rd.path}")
    handler = Interrupts()
    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        supervise(
            # papermill writes a tuple as its repr: list-valued parameters go as lists
            {k: list(v) if isinstance(v, tuple) else v for k, v in params.to_dict().items()},
            rd.path,
            quiet=quiet,
            before=lambda: prestart(manifest, rd),
            execute=execute,
        )
    finally:
        for sig, previous in old.items():
            signal.signal(sig, previous)
    if handler.signals:  # the kernel saw a SIGINT either way: say which signal it was
        rd.reload()
        if rd.status == "aborted":
            name = signal.Signals(handler.signals[0]).name
            rd.update(interrupted_by=name, error=interruption(name, rd.record.error))
    return conclude(rd.path, quiet=quiet)


def execute_run(params: dict[str, Any], run_id: str, results_dir: Path) -> Path:
    """One run of a campaign, exactly as `workbench run` does it; returns its directory.
    Ctrl-C ends the run (torn down, `aborted`) and is raised again for the campaign."""
    got = validate_run({**params, "run_id": run_id, "results_dir": str(results_dir)})
    code = run(got, quiet=True)
    rd = RunDir(Path(results_dir) / run_id)
    if rd.status == "aborted" and code != 0:
        raise KeyboardInterrupt("the campaign's run was interrupted")
    return rd.path


def reap_stale(manifest: Manifest, progress: Callable[[str], None] = print) -> list[str]:
    """`workbench down --stale`: every stack of the subject whose owning processes are all gone
    (a `workbench run` killed with -9 and its kernel): its run record is closed as aborted
    ("abandoned", with the pids) and its report rendered, then the stack is removed. Stacks
    started by hand (`workbench up`) and stacks of live runs are left alone."""
    out = []
    for project in sorted(running_projects(manifest.project_prefix + "-")):
        info = compose.owner(project)
        if info is None or compose.owner_alive(info):
            continue
        pids = ", ".join(str(p) for p in info.get("pids", []))
        run_dir = Path(info["run_dir"]) if info.get("run_dir") else None
        why = f"abandoned: the processes that ran it ({pids}) are gone; removed by down --stale"
        if run_dir is not None and is_run_dir(run_dir):
            salvage(run_dir, "aborted", why)
            with contextlib.suppress(Exception):
                report.render(run_dir)
                report.render_index(run_dir.parent)
        if project in running_projects(manifest.project_prefix + "-"):  # no record to salvage by
            Stack.attach(manifest, project, progress=progress).down()
        out.append(f"{project}: removed ({why})")
    return out
