"""`workbench run | report | ls | lab`: the main job, its reports, the list of runs, JupyterLab.

`run` validates every parameter before anything starts, executes `notebooks/benchmark.ipynb` with
papermill into the run directory (the executed notebook is `notebook.ipynb` there), prints each
stage as it goes, renders `report.html`, updates `results/index.html`, prints the run directory
and exits 0 (passed), 1 (a check failed) or 2 (error, unknown verdicts, aborted).
If the notebook's kernel dies or the user presses Ctrl-C, this process finishes the run record
itself: status, container logs, teardown of the stack, and a report that shows what happened.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

REPO = Path(__file__).resolve().parents[3]
NOTEBOOKS = REPO / "notebooks"
EXIT_CODES = {"passed": 0, "failed": 1}


def register(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="the main job: run benchmark.ipynb on a subject, write a run directory and report",
    )
    p.add_argument("--subject", default="etcd", help="subject name or directory (default: etcd)")
    p.add_argument("--workload", default="a", help="YCSB workload letter (default: a)")
    p.add_argument(
        "-p",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a run parameter (threads=8, keep_stack=true) or a YCSB property in YCSB's own "
        "names (recordcount=10000, requestdistribution=zipfian); repeatable",
    )
    p.add_argument("--duration", type=float, help="run phase seconds (default 20)")
    p.add_argument("--threads", type=int, help="client threads")
    p.add_argument("--target", type=int, help="target ops/s (0 = unthrottled)")
    p.add_argument("--results", help="results folder (default: ./results)")
    p.add_argument("--run-id", help="run id (default: UTC time, subject, workload, random)")
    p.add_argument("--keep-stack", action="store_true", default=None, help="leave the stack up")
    p.add_argument("--quiet", action="store_true", help="print only the run directory")
    p.add_argument(
        "--no-setup",
        action="store_true",
        help="skip provisioning (engine, Compose, images); by default `workbench setup` runs "
        "first, which is quick when nothing is missing",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("report", help="re-render report.html of a run directory (no stack needed)")
    p.add_argument("run_dir", type=Path, help="a run directory (holds run.json)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("ls", help="list runs: subject, workload, verdict, throughput, p99")
    p.add_argument("--results", type=Path, default=Path("results"), help="results folder")
    p.add_argument("--index", action="store_true", help="also rewrite results/index.html")
    p.set_defaults(func=cmd_ls)

    p = sub.add_parser("lab", help="start JupyterLab on the notebooks (bound to 127.0.0.1)")
    p.add_argument("--port", type=int, default=8888)
    p.add_argument("--notebooks", type=Path, default=NOTEBOOKS)
    p.set_defaults(func=cmd_lab)


PROGRESS_LINE = re.compile(
    r"^(\[[^\]]+\] |  (pre|post) |  (load|run): |  query |starting |stack |keeping |"
    r"  [\w-]+: (healthy|starting|running|unhealthy|created|exited))"
)


class _Progress(logging.Handler):
    """papermill logs every cell output; print the pipeline's progress lines as they come
    (stages, verdicts, YCSB totals, stack health), not the tables a notebook reader sees."""

    def __init__(self, quiet: bool) -> None:
        super().__init__()
        self.quiet = quiet

    def emit(self, record: logging.LogRecord) -> None:
        if self.quiet:
            return
        for line in record.getMessage().splitlines():
            if PROGRESS_LINE.match(line):
                print(line.rstrip(), flush=True)


class _Interrupts:
    """Ctrl-C or SIGTERM while the notebook runs. The kernel lives in its own session and never
    sees the terminal's Ctrl-C, so the first signal is forwarded to it as SIGINT: the pipeline
    stops its stage, records `aborted`, tears the stack down and renders the report itself.
    A second signal (or no kernel to forward to) interrupts this process: `salvage` then."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        kernels = kernel_pids(os.getpid())
        if self.count == 1 and kernels:
            print("interrupting the run: the stack is being removed (again to force)", flush=True)
            for pid in kernels:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGINT)
            return
        raise KeyboardInterrupt(f"signal {signum}")


