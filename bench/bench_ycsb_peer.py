"""The native generator against go-ycsb, side by side on one etcd stack (issue 14).

    .venv/bin/python bench/bench_ycsb_peer.py [--records 2000] [--ops 30000] [--threads 16]
        [--rounds 2] [--null-ops 200000] [--json out.json]

One 3-member etcd stack; the same workload file (workloada), record and operation counts, threads
and stack for both tools, each run as the subject's service inside the network through the tool
registry (`workbench.ycsb.tools`), bounded by operationcount (no SIGINT, so no in-flight errors).

1. Key strings: load with one tool, run with the other (both ways): zero misses (go-ycsb's etcd
   binding answers a missing key with READ_ERROR, the native one with READ_NOTFOUND).
2. A/B/A/B: ops/s, TOTAL p50/p99, client CPU µs per operation (the tool's container CPU,
   `telemetry.ContainerCpu`), server CPU µs per operation (Prometheus:
   `process_cpu_seconds_total` of the etcd members, between the scrape before the run and the
   first one after, minus the idle rate measured before), and the native/go-ycsb ratio of each.
3. The null-binding ceiling: `basic` in both (no I/O).

Target (the issue): native ops/s >= 90% of go-ycsb's, native client CPU/op <= 2x go-ycsb's.
Exit 0 whether or not the target is met (the numbers are the product); 1 on a broken run.

Measured 2026-12-01 (defaults: 2000 records, 30000 ops, 16 threads; a 2-core host at load average
30-50 from other work, so the cluster, not either client, set the pace at ~150-230 ops/s):
native 213/229 ops/s vs go-ycsb 214/151; medians native/go-ycsb: ops/s 1.21, TOTAL p50 0.86,
p99 0.70, client CPU/op 1.37 (native 387/341 µs, go-ycsb 292/240 µs), server CPU/op 1.34 (the
JSON gateway costs etcd more than gRPC). httpx transport: 114 ops/s at 847 µs client CPU/op
(2.3x http.client's; both are replaced since by `native.rawhttp`). Null binding: native 57.6k ops/s, go-ycsb 118.6k (0.49); their client CPU
is not measurable by ContainerCpu's ~1 s samples in 2-4 s runs. Keys both ways: 2000/2000, 0 miss.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from workbench import provision
from workbench.manifest import load_manifest
from workbench.prometheus import PrometheusClient, wait_for_scrape
from workbench.stack import Stack
from workbench.telemetry import ContainerCpu
from workbench.ycsb.tools import PhaseRequest, get_tool

SERVER_CPU = 'sum(process_cpu_seconds_total{job="etcd"})'
TOOLS = ("native", "go-ycsb")


class Bench:
    def __init__(self, st: Stack, prom: PrometheusClient, args: argparse.Namespace) -> None:
        self.st, self.prom, self.args = st, prom, args
        self.y = st.manifest.ycsb_spec()
        self.logs = Path(args.logs)
        self.logs.mkdir(parents=True, exist_ok=True)
        self.idle_rate = 0.0

    def server_cpu(self) -> float:
        frame = self.prom.query(SERVER_CPU, time.time())
        return float(frame["value"].sum())

    def measure_idle(self, seconds: float = 4.0) -> None:
        wait_for_scrape(self.prom.targets, time.time())
        c0, t0 = self.server_cpu(), time.time()
        time.sleep(seconds)
        wait_for_scrape(self.prom.targets, time.time())
        self.idle_rate = (self.server_cpu() - c0) / (time.time() - t0)

    def phase(
        self, tool: str, phase: str, binding: str, props: dict[str, str], label: str
    ) -> dict[str, Any]:
        own = self.y.for_tool(tool)
        assert own.service is not None and own.properties is not None
        base = {
            k: v.replace("${cluster}", self.st.endpoint("cluster", "network"))
            for k, v in own.properties.items()
        }
        req = PhaseRequest(
            phase=phase,
            binding=binding,
            workload_file=f"{self.y.workloads_path_in_container}/workloada",
            properties={**(base if binding == "etcd" else {}), **props},
            threads=self.args.threads,
            interval_s=3600,
        )
        wait_for_scrape(self.prom.targets, time.time())
        s0 = self.server_cpu()
        with ContainerCpu(self.st.project, own.service) as cpu:
            rec = get_tool(tool).run(
                req,
                lambda name: self.st.run_argv(own.service, name=name),  # type: ignore[arg-type]
                project=self.st.project,
                service=own.service,
                log_path=self.logs / f"{label}.log",
            )
        span = time.time() - rec.launched
        wait_for_scrape(self.prom.targets, time.time())
        server_s = self.server_cpu() - s0 - self.idle_rate * span
        return summarize(tool, label, rec, cpu.seconds, server_s)


def summarize(
    tool: str, label: str, rec: Any, cpu_s: float | None, server_s: float
) -> dict[str, Any]:
    res = rec.outcome.result
    total = res.get("TOTAL")
    if rec.outcome.returncode != 0 or total is None or not total.count:
        raise SystemExit(
            f"{label}: {tool} failed (exit {rec.outcome.returncode}):\n{rec.outcome.output[-2000:]}"
        )
    ops = total.count
    rows = {r.operation: r.count for r in res.final}
    return {
        "tool": tool,
        "label": label,
        "ops": ops,
        "ops_s": ops / res.run_seconds if res.run_seconds else None,
        "p50_ms": (total.p50_us or 0) / 1000,
        "p99_ms": (total.p99_us or 0) / 1000,
        "client_cpu_us_op": cpu_s * 1e6 / ops if cpu_s is not None else None,
        "server_cpu_us_op": server_s * 1e6 / ops,
        "errors": res.error_count(),
        "not_found": res.not_found_count(),
        "rows": rows,
    }


def key_identity(b: Bench, records: int) -> list[dict[str, Any]]:
    """Load with one tool, run with the other: a miss is READ_ERROR (go-ycsb) or NOTFOUND."""
    out = []
    for loader, runner in (("native", "go-ycsb"), ("go-ycsb", "native")):
        table = f"keys_{loader.replace('-', '')}"
        props = {"table": table, "recordcount": str(records)}
        b.phase(loader, "load", "etcd", props, f"keys-load-{loader}")
        run = b.phase(
            runner,
            "run",
            "etcd",
            {
                **props,
                "operationcount": str(records),
                "readproportion": "1",
                "updateproportion": "0",
            },
            f"keys-run-{runner}",
        )
        misses = run["errors"] + run["not_found"]
        out.append({"loaded_by": loader, "read_by": runner, "reads": run["ops"], "misses": misses})
    return out


def ratios(native: list[dict[str, Any]], go: list[dict[str, Any]]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for key in ("ops_s", "p50_ms", "p99_ms", "client_cpu_us_op", "server_cpu_us_op"):
        a = [r[key] for r in native if r[key] is not None]
        g = [r[key] for r in go if r[key] is not None]
        out[key] = (
            statistics.median(a) / statistics.median(g)
            if a and g and statistics.median(g)
            else None
        )
    return out


def table(rows: list[dict[str, Any]]) -> str:
    head = f"{'run':<18} {'tool':<8} {'ops':>7} {'ops/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'cli µs/op':>9} {'srv µs/op':>9} {'err':>4}"
    lines = [head]
    for r in rows:
        cli = f"{r['client_cpu_us_op']:.0f}" if r["client_cpu_us_op"] is not None else "?"
        lines.append(
            f"{r['label']:<18} {r['tool']:<8} {r['ops']:>7} {r['ops_s']:>8.0f} {r['p50_ms']:>7.2f} "
            f"{r['p99_ms']:>7.2f} {cli:>9} {r['server_cpu_us_op']:>9.0f} {r['errors'] + r['not_found']:>4}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--records", type=int, default=2000)
    ap.add_argument("--ops", type=int, default=30000)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--null-ops", type=int, default=200000)
    ap.add_argument("--logs", default="/tmp/bench_ycsb_peer")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    m = load_manifest("etcd")
    provision.setup([m], print, tools=["go-ycsb"])
    with Stack(m) as st, httpx.Client(timeout=5.0) as http:
        b = Bench(st, PrometheusClient(http, st.endpoint("prometheus")), args)
        b.measure_idle()
        keys = key_identity(b, args.records)
        props = {"table": "peer", "recordcount": str(args.records)}
        b.phase("native", "load", "etcd", props, "load-peer")
        runs = []
        for i in range(args.rounds):
            for tool in TOOLS:
                p = {**props, "operationcount": str(args.ops)}
                runs.append(b.phase(tool, "run", "etcd", p, f"ab{i}-{tool}"))
        null = [
            b.phase(
                t,
                "run",
                "basic",
                {"operationcount": str(args.null_ops), "recordcount": str(args.records)},
                f"null-{t}",
            )
            for t in TOOLS
        ]
    native = [r for r in runs if r["tool"] == "native"]
    go = [r for r in runs if r["tool"] == "go-ycsb"]
    result = {
        "params": vars(args) | {"json": str(args.json) if args.json else None},
        "idle_server_cpu_cores": b.idle_rate,
        "key_identity": keys,
        "runs": runs,
        "null": null,
        "ratio_native_over_go": ratios(native, go),
        "ratio_null_native_over_go": ratios(null[:1], null[1:]),
    }
    print(table([*runs, *null]))
    print("key identity:", json.dumps(keys))
    print("ratio native/go-ycsb (medians):", json.dumps(result["ratio_native_over_go"]))
    print("null-binding ratio native/go-ycsb:", json.dumps(result["ratio_null_native_over_go"]))
    r = result["ratio_native_over_go"]
    ok = (r["ops_s"] or 0) >= 0.9 and (r["client_cpu_us_op"] or 99) <= 2.0
    print(
        f"target (ops/s >= 90% and client CPU/op <= 2x of go-ycsb's): {'met' if ok else 'NOT met'}"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return 1 if any(k["misses"] for k in keys) else 0


if __name__ == "__main__":
    sys.exit(main())
