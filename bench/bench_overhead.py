"""The workbench's own overhead per run on the etcd stack: wall time minus the YCSB processes,
stack up and stack down (target <= 3 s), broken down by stage from run.json.

    python bench/bench_overhead.py [--duration 10] [--via pipeline|cli]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 3.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--via", choices=["pipeline", "cli"], default="cli")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0, t0_unix = time.monotonic(), time.time()
        if args.via == "cli":
            exe = str(Path(sys.executable).parent / "workbench")
            subprocess.run([exe, "run", "--duration", str(args.duration), "--results", tmp,
                            "--run-id", "bench", "--quiet"], check=False)  # fmt: skip
        else:
            from workbench import Benchmark
            from workbench.params import validate_run

            p = validate_run({"duration": args.duration, "results_dir": tmp, "run_id": "bench"})
            Benchmark(p, progress=lambda _m: None).execute()
        wall = time.monotonic() - t0
        t1_unix = t0_unix + wall
        rec = json.loads((Path(tmp) / "bench" / "run.json").read_text())
        checks_file = Path(tmp) / "bench" / "checks.json"
        checks = json.loads(checks_file.read_text()) if checks_file.is_file() else []
    workload = sum((rec.get(f"ycsb_{ph}") or {}).get("wall_s", 0.0) for ph in ("load", "run"))
    up = rec.get("stack_up_s") or 0.0
    down = rec.get("teardown_s") or 0.0
    # What is subtracted is the time covered by the workload, stack up or stack down: their
    # union, so work the workbench does while the stack comes up or goes down is not counted
    # twice (the teardown runs beside the figures).
    spans = excluded_spans(rec)
    covered = union_length(spans) if spans else workload + up + down
    overhead = wall - covered
    print(f"status {rec['status']}, via {args.via}, run duration {args.duration:g} s")
    for v in checks if isinstance(checks, list) else []:
        if v.get("status") in ("fail", "unknown"):
            print(f"  check {v.get('name')}: {v.get('status')}: {v.get('summary')}")
    print(f"wall {wall:.1f} s: workload {workload:.1f}, stack up {up:.1f}, stack down {down:.1f} "
          f"(together, overlaps once: {covered:.1f}); overhead {overhead:.1f} s "
          f"(target <= {TARGET_S} s)")  # fmt: skip
    print("  where the overhead went (time not covered by workload, stack up or down):")
    marks = [("before the first stage (CLI, papermill, kernel start)", t0_unix, None)]
    marks += [(f"stage {st['name']}", st["started"], st["ended"]) for st in rec["stages"]]
    ends = [st["ended"] for st in rec["stages"]]
    marks.append(
        ("after the last stage (report, kernel exit, CLI)", max(ends or [t0_unix]), t1_unix)
    )
    for i, (name, a, b) in enumerate(marks):
        if b is None:  # up to the next mark
            b = marks[i + 1][1] if i + 1 < len(marks) else t1_unix
        total = b - a
        free = total - covered_within(spans, a, b)
        print(f"    {name:<56} {total:6.2f} s, of it overhead {free:5.2f} s")
    settle = rec.get("settle_after_load") or {}
    if settle:
        print(f"  settle after the load: waited {settle.get('waited_s', 0):.2f} s for a scrape")
    for v in checks if isinstance(checks, list) else []:
        server = (v.get("evidence") or {}).get("server") or {}
        if v.get("name") == "counts_agree" and "settle_s" in server:
            print(
                f"  settle after the run: counters read {server['settle_s']:.2f} s past the window"
            )
    return 0 if overhead <= TARGET_S else 1


def excluded_spans(rec: dict) -> list[tuple[float, float]]:
    """(start, end) Unix seconds of stack up, each YCSB process and stack down, from run.json."""
    spans = []
    up = rec.get("stack_up") or {}
    if up.get("started_unix") and up.get("healthy_unix"):
        spans.append((up["started_unix"], up["healthy_unix"]))
    for ph in ("load", "run"):
        y = rec.get(f"ycsb_{ph}") or {}
        if not (y.get("launched_unix") and y.get("ended_unix")):
            continue
        gate = y.get("gate") or {}
        if gate.get("ready_unix") and gate.get("released_unix"):  # idle, waiting for the settle
            spans.append((y["launched_unix"], gate["ready_unix"]))
            spans.append((gate["released_unix"], y["ended_unix"]))
        else:
            spans.append((y["launched_unix"], y["ended_unix"]))
    down = rec.get("teardown") or {}
    if down.get("started_unix") and down.get("ended_unix"):
        spans.append((down["started_unix"], down["ended_unix"]))
    return spans


def covered_within(spans: list[tuple[float, float]], a: float, b: float) -> float:
    return union_length([(max(x, a), min(y, b)) for x, y in spans if min(y, b) > max(x, a)])


def union_length(spans: list[tuple[float, float]]) -> float:
    total, reach = 0.0, float("-inf")
    for a, b in sorted(spans):
        if b > reach:
            total += b - max(a, reach)
            reach = b
    return total


if __name__ == "__main__":
    sys.exit(main())
