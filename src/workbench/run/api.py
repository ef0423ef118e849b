"""The run layer's entry points besides the conductor: a whole benchmark in one call, the seed's
verification, a handle on a running stack, and ad-hoc PromQL against it."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pandas as pd

from workbench.errors import StackError
from workbench.manifest import load_manifest
from workbench.params import ExploreParams, RunParams, VerifyParams, new_run_id
from workbench.prometheus import PrometheusClient
from workbench.run.benchmark import Benchmark, _print
from workbench.stack import Stack, running_projects

Progress = Callable[[str], None]
SEED_POST_CHECKS = ("ycsb_traffic",)


def run_benchmark(params: RunParams, progress: Progress = _print) -> tuple[Path, str]:
    """Run every stage; return (run directory, final status). Raises only on stage errors."""
    bench = Benchmark(params, progress=progress)
    return bench.run_dir, bench.execute()


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
    """A handle on a running stack of `subject` (the only workbench project when not named)."""
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
