"""Open a campaign for a caller (the `workbench campaign` command, campaign.ipynb) and show it.

`open_campaign(file, results_dir, resume=...)`: a new campaign directory for a validated file, or,
with `resume`, the newest unfinished campaign of the same file (ConfigError when there is none).
`reopen(campaign_dir)`: a campaign directory and its statistics recomputed from what it holds (no
run is executed, nothing is written). `comparison_frame`, `operator_frame` and `runs_frame` are
the report's tables as frames for a notebook. Running the plan is runner.py's; the executor comes from the caller
(the run package is a sibling and cannot be imported from here).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pandas as pd

from workbench.artifacts.campaign import runs_frame as frame_of
from workbench.campaign import report, spec
from workbench.campaign.compare import CompareTable, of_store
from workbench.campaign.store import CampaignStore
from workbench.errors import ConfigError

RUN_COLUMNS = ["order", "config", "repetition", "run_id", "state", "status", "counted",
               "throughput", "p50_ms", "p99_ms", "p999_ms", "errors", "verdicts", "error"]  # fmt: skip


def open_campaign(
    file: Path | str, results_dir: Path | str, *, resume: bool = False
) -> CampaignStore:
    """Validate `file` (every problem in one ParameterError) and open its campaign directory."""
    path = Path(file)
    c = spec.load(path)
    results = Path(results_dir).resolve()
    if resume:
        store = CampaignStore.find_resumable(results, c)
        if store is None:
            raise ConfigError(f"nothing to resume for {path} in {results}")
        return store
    return CampaignStore.create(results, c, source=path.read_text())


def reopen(campaign_dir: Path | str) -> tuple[CampaignStore, CompareTable]:
    """A campaign directory and its statistics from its counted runs, as the report has them."""
    store = CampaignStore(Path(campaign_dir))  # ConfigError when it is not a campaign directory
    table = of_store(store)
    return store, table


def comparison_frame(table: CompareTable) -> pd.DataFrame:
    """The report's comparison table: per metric and configuration, rounded for people."""
    rows = report.comparison_rows(table)
    frame = pd.DataFrame([asdict(r) for r in rows]).drop(columns=["css"])
    return frame.rename(columns={"group": "configuration", "text": f"vs {table.baseline}"})


def operator_frame(table: CompareTable) -> pd.DataFrame:
    """The report's operator tables as one frame (configuration, score, n, median, CI, against
    the baseline); empty when no counted run had operator scores."""
    columns = ["configuration", "score", "n", "median", "95% CI", f"vs {table.baseline}"]
    if table.operator is None:
        return pd.DataFrame(columns=columns)
    rows = [
        [b.group, r.score, r.n, r.median, r.ci, r.vs]
        for b in report.operator_tables(table.operator)
        for r in b.rows
    ]
    return pd.DataFrame(rows, columns=columns)


def runs_frame(store: CampaignStore) -> pd.DataFrame:
    """The runs in execution order (runs.parquet's rows), numbers rounded to 2 digits."""
    return frame_of(store.record)[RUN_COLUMNS].round(2)
