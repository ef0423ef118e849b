"""A campaign for real on the offline etcd stack: 2 configurations x 3 runs of 5 s, interleaved,
each run a full `workbench run` (supervisor, papermill kernel, its own stack and report).

Interrupted after its second run (Ctrl-C between runs: a wrapped executor raises KeyboardInterrupt
when the third run would start), then resumed through `workbench campaign FILE --resume`'s own
function: it ends with six run directories (none repeated, none skipped), runs.parquet, stats.json
with both configurations, and a report linking every run; no container is left behind.
"""

from __future__ import annotations

import argparse
import gc
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from workbench.campaign import spec
from workbench.campaign.metrics import COUNTED_STATUSES
from workbench.campaign.runner import run_campaign
from workbench.campaign.store import CampaignStore
from workbench.cli.campaign_cmds import cmd_campaign
from workbench.manifest import Manifest
from workbench.run import supervisor
from workbench.stack import Stack, running_projects

CAMPAIGN = """
name = "itest"
subject = "etcd"
workload = "a"
repeat = 3
order = "interleaved"
seed = 1
rerun_spoiled = 0  # the order below is asserted; re-running spoiled runs is a unit test's
[base]
duration = 5
recordcount = 300
[[configs]]
name = "t1"
threads = 1
[[configs]]
name = "t4"
threads = 4
[compare]
metrics = ["throughput", "p99_ms"]
"""


class InterruptBeforeThird:
    """The real executor, and a Ctrl-C when the third run would start."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, params: dict[str, Any], run_id: str, results_dir: Path) -> Path:
        self.calls.append(run_id)
        if len(self.calls) == 3:
            raise KeyboardInterrupt
        return supervisor.execute_run(params, run_id, results_dir)


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(v or "" for k, v in attrs if k == "href")


def run_dirs(results: Path) -> list[Path]:
    return sorted(p for p in results.iterdir() if (p / "run.json").is_file())


def ours_running() -> dict[str, Any]:
    return {p: c for p, c in running_projects("wb-").items() if p in Stack.created}


# papermill runs in this process (execute_run, as `workbench campaign` does) and leaves its kernel
# client's zmq sockets to the garbage collector; they are collected inside the test (gc.collect)
# so this filter, and not the session's end, sees their ResourceWarnings.
@pytest.mark.filterwarnings(
    "ignore:Exception ignored in.*Socket.__del__:pytest.PytestUnraisableExceptionWarning"
)
# Eight runs (2 before the interrupt, 6 after): about 4 minutes on a quiet host; a shared one
# (load 20-50 measured) made each run 60-170 s and the session's 900 s limit cut it mid-resume.
@pytest.mark.timeout(2400)
def test_interleaved_campaign_interrupted_and_resumed(
    etcd_manifest: Manifest, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "itest.toml"
    file.write_text(CAMPAIGN)
    results = tmp_path / "results"
    c = spec.load(file)
    store = CampaignStore.create(results, c, source=CAMPAIGN)
    ex = InterruptBeforeThird()
    with pytest.raises(KeyboardInterrupt):
        run_campaign(store, ex, progress=print)
    first = CampaignStore(store.path)
    assert first.record.status == "interrupted"
    assert [r.state for r in first.runs] == ["done", "done", "interrupted"] + ["planned"] * 3
    kept = [r.run_id for r in first.runs[:2]]
    assert [d.name for d in run_dirs(results)] == sorted(kept) and not ours_running()
    capsys.readouterr()
    gc.collect()

    args = argparse.Namespace(file=file, results=results, resume=True, no_setup=True)
    # what `workbench campaign FILE --resume` runs; 3+3 runs give no verdict: unknown, exit 2
    assert cmd_campaign(args) == 2
    out = capsys.readouterr().out
    assert "run 3 of 6: t1 #2" in out and "run 1 of 6" not in out and "run 2 of 6" not in out

    done = CampaignStore(store.path)
    assert done.record.status == "complete" and not done.pending()
    assert [(r.config, r.repetition) for r in done.runs] == [
        (cfg, rep) for rep in range(3) for cfg in ("t1", "t4")
    ]
    ids = [r.run_id for r in done.runs]
    assert ids[:2] == kept and ids[2].endswith("-a2") and len(set(ids)) == 6
    assert [d.name for d in run_dirs(results)] == sorted(ids)  # six, none repeated or skipped
    for r in done.runs:
        path = done.run_path(r)
        assert path is not None and path.parent == results
        rec = json.loads((path / "run.json").read_text())
        # every run finished; its numbers count when it passed or nothing failed (a shared host
        # fails host_contention: such a run is recorded and excluded, as a failed run is)
        assert r.state == "done" and rec["status"] in ("passed", "unknown", "failed")
        assert r.counted == (rec["status"] in COUNTED_STATUSES), (r.run_id, rec["status"])
        assert rec["params"]["threads"] == {"t1": 1, "t4": 4}[r.config]
        assert (path / "report.html").is_file()

    frame = pd.read_parquet(done.path / "runs.parquet")
    assert len(frame) == 6 and frame["throughput"].notna().all() and frame["p99_ms"].gt(0).all()
    stats = json.loads((done.path / "stats.json").read_text())
    through = stats["metrics"]["throughput"]
    assert set(through["summaries"]) == {"t1", "t4"} and set(through["comparisons"]) == {"t4"}
    counted = {c: sum(r.counted for r in done.runs if r.config == c) for c in ("t1", "t4")}
    assert {c: s["n"] for c, s in through["summaries"].items()} == counted
    assert stats["excluded"] == {c: 3 - n for c, n in counted.items()}
    assert through["comparisons"]["t4"]["verdict"] == "unknown"  # 3+3 cannot reach p < 0.05
    page = Links()
    page.feed((done.path / "report.html").read_text())
    linked = {Path(h).parent.name for h in page.hrefs}
    assert linked == set(ids)
    assert not ours_running()
    gc.collect()
