"""Native YCSB generator throughput, and client-vs-cluster bottleneck against etcd.

    .venv/bin/python bench/bench_ycsb.py [--ops 500000] [--records 100000] [--repeat 3]
    .venv/bin/python bench/bench_ycsb.py --etcd http://127.0.0.1:2379,... [--threads 16]
    .venv/bin/python bench/bench_ycsb.py --local-etcd [--threads 16]

Default: binding `basic` (no I/O), workload A (read/update 50/50) with requestdistribution=zipfian,
one process, one thread: prints ops/s and µs per operation (best of --repeat) and exits 1 below
--min-ops (default 50,000 ops/s, the target for the generator's own cost).

With --etcd (an endpoint list) or --local-etcd (a throwaway etcd on loopback, Debian's
etcd-server), it loads and runs the same workload against etcd and reports the generator's CPU share: process CPU seconds / wall seconds, and its
CPU µs per operation. Python threads share one GIL, so a share near 1.0 (one
core busy) means the client is the bottleneck; well below 1.0 means it mostly waited on the cluster.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workbench.ycsb.native import NativeClient
from workbench.ycsb.native.props import load_properties

REPO = Path(__file__).resolve().parents[1]
WORKLOAD_A = REPO / "subjects" / "etcd" / "workloads" / "workloada"


def props_for(ops: int, records: int, threads: int, extra: dict[str, str]) -> dict[str, str]:
    props = load_properties([WORKLOAD_A])
    props.update(
        {
            "requestdistribution": "zipfian",
            "recordcount": str(records),
            "operationcount": str(ops),
            "threadcount": str(threads),
            "measurement.interval": "3600",
            **extra,
        }
    )
    return props


def one_run(db: str, phase: str, props: dict[str, str]) -> dict[str, float]:
    sink: list[str] = []
    client = NativeClient(db, props, phase, write=sink.append, seed=1)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    report = client.run()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    total = next(r for r in report.final if r.operation == "TOTAL")
    errors = sum(r.count or 0 for r in report.final if r.operation.endswith("_ERROR"))
    return {
        "ops": float(report.ops_done),
        "wall_s": wall,
        "run_s": report.run_seconds,
        "ops_per_s": report.ops_done / report.run_seconds,
        "us_per_op": report.run_seconds / report.ops_done * 1e6,
        "cpu_s": cpu,
        "cpu_share": cpu / wall,
        "p50_us": float(total.p50_us or 0),
        "p99_us": float(total.p99_us or 0),
        "errors": float(errors),
    }


def bench_basic(args: argparse.Namespace) -> int:
    props = props_for(args.ops, args.records, 1, {})
    runs = [one_run("basic", "run", props) for _ in range(args.repeat)]
    best = max(runs, key=lambda r: r["ops_per_s"])
    ok = best["ops_per_s"] >= args.min_ops
    print(
        json.dumps(
            {
                "bench": "native-ycsb-basic",
                "workload": "A, zipfian, 1 thread, 1 process",
                "ops": args.ops,
                "records": args.records,
                "ops_per_s": round(best["ops_per_s"]),
                "us_per_op": round(best["us_per_op"], 2),
                "all_ops_per_s": [round(r["ops_per_s"]) for r in runs],
                "min_ops_per_s": args.min_ops,
                "ok": ok,
            }
        )
    )
    return 0 if ok else 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_local_etcd(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("etcd") or "/usr/bin/etcd"
    if not os.path.exists(binary):
        sys.exit("etcd not found: apt-get install etcd-server")
    cport, pport = _free_port(), _free_port()
    url = f"http://127.0.0.1:{cport}"
    log = (root / "etcd.log").open("wb")
    proc = subprocess.Popen(
        [
            binary,
            f"--data-dir={root / 'data'}",
            f"--listen-client-urls={url}",
            f"--advertise-client-urls={url}",
            f"--listen-peer-urls=http://127.0.0.1:{pport}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{pport}",
            f"--initial-cluster=default=http://127.0.0.1:{pport}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    sys.exit("local etcd did not become healthy")


def bench_etcd(args: argparse.Namespace, endpoints: str) -> int:
    base = {"etcd.endpoints": endpoints}
    load = props_for(args.etcd_ops, args.etcd_records, args.threads, base)
    loaded = one_run("etcd", "load", load)
    runs = {}
    for name in ("run",):
        ran = one_run(
            "etcd", "run", props_for(args.etcd_ops, args.etcd_records, args.threads, base)
        )
        ran["bottleneck"] = (  # type: ignore[assignment]
            "client-bound (generator near one full core: add processes, not threads)"
            if ran["cpu_share"] >= 0.85
            else "cluster-bound (generator mostly waiting on etcd)"
        )
        ran["client_cpu_us_per_op"] = ran["cpu_s"] / ran["ops"] * 1e6
        runs[name] = {k: round(v, 3) if isinstance(v, float) else v for k, v in ran.items()}
    print(
        json.dumps(
            {
                "bench": "native-ycsb-etcd",
                "endpoints": endpoints,
                "threads": args.threads,
                "cores": os.cpu_count(),
                "load": {k: round(v, 3) for k, v in loaded.items()},
                "run": runs,
            }
        )
    )
    bad = loaded["errors"] or any(r["errors"] for r in runs.values())
    return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--ops", type=int, default=500_000)
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--min-ops", type=float, default=50_000)
    ap.add_argument("--etcd", help="etcd endpoint list (http://host:port,...)")
    ap.add_argument("--local-etcd", action="store_true", help="start a throwaway etcd on loopback")
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--etcd-ops", type=int, default=20_000)
    ap.add_argument("--etcd-records", type=int, default=10_000)
    args = ap.parse_args()
    if args.local_etcd:
        with tempfile.TemporaryDirectory() as tmp:
            proc, url = start_local_etcd(Path(tmp))
            try:
                return bench_etcd(args, url)
            finally:
                proc.terminate()
                proc.wait(timeout=10)
    if args.etcd:
        return bench_etcd(args, args.etcd)
    return bench_basic(args)


if __name__ == "__main__":
    sys.exit(main())