def kernel_pids(parent: int) -> list[int]:
    """Jupyter kernels started by this process."""
    import psutil

    out = []
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process(parent).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if any("ipykernel" in part for part in child.cmdline()):
                    out.append(child.pid)
    return out


def cmd_run(args: argparse.Namespace) -> int:
    from workbench.artifacts import RunDir
    from workbench.params import new_run_id, run_params_from_cli

    params = run_params_from_cli(
        args.assignments,
        subject=args.subject,
        workload=args.workload,
        duration=args.duration,
        threads=args.threads,
        target=args.target,
        results_dir=args.results,
        run_id=args.run_id,
        keep_stack=args.keep_stack,
    )
    import dataclasses

    from workbench.manifest import load_manifest

    manifest = load_manifest(params.subject)
    if not args.no_setup:  # a fresh machine: engine, Compose, base and subject images
        from workbench import provision

        provision.setup([manifest], (lambda _m: None) if args.quiet else _say)
    results = Path(params.results_dir).resolve()
    run_id = params.run_id or new_run_id(manifest.name, params.workload)
    params = dataclasses.replace(params, run_id=run_id, results_dir=str(results))
    rd = RunDir.create(results, run_id, manifest.name, params.to_dict())
    if not args.quiet:
        print(f"run {run_id}: {manifest.name}, workload {params.workload} -> {rd.path}", flush=True)

    handler = _Interrupts()
    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        _execute(
            params.to_dict(), rd.path, quiet=args.quiet, before=lambda: _prestart(manifest, rd)
        )
    finally:
        for sig, previous in old.items():
            signal.signal(sig, previous)
    return finish(rd.path, quiet=args.quiet)


def _say(msg: str) -> None:
    print(f"setup: {msg}", flush=True)


def _prestart(manifest: Any, rd: Any) -> None:
    """Start creating the stack now, while papermill imports and the kernel starts (about 3 s
    measured): the notebook's stack_up adopts the project from run.json and waits for health.
    Recorded first, so a run that never reaches the notebook is still torn down (salvage)."""
    import time

    from workbench.stack import Stack

    st = Stack(manifest, run_dir=rd.path)
    rd.update(project=st.project, ports=st.ports)
    started = time.time()
    try:
        st.prestart()
    except Exception as exc:  # e.g. no docker CLI: the notebook's own stack_up says it properly
        print(f"workbench: could not pre-start the stack ({exc}); the notebook starts it")
        return
    rd.update(prestart={"project": st.project, "started_unix": started})


def _execute(
    parameters: dict[str, Any],
    run_dir: Path,
    *,
    quiet: bool,
    before: Callable[[], None] | None = None,
) -> None:
    """Execute benchmark.ipynb into run_dir/notebook.ipynb; never raises for a failed run.
    `before` runs first, under the same salvage on Ctrl-C or error."""
    log = logging.getLogger("papermill")
    handler = _Progress(quiet)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        if before is not None:
            before()
        # papermill -> nbformat -> jsonschema imports rfc3987_syntax when it is installed
        # (JupyterLab brings it), which compiles a grammar at import: 1.5 s of this command's
        # 2.1 s papermill import, measured. It only backs jsonschema's "iri" format check, which
        # nbformat's notebook validation does not use (no format checker): do without it here.
        if "jsonschema" not in sys.modules:
            sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
        import papermill

        papermill.execute_notebook(
            str(NOTEBOOKS / "benchmark.ipynb"),
            str(run_dir / "notebook.ipynb"),
            parameters=parameters,
            log_output=True,
            progress_bar=False,
            cwd=str(REPO),
            kernel_name="python3",
            # no graceful kernel exit (0.3 s measured): its atexit safety net is replaced by the
            # salvage below, which tears the stack down when the run record was left open
            shutdown_kernel="immediate",
        )
        salvage(run_dir, "error", "the notebook ended without finishing the run record")
    except KeyboardInterrupt:
        salvage(run_dir, "aborted", "interrupted (Ctrl-C or SIGTERM) while the notebook ran")
    except Exception as exc:
        from papermill.exceptions import PapermillExecutionError

        if not isinstance(exc, PapermillExecutionError):  # DeadKernelError, CellTimeoutError..
            salvage(run_dir, "error", f"{type(exc).__name__}: {exc}")
        else:  # a stage or a check failed: the notebook saved everything first (else: salvage)
            first = (exc.evalue or "").strip().splitlines()[:1]
            salvage(run_dir, "error", f"notebook stopped: {exc.ename}: {first[0] if first else ''}")
            if not quiet:
                print(
                    f"notebook stopped: {exc.ename}: {first[0][:300] if first else ''}", flush=True
                )
    finally:
        log.removeHandler(handler)


