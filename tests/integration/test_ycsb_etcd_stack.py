"""The native YCSB generator against the real etcd stack: workloads A and E with zero errors,
from the host and as the stack's `ycsb` service inside the Compose network."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.stack import Stack
from workbench.ycsb.native import NativeClient
from workbench.ycsb.native.props import load_properties
from workbench.ycsb.parser import parse
from workbench.ycsb.runner import build_native_argv, run_ycsb

pytestmark = pytest.mark.integration

WORKLOADS = Path(__file__).resolve().parents[2] / "subjects" / "etcd" / "workloads"


@pytest.mark.parametrize("workload", ["a", "e"])
def test_native_generator_from_the_host(etcd_stack: Stack, workload: str) -> None:
    props = load_properties([WORKLOADS / f"workload{workload}"])
    props.update(
        {"etcd.endpoints": etcd_stack.endpoint("cluster"), "threadcount": "8", "table": "hostrun"}
    )
    for phase in ("load", "run"):
        out: list[str] = []
        NativeClient("etcd", props, phase, write=out.append).run()
        res = parse("".join(out))
        assert res.complete and res.error_count() == 0, (phase, res.final)
        total = res.get("TOTAL")
        assert total is not None and total.count is not None and total.count >= 1000


@pytest.mark.parametrize("workload", ["a", "e"])
def test_native_generator_as_the_ycsb_service(
    etcd_stack: Stack, workload: str, tmp_path: Path
) -> None:
    props = {"etcd.endpoints": etcd_stack.endpoint("cluster", "network"), "table": "svc"}
    files = [f"/workloads/workload{workload}"]
    lines: list[str] = []
    load = build_native_argv(
        "load", "etcd", workload_files=files, properties=props, threads=4, executable=()
    )
    out = run_ycsb(
        [*etcd_stack.run_argv("ycsb"), *load],
        log_path=tmp_path / "load.log",
        on_line=lines.append,
        timeout_s=300,
    )
    assert out.result.complete and out.result.error_count() == 0, out.output[-2000:]
    assert out.result.get("INSERT") is not None
    run = build_native_argv(
        "run",
        "etcd",
        workload_files=files,
        properties={**props, "operationcount": 10**9, "maxexecutiontime": 5},
        threads=4,
        target=200,
        interval=1,
        executable=(),
    )
    out = run_ycsb([*etcd_stack.run_argv("ycsb"), *run], timeout_s=300)
    res = out.result
    assert res.complete and res.error_count() == 0, out.output[-2000:]
    assert len(res.status_blocks) >= 3 and res.target is not None
    total = res.get("TOTAL")
    assert total is not None and total.count is not None and 500 < total.count < 1500
    assert any(line.startswith("Run finished") for line in lines)  # streamed live
