"""A fake executor: writes a finished run directory the way a benchmark run does (run.json through
RunDir, the YCSB final block's TOTAL row, checks.json), with numbers a test chooses per config."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pytest

from workbench.artifacts import RunDir
from workbench.model import Verdict


def write_run(
    results_dir: Path,
    run_id: str,
    params: dict[str, Any],
    throughput: float,
    p99_ms: float,
    status: str = "passed",
    host: Literal["pass", "fail", "unknown"] = "pass",
) -> Path:
    rd = RunDir.create(results_dir, run_id, "etcd", params)
    final = pd.DataFrame(
        [
            {
                "operation": "TOTAL",
                "count": int(throughput * 10),
                "ops": throughput,
                "p50_us": p99_ms * 250.0,
                "p99_us": p99_ms * 1000.0,
                "p999_us": p99_ms * 3000.0,
            }
        ]
    )
    rd.save_ycsb("run", final, pd.DataFrame({"t_s": [1.0]}))
    check: Literal["pass", "fail"] = "pass" if status == "passed" else "fail"
    rd.save_verdicts(
        [
            Verdict("cluster_healthy", "pre", check, "3 members healthy"),
            Verdict("host_contention", "post", host, "other load on the host"),
        ]
    )
    rd.update(summary={"throughput": throughput, "p99_ms": p99_ms, "errors": 0})
    rd.finish(status)
    return rd.path


# statuses a test's `numbers` may give for a run the host spoiled: (run status, host_contention)
HOST_SPOILED: dict[str, tuple[str, Literal["fail", "unknown"]]] = {
    "host-fail": ("failed", "fail"),
    "host-unknown": ("unknown", "unknown"),
}


class FakeExecutor:
    """Records each call; `numbers(config, call_no)` gives (throughput, p99_ms, status) or raises;
    a status of HOST_SPOILED is a run whose host_contention check failed or could not tell."""

    def __init__(self, numbers: Callable[[dict[str, Any], int], tuple[float, float, str]]) -> None:
        self.numbers = numbers
        self.calls: list[str] = []

    def __call__(self, params: dict[str, Any], run_id: str, results_dir: Path) -> Path:
        self.calls.append(run_id)
        ops, p99, status = self.numbers(params, len(self.calls))
        if status in HOST_SPOILED:
            status, host = HOST_SPOILED[status]
            return write_run(results_dir, run_id, params, ops, p99, status, host)
        return write_run(results_dir, run_id, params, ops, p99, status)


@pytest.fixture
def fake_executor() -> type[FakeExecutor]:
    return FakeExecutor
