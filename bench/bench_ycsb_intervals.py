"""The native generator's ceiling with per-interval recording on, beside it off, in one run.

    .venv/bin/python bench/bench_ycsb_intervals.py [--ops 300000] [--repeat 3] [--interval 1]

Binding `basic` (no I/O), workload A (read/update 50/50, zipfian), one thread. Both variants
print cumulative status blocks every --interval seconds; "on" also writes the HdrHistogram interval
log and the per-interval CSV (measurement.interval_log / measurement.interval_csv) to a temporary
directory. Runs alternate off/on --repeat times; the best of each is compared. Prints one JSON
line and exits 1 when "on" reaches less than --min-ratio (0.9) of "off".
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ycsb import one_run, props_for  # the sibling bench script


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", type=int, default=300_000)
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--min-ratio", type=float, default=0.9)
    args = ap.parse_args(argv)
    base = {"measurement.interval": str(args.interval)}
    off: list[float] = []
    on: list[float] = []
    intervals_written = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            props = props_for(args.ops, args.records, 1, base)
            off.append(one_run("basic", "run", props)["ops_per_s"])
            hlog, csv = Path(tmp) / f"run{i}.hlog", Path(tmp) / f"run{i}.csv"
            extra = {**base, "measurement.interval_log": str(hlog)}
            extra["measurement.interval_csv"] = str(csv)
            on.append(
                one_run("basic", "run", props_for(args.ops, args.records, 1, extra))["ops_per_s"]
            )
            intervals_written = sum(
                1 for line in csv.read_text().splitlines()[1:] if ",TOTAL," in line
            )
    ratio = max(on) / max(off)
    ok = ratio >= args.min_ratio
    print(
        json.dumps(
            {
                "bench": "native-ycsb-interval-recording",
                "workload": "A, zipfian, basic, 1 thread, 1 process",
                "ops": args.ops,
                "interval_s": args.interval,
                "off_ops_per_s": round(max(off)),
                "on_ops_per_s": round(max(on)),
                "ratio": round(ratio, 3),
                "all_off": [round(x) for x in off],
                "all_on": [round(x) for x in on],
                "intervals_per_run": intervals_written,
                "min_ratio": args.min_ratio,
                "ok": ok,
            }
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
