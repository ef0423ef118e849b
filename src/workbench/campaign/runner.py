"""Run a campaign's plan with an injected executor, recording every run as it ends.

`execute(params, run_id, results_dir) -> run directory` runs ONE benchmark (stack up, load, run,
checks, teardown: the executor's business, so it is also the one that tears down on Ctrl-C).
Here: the planned order, progress ("run 3 of 10 ... about 2m10s left", estimated from the runs so
far), a failed run recorded and the campaign going on, Ctrl-C recorded (the run `interrupted`, the
campaign `interrupted`) and re-raised, and at the end runs.parquet, stats.json, report.html and
the results folder's index.html (which lists campaigns beside runs).
A run the host spoiled (host_contention fail/unknown, a workbench error) is queued again a round
later, up to the file's `rerun_spoiled` per configuration, so a busy machine does not shrink the
sample below what the comparison needs. A resume is the same call on a reopened store: only
pending runs are run, in the same order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench import report as run_report
from workbench.artifacts.campaign import CampaignRun
from workbench.campaign import report
from workbench.campaign.compare import CompareTable, of_store
from workbench.campaign.store import CampaignStore

Executor = Callable[[dict[str, Any], str, Path], Path]
Progress = Callable[[str], None]


def run_campaign(
    store: CampaignStore,
    execute: Executor,
    *,
    progress: Progress = print,
    clock: Callable[[], float] = time.monotonic,
    draw: bool = True,
) -> CompareTable:
    """Run every pending run of `store` in the planned order, then write the statistics
    (`draw=False`: report.html without its figures)."""
    campaign = store.campaign()
    took: list[float] = []
    while pending := store.pending():
        entry = pending[0]
        index, config = entry.index, entry.config
        run_id, results_dir = store.start_run(index)
        total, left = len(store.runs), _eta(took, len(pending))
        progress(f"run {index + 1} of {total}: {config} #{entry.repetition + 1} {run_id}{left}")
        params = {**campaign.configs[config], "run_id": run_id, "results_dir": str(results_dir)}
        begun = clock()
        try:
            run_dir = execute(params, run_id, results_dir)
        except KeyboardInterrupt:
            store.finish_run(index, "interrupted", error="interrupted (Ctrl-C)")
            store.set_status("interrupted")
            store.write_runs()
            progress(f"campaign interrupted at run {index + 1} of {total}; --resume continues it")
            raise
        except Exception as exc:  # recorded; the campaign goes on
            done = store.finish_run(index, "error", error=f"{type(exc).__name__}: {exc}")
        else:
            done = store.finish_run(index, "done", run_dir=Path(run_dir))
        took.append(clock() - begun)
        progress(f"  {_outcome(done)} ({took[-1]:.1f}s)")
        if done.spoiled and store.reruns_left(config):
            again = store.requeue(index)
            progress(f"  spoiled ({done.spoiled}): queued again as run {again.index + 1}")
        elif done.spoiled:
            progress(f"  spoiled ({done.spoiled}); no re-run left for {config}")
        store.write_runs()
    return finalize(store, draw=draw)


def finalize(store: CampaignStore, *, draw: bool = True) -> CompareTable:
    """runs.parquet, stats.json and report.html from what the store holds now. The status is
    set first: the report and results/index.html show the campaign as it ends, not `running`."""
    table = of_store(store)
    store.write_runs()
    store.write_stats(table.document(store.campaign_id))
    store.set_status("complete" if not store.pending() else "interrupted")
    report.render(store, table, draw=draw)
    run_report.render_index(store.results_dir)  # results/index.html lists the campaign
    return table


def _eta(took: list[float], remaining: int) -> str:
    if not took:
        return ""
    seconds = sum(took) / len(took) * remaining
    minutes, secs = divmod(round(seconds), 60)
    return f" (about {minutes}m{secs:02d}s left)" if minutes else f" (about {secs}s left)"


def _outcome(entry: CampaignRun) -> str:
    if entry.state == "error":
        return f"error: {entry.error}"
    n = entry.numbers
    text = f"{entry.run_status}"
    if n.throughput is not None:
        text += f": {n.throughput:,.1f} ops/s"
    if n.p99_ms is not None:
        text += f", p99 {n.p99_ms:.2f} ms"
    return text + ("" if entry.counted else " (not counted)")
