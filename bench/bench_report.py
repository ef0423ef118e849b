"""Report rendering time for a 60-second run (target <= 5 s), from a synthetic run directory
shaped like the real one (YCSB intervals, Prometheus frames, marks, verdicts)."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "unit"))
from test_artifacts import synthetic_run

from workbench import report

TARGET_S = 5.0


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        rd = synthetic_run(Path(tmp), seconds=60)
        times = []
        for _ in range(3):
            for png in rd.figures_dir.glob("*.png"):
                png.unlink()  # a cold render draws every figure
            t = time.perf_counter()
            report.render(rd.path)
            times.append(time.perf_counter() - t)
        t = time.perf_counter()
        report.render_index(Path(tmp))
        index_s = time.perf_counter() - t
    best, worst = min(times), max(times)
    print(
        f"report.html for a 60 s run: best {best:.2f} s, worst {worst:.2f} s (target <= {TARGET_S} s)"
    )
    print(f"index.html: {index_s:.2f} s")
    return 0 if worst <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
