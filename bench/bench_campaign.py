"""The campaign's overhead per run: campaign wall time minus the sum of its runs' wall times, per run.

    .venv/bin/python bench/bench_campaign.py                    # a 2 x 2 campaign of 5 s etcd runs
    .venv/bin/python bench/bench_campaign.py --file examples/campaigns/threads.toml
    .venv/bin/python bench/bench_campaign.py --dir results/campaigns/<campaign_id>   # no runs

Three walls per run are told apart:
  record    run.json's started_unix -> ended_unix (the run as its record has it: stack up, load,
            run, checks, metrics, teardown)
  executor  the executor call (`workbench run`'s whole supervisor: record, prestart, papermill
            kernel start, report and index rendering after the record is finished)
  campaign  the campaign's own wall (run_campaign: store writes, progress, runs.parquet after each
            run, stats.json, report.html, index.html at the end)
and two overheads printed per run: campaign - sum(executor) (the campaign machinery alone) and
campaign - sum(record) (everything a campaign run costs beyond its run record). With --dir the
campaign wall is the span from the first run's start to the last run's end in campaign.json (the
final statistics and report are not in it). Setup (image builds) is done before timing starts.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

from workbench import provision
from workbench.campaign import spec
from workbench.campaign.runner import run_campaign
from workbench.campaign.store import CampaignStore
from workbench.manifest import load_manifest
from workbench.run import supervisor

SMALL = """
name = "bench"
subject = "etcd"
workload = "a"
repeat = 2
[base]
duration = 5
recordcount = 300
[[configs]]
name = "t2"
threads = 2
[[configs]]
name = "t4"
threads = 4
"""


class TimedExecutor:
    def __init__(self) -> None:
        self.walls: list[float] = []

    def __call__(self, params: dict[str, Any], run_id: str, results_dir: Path) -> Path:
        t0 = time.perf_counter()
        try:
            return supervisor.execute_run(params, run_id, results_dir)
        finally:
            self.walls.append(time.perf_counter() - t0)


def record_walls(store: CampaignStore) -> list[float]:
    out = []
    for r in store.runs:
        path = store.run_path(r)
        if path is None or not (path / "run.json").is_file():
            continue
        rec = json.loads((path / "run.json").read_text())
        if rec.get("started_unix") and rec.get("ended_unix"):
            out.append(float(rec["ended_unix"]) - float(rec["started_unix"]))
    return out


def report(label: str, campaign_s: float, executor: list[float], record: list[float]) -> None:
    n = len(executor)
    print(f"{label}: {n} runs, campaign wall {campaign_s:.1f} s")
    print(
        f"  executor per run: median {statistics.median(executor):.1f} s, sum {sum(executor):.1f}"
    )
    if record:
        print(
            f"  record per run:   median {statistics.median(record):.1f} s, sum {sum(record):.1f}"
        )
    print(f"  overhead per run, campaign - sum(executor): {(campaign_s - sum(executor)) / n:.2f} s")
    if len(record) == n:
        print(
            f"  overhead per run, campaign - sum(record):   {(campaign_s - sum(record)) / n:.2f} s"
        )


def from_dir(path: Path) -> None:
    store = CampaignStore(path)
    spans = [
        (float(r["started_unix"]), float(r["ended_unix"]))
        for r in store.runs
        if r.get("started_unix") and r.get("ended_unix")
    ]
    if not spans:
        sys.exit(f"{path}: no finished runs")
    campaign_s = max(e for _, e in spans) - min(s for s, _ in spans)
    report(store.campaign_id, campaign_s, [e - s for s, e in spans], record_walls(store))


def run(text: str, results: Path) -> None:
    c = spec.validate(tomllib.loads(text))
    provision.setup([load_manifest(c.file.subject)], lambda m: None)
    store = CampaignStore.create(results, c, source=text)
    ex = TimedExecutor()
    t0 = time.perf_counter()
    run_campaign(store, ex, progress=lambda line: print(line, flush=True))
    campaign_s = time.perf_counter() - t0
    report(store.campaign_id, campaign_s, ex.walls, record_walls(store))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", type=Path, help="a campaign file (default: a 2 x 2 of 5 s runs)")
    ap.add_argument("--dir", type=Path, help="measure a finished campaign directory, run nothing")
    ap.add_argument("--results", type=Path, help="results folder (default: a temporary one)")
    args = ap.parse_args()
    if args.dir:
        from_dir(args.dir)
        return
    text = args.file.read_text() if args.file else SMALL
    results = args.results or Path(tempfile.mkdtemp(prefix="bench-campaign-"))
    run(text, results)


if __name__ == "__main__":
    main()
