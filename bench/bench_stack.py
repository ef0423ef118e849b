"""Stack lifecycle timing, images present: up -> healthy (target <= 15 s) and down (target <= 3 s).

Run on demand: `.venv/bin/python bench/bench_stack.py [--cycles N] [--subject etcd]`.
Also times a graceful `down -v -t 10` once, side by side, so the ratio shows what the kill-fast
teardown buys. Prints one table and exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workbench import provision
from workbench.manifest import load_manifest
from workbench.stack import Stack

UP_TARGET_S, DOWN_TARGET_S = 15.0, 3.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--subject", default="etcd")
    ap.add_argument("--cycles", type=int, default=3)
    args = ap.parse_args()
    m = load_manifest(args.subject)
    provision.setup([m], lambda s: print(s, file=sys.stderr))
    ups, downs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.cycles):
            st = Stack(m, run_dir=Path(tmp) / str(i))
            with st:
                pass
            assert st.timings.healthy_s is not None and st.timings.down_s is not None
            ups.append(st.timings.healthy_s)
            downs.append(st.timings.down_s)
            print(
                f"cycle {i}: healthy {st.timings.healthy_s:.2f}s  down {st.timings.down_s:.2f}s",
                file=sys.stderr,
            )
        # Baseline: a graceful teardown with compose's default 10 s stop timeout.
        st = Stack(m, run_dir=Path(tmp) / "naive")
        st.up()
        t0 = time.monotonic()
        subprocess.run(
            [*st.compose_argv(), "down", "--volumes", "--timeout", "10"],
            capture_output=True,
            check=True,
        )
        naive = time.monotonic() - t0
        st.env_file.unlink(missing_ok=True)
    up_med, down_med = statistics.median(ups), statistics.median(downs)
    print(f"\n{'measure':<28}{'median s':>10}{'max s':>10}{'target s':>10}{'ok':>5}")
    print(
        f"{'up -> healthy (+targets up)':<28}{up_med:>10.2f}{max(ups):>10.2f}{UP_TARGET_S:>10.1f}"
        f"{'yes' if max(ups) <= UP_TARGET_S else 'NO':>5}"
    )
    print(
        f"{'down (logs + down -v -t 0)':<28}{down_med:>10.2f}{max(downs):>10.2f}{DOWN_TARGET_S:>10.1f}"
        f"{'yes' if max(downs) <= DOWN_TARGET_S else 'NO':>5}"
    )
    print(f"{'graceful down -v -t 10':<28}{naive:>10.2f}{naive:>10.2f}{'':>10}{'':>5}")
    print(f"teardown speed-up vs naive: {naive / down_med:.1f}x")
    return 0 if max(ups) <= UP_TARGET_S and max(downs) <= DOWN_TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
