"""Throughput with 1, 2 and 3 generators side by side, and whether the client was the limit.

    flock /tmp/wb-docker.lock .venv/bin/python bench/bench_generators.py
    flock /tmp/wb-docker.lock .venv/bin/python bench/bench_generators.py --counts 1,3 --duration 10
    .venv/bin/python bench/bench_generators.py --merge 1,3,10,30    # the merge's cost alone

Each configuration is one `workbench run --subject etcd --workload a --generators N` (native
generator, unthrottled, the same threads per generator, its own stack). Per run: the merged
throughput and p99 (TOTAL), the generators' t=0 spread, each generator's CPU use of the host's
cores and ops/s, the client_saturation verdict (which generator was the limit) and counts_agree
(merged client counts vs etcd's counters). On a 2-core host the generators share the cores with
the cluster: read the CPU column before concluding anything about the store.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workbench.artifacts import RunDir
from workbench.ycsb.intervals import hlog_header, hlog_line, new_histogram
from workbench.ycsb.merge import merge_logs

REPO = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).parent / "workbench")


def one(n: int, duration: float, threads: int, records: int, results: Path) -> Path:
    argv = [CLI, "run", "--subject", "etcd", "--workload", "a", "--generators", str(n),
            "--duration", f"{duration:g}", "--threads", str(threads),
            "-p", f"recordcount={records}", "--no-setup", "--quiet", "--results", str(results)]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, check=False)
    if proc.returncode not in (0, 1, 2):
        raise SystemExit(f"N={n}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return Path(proc.stdout.strip().splitlines()[-1])


def describe(n: int, run_dir: Path) -> list[str]:
    rd = RunDir(run_dir)
    s, run = rd.record.summary, rd.record.phases["run"]
    verdicts = {v.name: v for v in rd.verdicts() if v.phase == "post"}
    sat, agree = verdicts.get("client_saturation"), verdicts.get("counts_agree")
    spread = f"{run.start_spread_s * 1000:.0f} ms" if run.start_spread_s is not None else "-"
    lines = [
        f"N={n}: {s.throughput or 0:,.1f} ops/s, p99 {s.p99_ms or 0:.1f} ms, t=0 spread {spread}, "
        f"counts_agree {agree.status if agree else '-'} ({agree.summary if agree else ''})",
        f"      client_saturation {sat.status if sat else '-'}: {sat.summary if sat else ''}",
    ]
    for g in run.generators or []:
        util = (
            f"{g.cpu_seconds / (g.run_seconds * g.cpu_cores):.0%} of {g.cpu_cores:g} cores"
            if g.cpu_seconds is not None and g.run_seconds and g.cpu_cores
            else "CPU not measured"
        )
        rate = (g.ops or 0) / g.run_seconds if g.run_seconds else 0.0
        lines.append(f"      g{g.index}: {rate:,.1f} ops/s, {util}")
    lines.append(f"      {run_dir}")
    return lines


def merge_cost(n: int, seconds: int, rate: int, tmp: Path) -> tuple[float, float]:
    """Seconds to merge n generators' interval logs of `seconds` 1 s intervals, 3 tags each
    (READ, UPDATE, TOTAL), `rate` latencies per generator per second (no stack: files only);
    (wall, CPU) seconds."""
    rng = random.Random(n)
    paths = []
    for g in range(n):
        lines = [hlog_header(1.8e9 + rng.random() * 0.05)]
        for i in range(seconds):
            hists = {t: new_histogram() for t in ("READ", "UPDATE", "TOTAL")}
            for _ in range(rate):
                v = int(rng.lognormvariate(9, 0.8))
                hists["READ" if rng.random() < 0.5 else "UPDATE"].record_value(v)
                hists["TOTAL"].record_value(v)
            lines += [hlog_line(t, float(i), 1.0, h) for t, h in hists.items()]
        p = tmp / f"g{g}.hlog"
        p.write_text("".join(lines))
        paths.append(p)
    t0, c0 = time.perf_counter(), time.process_time()
    merge_logs(paths, tmp / "merged.hlog", 1.0)
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--counts", default="1,2,3", help="generator counts to compare")
    ap.add_argument("--duration", type=float, default=15.0)
    ap.add_argument("--threads", type=int, default=4, help="threads per generator")
    ap.add_argument("--records", type=int, default=3000)
    ap.add_argument("--results", type=Path, help="keep run directories here (default: temporary)")
    ap.add_argument("--merge", help="only time the merge of N generators' logs: N,N,...")
    a = ap.parse_args()
    if a.merge:
        for n in (int(x) for x in a.merge.split(",")):
            with tempfile.TemporaryDirectory(prefix="wb-merge-") as tmp:
                wall, cpu = merge_cost(n, 60, 1000, Path(tmp))
            print(f"merge {n:3d} generators x 60 s x 3 tags: {wall:.2f} s wall, {cpu:.2f} s CPU")
        return
    with tempfile.TemporaryDirectory(prefix="wb-gen-") as tmp:
        results = a.results or Path(tmp)
        for n in (int(x) for x in a.counts.split(",")):
            print("\n".join(describe(n, one(n, a.duration, a.threads, a.records, results))))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