def salvage(run_dir: Path, status: str, message: str) -> None:
    """The notebook could not finish its own record (kernel died, Ctrl-C here): do it from
    outside. Tear down the run's stack (logs first), mark the run, keep the verdicts written."""
    from workbench.artifacts import RunDir

    rd = RunDir(run_dir)
    if rd.status != "running":
        return  # the pipeline inside the kernel already finished the record
    error = message
    project = rd.record.get("project")
    if project and not rd.record.get("attached"):
        try:
            from workbench.manifest import load_manifest
            from workbench.stack import Stack

            st = Stack.attach(load_manifest(rd.record["params"]["subject"]), project)
            with contextlib.suppress(Exception):
                st.capture_logs(rd.logs_dir)
            st.down()
        except Exception as exc:
            error += f"\n(teardown of {project} failed: {exc})"
    rd.reload()
    if rd.status == "running":
        rd.finish(status, error=error)


def _rendered_after_finish(run_dir: Path) -> bool:
    """report.html and the index were written after run.json's last change."""
    try:
        rec = (run_dir / "run.json").stat().st_mtime_ns
        return all(
            p.stat().st_mtime_ns >= rec
            for p in (run_dir / "report.html", run_dir.parent / "index.html")
        )
    except OSError:
        return False


def finish(run_dir: Path, *, quiet: bool = False) -> int:
    """Render the report and the index, print the run directory, map the status to an exit code.
    When the pipeline already rendered both after the run's last record (the normal end), this
    reads its summary from run.json and imports nothing heavy (pandas, matplotlib: ~1 s)."""
    from workbench.artifacts import RunDir

    rd = RunDir(run_dir)
    if rd.status == "running":  # the kernel ended without finishing or raising: never "passed"
        salvage(run_dir, "error", "the notebook ended without finishing the run")
        rd.reload()
    summary = rd.record.get("summary") or {}
    if not _rendered_after_finish(rd.path) or "throughput" not in summary:
        from workbench import report

        report.render(rd.path)
        report.render_index(rd.path.parent)
        s = report.summarize(rd)
        summary = {"throughput": s.throughput, "p99_ms": s.p99_ms}
    if not quiet:
        p99 = summary.get("p99_ms")
        print(
            f"{rd.status}: {summary.get('throughput') or 0:,.1f} ops/s, p99 "
            f"{'—' if p99 is None else f'{p99:.2f} ms'}; report {rd.path / 'report.html'}"
        )
    print(rd.path)
    return EXIT_CODES.get(rd.status, 2)


def cmd_report(args: argparse.Namespace) -> int:
    from workbench import report

    out = report.render(args.run_dir)
    report.render_index(args.run_dir.resolve().parent)
    print(out)
    return 0


def cmd_ls(args: argparse.Namespace) -> int:
    from workbench import report

    runs = report.list_runs(args.results)
    if args.index:
        report.render_index(args.results)
    if not runs:
        print(f"no runs in {args.results}")
        return 0
    print(report.format_runs(runs))
    return 0


def cmd_lab(args: argparse.Namespace) -> int:
    argv = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={args.port}",
        f"--ServerApp.root_dir={args.notebooks}",
        "--no-browser",
    ]
    print(f"JupyterLab on http://127.0.0.1:{args.port}/ (notebooks in {args.notebooks})")
    try:
        return subprocess.call(argv, cwd=REPO)
    except KeyboardInterrupt:
        return 0
