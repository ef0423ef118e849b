"""One stack for many runs: a campaign's `stack = "per-campaign"` and findmax's probes.

`with HeldStack(manifest, logs_dir) as held:` brings the subject's stack up (health-gated) and
takes it down on leaving the block: at the end, on an error, on Ctrl-C or SIGTERM (the stack's own
handler turns SIGTERM into KeyboardInterrupt). `held.execute(params, run_id, results_dir)` is a
campaign executor: one benchmark in this process, attached to the held stack (its health
re-checked first, its own verdicts and report, the stack never torn down by it).

The load is done once per load: the first run keeps its load phase; a later run whose load is the
same (workload, record count, tool, properties) runs its run phase only, and its recorded
parameters say so (`phases = "run"`). A run with another load loads again over the same keys.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from workbench.errors import WorkbenchError
from workbench.manifest import Manifest
from workbench.params import RunParams, validate_run
from workbench.run.benchmark import Benchmark
from workbench.stack import Stack

Progress = Callable[[str], None]
LoadKey = tuple[str, int, str, tuple[tuple[str, str], ...]]


def _quiet(_: str) -> None:
    pass


def load_key(params: RunParams) -> LoadKey:
    """What a load depends on: runs with equal keys can share one."""
    return (params.workload, params.recordcount, params.tool, tuple(sorted(params.props.items())))


class HeldStack:
    """A stack held for several attached runs (see the module's docstring)."""

    def __init__(
        self,
        manifest: Manifest,
        logs_dir: Path | None = None,
        *,
        progress: Progress = _quiet,
        run_progress: Progress = _quiet,
    ) -> None:
        self.manifest = manifest
        self.logs_dir = logs_dir  # the held stack's container logs at teardown
        self.progress, self.run_progress = progress, run_progress
        self.stack: Stack | None = None
        self.loaded: set[LoadKey] = set()
        self.runs = 0

    @property
    def project(self) -> str:
        if self.stack is None:
            raise WorkbenchError("the held stack is not up: enter the `with HeldStack(...)` block")
        return self.stack.project

    def __enter__(self) -> HeldStack:
        st = Stack(self.manifest, run_dir=self.logs_dir, progress=self.progress)
        st.__enter__()  # health-gated; on failure it tears itself down and raises
        self.stack = st
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        st, self.stack = self.stack, None
        if st is not None:
            self.progress(f"removing the held stack {st.project} after {self.runs} run(s)")
            st.__exit__(exc_type, exc, tb)

    def prepare(self, params: RunParams) -> RunParams:
        """The run's parameters on this stack: without its load phase when that load was done."""
        phases = params.phase_list
        if "load" not in phases or "run" not in phases:
            return params
        key = load_key(params)
        if key in self.loaded:
            return params.model_copy(update={"phases": "run"})
        self.loaded.add(key)  # marked before the run: a failed load is loaded again next time
        return params

    def benchmark(self, params: RunParams, **kw: Any) -> Benchmark:
        """A Benchmark attached to the held stack (not started)."""
        bench = Benchmark(self.prepare(params), project=self.project, **kw)
        self.runs += 1
        return bench

    def execute(self, values: dict[str, Any], run_id: str, results_dir: Path) -> Path:
        """One run of a campaign on the held stack; returns its directory. A failed run is
        recorded by its conductor (status `error`) and returned, as `workbench run` does; Ctrl-C:
        recorded `aborted`, and raised again for the campaign."""
        params = validate_run({**values, "run_id": run_id, "results_dir": str(results_dir)})
        bench = self.benchmark(params, progress=self.run_progress)
        try:
            bench.execute()
        except Exception:
            if "load" in bench.params.phase_list and "load" not in bench.done:
                self.loaded.discard(load_key(params))  # loaded again by the next run
            if not bench.closed:  # not a stage's error: nothing recorded it
                raise
        return bench.run_dir
