"""The fixed cost of a run beyond its workload: attached to a held stack vs a stack of its own.

    flock /tmp/wb-docker.lock .venv/bin/python bench/bench_attach.py        # 3 + 3 runs of 5 s
    flock /tmp/wb-docker.lock .venv/bin/python bench/bench_attach.py --runs 5 --duration 3

Side by side, interleaved (per-run, attached, per-run, ...), on the etcd subject:
  per-run   a campaign run as today (`stack = "per-run"`): `supervisor.execute_run`, the whole
            `workbench run` (record, stack prestart, papermill kernel, load, run, checks, metrics,
            teardown, report)
  attached  a run of `stack = "per-campaign"`: `HeldStack.execute`, in this process, on one stack
            brought up (and loaded) before the first run; health re-checked before each run
Per run: wall (the executor call) and workload (the YCSB phases' own wall, load + run, from
run.json); fixed cost = wall - workload. The held stack's own start and teardown are printed
apart (paid once per campaign). Setup (image builds) is done before timing starts.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench import provision
from workbench.artifacts import RunDir
from workbench.manifest import load_manifest
from workbench.params import validate_run
from workbench.run import supervisor
from workbench.run.attached import HeldStack

Executor = Callable[[dict[str, Any], str, Path], Path]


def workload_s(run_dir: Path) -> float:
    """The YCSB phases' wall time (load + run) as the run record has it."""
    rec = RunDir(run_dir).record
    return sum(p.wall_s or 0.0 for p in rec.phases.values())


def timed(ex: Executor, values: dict[str, Any], run_id: str, results: Path) -> tuple[float, float]:
    t0 = time.perf_counter()
    run_dir = ex(values, run_id, results)
    wall = time.perf_counter() - t0
    rd = RunDir(run_dir)
    print(f"  {run_id}: {rd.status}, wall {wall:.1f} s, workload {workload_s(run_dir):.1f} s")
    return wall, workload_s(run_dir)


def summary(label: str, rows: list[tuple[float, float]]) -> float:
    fixed = [w - k for w, k in rows]
    med = statistics.median(fixed)
    print(
        f"{label:<9} runs {len(rows)}: wall median {statistics.median(w for w, _ in rows):.1f} s,"
        f" fixed cost per run median {med:.2f} s (min {min(fixed):.2f}, max {max(fixed):.2f})"
    )
    return med


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="runs of each kind")
    ap.add_argument("--duration", type=float, default=5.0, help="run phase seconds")
    ap.add_argument("--results", type=Path, help="results folder (default: a temporary one)")
    args = ap.parse_args()
    manifest = load_manifest("etcd")
    provision.setup([manifest], lambda m: None)
    results = args.results or Path(tempfile.mkdtemp(prefix="bench-attach-"))
    values = validate_run(
        {"subject": "etcd", "duration": args.duration, "recordcount": 300, "threads": 4}
    ).to_dict()
    per_run: list[tuple[float, float]] = []
    held_rows: list[tuple[float, float]] = []
    t0 = time.perf_counter()
    with HeldStack(manifest, results / "held", progress=print) as held:
        up_s = time.perf_counter() - t0
        for i in range(args.runs):
            per_run.append(timed(supervisor.execute_run, values, f"per-run-{i}", results))
            held_rows.append(timed(held.execute, values, f"attached-{i}", results))
        t1 = time.perf_counter()
    down_s = time.perf_counter() - t1
    print(f"held stack: up {up_s:.1f} s, down {down_s:.1f} s (once per campaign)")
    a = summary("per-run", per_run)
    b = summary("attached", held_rows)
    print(f"fixed cost per run: per-run {a:.2f} s -> attached {b:.2f} s (target <= 3 s)")
    print(results)


if __name__ == "__main__":
    main()
