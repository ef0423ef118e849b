"""Time-resolved truth on the real etcd stack, through the conductor: per-interval latency in
timeline.parquet shows a 3 s pause of the leader (`docker pause`, by hand, in a thread), and the
server's per-interval throughput lines up with the client's (`series_aligned`) on an undisturbed
run.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from workbench.params import validate_run
from workbench.run import Benchmark, observe, workload

pytestmark = pytest.mark.integration
PAUSE_S = 3.0
PAUSE_AFTER_S = 6.0  # after the run container appears (the load's settle comes first)


def params(results: Path, run_id: str) -> Any:
    return validate_run(
        {
            "subject": "etcd",
            "workload": "a",
            "duration": 16,
            "recordcount": 1000,
            "threads": 4,
            "results_dir": str(results),
            "run_id": run_id,
        }
    )


@pytest.fixture
def client_intervals_in_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Benchmark]]:
    """Hands the post checks the run phase's per-interval client counts when the conductor does
    not pass them yet (the field is CheckContext.client_intervals)."""
    benches: list[Benchmark] = []
    real = observe.checks

    def checks(stack: Any, manifest: Any, phase: str, names: list[str], **ctx: Any) -> Any:
        if phase == "post" and "client_intervals" not in ctx and benches:
            b = benches[-1]
            rec = b.phases.get("run")
            if rec is not None:
                ctx["client_intervals"] = workload.client_intervals(b.rd, "run", rec.first_line)
        return real(stack, manifest, phase, names, **ctx)

    monkeypatch.setattr(observe, "checks", checks)
    yield benches


def leader_container(bench: Benchmark) -> str:
    """The compose container of the etcd member that is the Raft leader now."""
    st = bench.ctl.require()
    urls = st.endpoint("cluster").split(",")  # etcd0, etcd1, etcd2 from the host
    by_id: dict[int, str] = {}
    leader = None
    for i, url in enumerate(urls):
        req = urllib.request.Request(f"{url}/v3/maintenance/status", data=b"{}", method="POST")
        with urllib.request.urlopen(req, timeout=5) as resp:
            status = json.loads(resp.read())
        by_id[int(status["header"]["member_id"])] = f"etcd{i}"
        leader = int(status["leader"])
    assert leader in by_id, by_id
    return f"{st.project}-{by_id[leader]}-1"


def container_up(name: str) -> bool:
    out = subprocess.run(
        ["docker", "ps", "-q", "--filter", f"name=^{name}$"],
        capture_output=True,
        text=True,
        check=False,
    )
    return bool(out.stdout.strip())


def pause_leader_during_run(bench: Benchmark, spans: list[tuple[float, float]]) -> None:
    """Wait for the run phase's container, then `docker pause` the leader for PAUSE_S."""
    deadline = time.time() + 300
    while time.time() < deadline:
        st = bench.ctl.stack
        if st is not None and container_up(f"{st.project}-ycsb-run"):
            break
        time.sleep(0.2)
    else:
        return
    time.sleep(PAUSE_AFTER_S)
    target = leader_container(bench)
    t0 = time.time()
    subprocess.run(["docker", "pause", target], check=True, capture_output=True)
    try:
        time.sleep(PAUSE_S)
    finally:
        subprocess.run(["docker", "unpause", target], check=False, capture_output=True)
        spans.append((t0, time.time()))


def total_series(tl: pd.DataFrame, name: str) -> pd.DataFrame:
    got = tl[(tl["name"] == name) & (tl["series"] == "TOTAL") & (tl["phase"] == "run")]
    return got.sort_values("t_s")


def test_a_3s_leader_pause_is_a_spike_in_its_interval_p999(
    tmp_path: Path, client_intervals_in_checks: list[Benchmark]
) -> None:
    bench = Benchmark(params(tmp_path, "paused"))
    client_intervals_in_checks.append(bench)
    spans: list[tuple[float, float]] = []
    pauser = threading.Thread(target=pause_leader_during_run, args=(bench, spans), daemon=True)
    pauser.start()
    bench.execute()
    pauser.join(timeout=60)
    assert spans, "the leader was never paused"
    rd = bench.rd
    assert (rd.ycsb_dir / "run.hlog").stat().st_size > 0
    tl = pd.read_parquet(rd.path / "timeline.parquet")
    p999 = total_series(tl, "client_p999_ms")
    origin = bench.phases["run"].first_line
    start, end = spans[0][0] - origin, spans[0][1] - origin
    # a call stuck in the pause completes late (TOTAL) or, when the election moved the leader
    # meanwhile, fails late (<OP>_ERROR rows, which TOTAL leaves out as go-ycsb does): the
    # interval's p99.9 of either shows the stall
    stalled = tl[(tl["name"] == "client_p999_ms") & (tl["phase"] == "run")]
    stalled = stalled[stalled["series"].isin(["TOTAL"]) | stalled["series"].str.endswith("_ERROR")]
    during = stalled[(stalled["t_s"] > start) & (stalled["t_s"] <= end + 1.0)]
    before = p999[p999["t_s"] <= start - 1.0]
    assert during["value"].max() >= 1000, stalled.to_string()
    assert len(before) >= 2 and before["value"].max() < 1000, p999.to_string()
    assert not total_series(tl, "client_p99_cum").empty  # the cumulative ones stay, so named
    # the figure is drawn from these per-interval rows
    assert (rd.figures_dir / "latency.png").stat().st_size > 10_000


def test_server_series_line_up_with_the_client_on_an_undisturbed_run(
    tmp_path: Path, client_intervals_in_checks: list[Benchmark]
) -> None:
    bench = Benchmark(params(tmp_path, "steady"))
    client_intervals_in_checks.append(bench)
    bench.execute()
    verdicts = {v.name: v for v in bench.verdicts}
    aligned = verdicts["series_aligned"]
    assert aligned.status == "pass", (aligned.summary, aligned.evidence)
    assert aligned.evidence["intervals"] >= 10
    tl = pd.read_parquet(bench.rd.path / "timeline.parquet")
    client = total_series(tl, "client_ops").set_index("t_s")["value"]
    server = total_series(tl, "server_ops_aligned").set_index("t_s")["value"]
    both = pd.concat({"client": client, "server": server}, axis=1).dropna()
    full = both.iloc[1:-1]  # from the first full second
    assert len(full) >= 10
    rel = (full["server"] - full["client"]).abs() / full["client"]
    assert (rel <= 0.10).mean() >= 0.9, full.to_string()
