"""Run directories of known numbers, made with RunDir (no stack, no process)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from workbench.artifacts import Fingerprint, RunDir, Summary
from workbench.artifacts.fingerprint import HostInfo
from workbench.params import validate_run


def make_run(
    root: Path,
    i: int,
    *,
    throughput: float | None = 1000.0,
    p99: float | None = 5.0,
    labels: dict[str, str] | None = None,
    cores: int = 2,
    status: str = "passed",
    **params: Any,
) -> RunDir:
    """Run number i (started i hours after a fixed time) with these numbers and parameters."""
    p = validate_run({"subject": "etcd", "labels": labels or {}, **params}).to_dict()
    run_id = f"2026120{1 + i // 24}T{i % 24:02d}0000.000Z-etcd-a-{i:06x}"
    p["run_id"] = run_id
    rd = RunDir.create(root, run_id, "etcd", p)
    host = HostInfo(cpu_count=cores, kernel="6.1.0")
    rd.update(
        started_unix=1_764_547_200.0 + 3600 * i,
        fingerprint=Fingerprint(workbench_version="0.1.0", engine={"engine": "27.0"}, host=host),
        summary=Summary(throughput=throughput, p99_ms=p99, verdicts={"pass": 3}),
    )
    rd.finish(status)
    return rd


@pytest.fixture
def results(tmp_path: Path) -> Path:
    root = tmp_path / "results"
    root.mkdir()
    return root
