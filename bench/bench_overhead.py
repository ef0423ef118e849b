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
        t0 = time.monotonic()
        if args.via == "cli":
            exe = str(Path(sys.executable).parent / "workbench")
            subprocess.run([exe, "run", "--duration", str(args.duration), "--results", tmp,
                            "--run-id", "bench", "--quiet"], check=False)  # fmt: skip
        else:
            from workbench.params import validate_run
            from workbench.pipeline import Benchmark

            p = validate_run({"duration": args.duration, "results_dir": tmp, "run_id": "bench"})
            Benchmark(p, progress=lambda _m: None).execute()
        wall = time.monotonic() - t0
        rec = json.loads((Path(tmp) / "bench" / "run.json").read_text())
        checks_file = Path(tmp) / "bench" / "checks.json"
        checks = json.loads(checks_file.read_text()) if checks_file.is_file() else []
    stages = {s["name"]: s["ended"] - s["started"] for s in rec["stages"]}
    workload = sum((rec.get(f"ycsb_{ph}") or {}).get("wall_s", 0.0) for ph in ("load", "run"))
    up = rec.get("stack_up_s") or 0.0
    down = rec.get("teardown_s") or 0.0
    overhead = wall - workload - up - down
    print(f"status {rec['status']}, via {args.via}, run duration {args.duration:g} s")
    for v in checks if isinstance(checks, list) else []:
        if v.get("status") in ("fail", "unknown"):
            print(f"  check {v.get('name')}: {v.get('status')}: {v.get('summary')}")
    print(f"wall {wall:.1f} s = workload {workload:.1f} + stack up {up:.1f} + stack down "
          f"{down:.1f} + overhead {overhead:.1f} s (target <= {TARGET_S} s)")  # fmt: skip
    for name, secs in stages.items():
        print(f"  stage {name:<12} {secs:6.2f} s")
    return 0 if overhead <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
