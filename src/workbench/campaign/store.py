"""The campaign directory `results/campaigns/<campaign_id>/`, written as the campaign goes.

    campaign.json   the validated file, each configuration's parameters, the planned order and
                    each run's state, run id and directory (relative), metrics; written atomically
    runs.parquet    one row per planned run (config, repetition, order, start, status, numbers)
    stats.json      per metric: each configuration's summary and its comparison to the baseline
    report.html     report.py's

Run states: planned -> running -> done | error (the executor raised) | interrupted (Ctrl-C).
`pending()` is what a resume still has to run, in the planned order: planned, running (the
process died) and interrupted runs; each new attempt gets a fresh run id. The run directories
themselves live beside every other run in the results directory. Executing runs is runner.py's.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.campaign import metrics as run_numbers
from workbench.campaign.plan import PlannedRun, plan
from workbench.campaign.spec import Campaign, CampaignFile
from workbench.jsonio import read_json, utc_iso, write_json

SCHEMA = 1
DONE_STATES = ("done", "error")
PENDING_STATES = ("planned", "running", "interrupted")


def campaigns_dir(results_dir: Path | str) -> Path:
    return Path(results_dir) / "campaigns"


def new_campaign_id(name: str, now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now if now is not None else time.time()))
    return f"{stamp}-{name}"


class CampaignStore:
    """One campaign directory; every mutating call persists campaign.json before returning."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.record: dict[str, Any] = read_json(self.path / "campaign.json")

    @classmethod
    def create(
        cls, results_dir: Path | str, campaign: Campaign, source: str = "", now: float | None = None
    ) -> CampaignStore:
        campaign_id = new_campaign_id(campaign.name, now)
        path = campaigns_dir(results_dir) / campaign_id
        path.mkdir(parents=True, exist_ok=False)
        f = campaign.file
        order = plan(list(campaign.configs), f.repeat, f.order, f.seed)
        record = {
            "schema": SCHEMA,
            "campaign_id": campaign_id,
            "created": utc_iso(now),
            "status": "planned",
            "spec": f.model_dump(mode="json"),
            "source": source,
            "configs": campaign.configs,
            "baseline": campaign.baseline,
            "runs": [_planned_entry(p) for p in order],
        }
        write_json(path / "campaign.json", record)
        return cls(path)

    @classmethod
    def find_resumable(cls, results_dir: Path | str, campaign: Campaign) -> CampaignStore | None:
        """The newest unfinished campaign with the same validated file, if any."""
        root = campaigns_dir(results_dir)
        spec = campaign.file.model_dump(mode="json")
        for path in sorted(root.glob(f"*-{campaign.name}"), reverse=True):
            if not (path / "campaign.json").is_file():
                continue
            store = cls(path)
            if store.record["spec"] == spec and store.pending():
                return store
        return None

    # ---- reading ---------------------------------------------------------------------------
    @property
    def campaign_id(self) -> str:
        return str(self.record["campaign_id"])

    @property
    def results_dir(self) -> Path:
        """Where the runs' directories go: the results directory holding campaigns/."""
        return self.path.parent.parent

    @property
    def file(self) -> CampaignFile:
        return CampaignFile.model_validate(self.record["spec"])

    def campaign(self) -> Campaign:
        return Campaign(self.file, dict(self.record["configs"]), str(self.record["baseline"]))

    @property
    def runs(self) -> list[dict[str, Any]]:
        return list(self.record["runs"])

    def pending(self) -> list[dict[str, Any]]:
        return [r for r in self.record["runs"] if r["state"] in PENDING_STATES]

    def run_path(self, entry: dict[str, Any]) -> Path | None:
        return None if not entry.get("dir") else (self.path / entry["dir"]).resolve()

    # ---- writing ---------------------------------------------------------------------------
    def save(self) -> None:
        write_json(self.path / "campaign.json", self.record)

    def set_status(self, status: str) -> None:
        self.record["status"] = status
        self.save()

    def start_run(self, index: int) -> tuple[str, Path]:
        """Mark a run running under a fresh run id; return (run_id, results_dir)."""
        entry = self.record["runs"][index]
        attempt = int(entry.get("attempts", 0)) + 1
        p = PlannedRun(entry["index"], entry["config"], entry["repetition"])
        run_id = p.run_id(self.campaign_id, attempt)
        run_dir = self.results_dir / run_id
        entry.update(
            state="running",
            attempts=attempt,
            run_id=run_id,
            dir=os.path.relpath(run_dir, self.path),
            started=utc_iso(),
            started_unix=time.time(),
            ended_unix=None,
            error=None,
        )
        self.record["status"] = "running"
        self.save()
        return run_id, self.results_dir

    def finish_run(
        self, index: int, state: str, run_dir: Path | None = None, error: str | None = None
    ) -> dict[str, Any]:
        """Record a run's end; its numbers are read from its run directory when it has one."""
        entry = self.record["runs"][index]
        entry.update(state=state, ended_unix=time.time(), error=error)
        if run_dir is not None:
            entry["dir"] = os.path.relpath(Path(run_dir), self.path)
        path = self.run_path(entry)
        if path is not None and (path / "run.json").is_file():
            try:
                numbers = run_numbers.run_metrics(path)
            except Exception as exc:  # a damaged run directory is recorded, not fatal
                numbers, entry["error"] = {}, f"{error or ''} metrics: {exc}".strip()
            entry["run_status"] = numbers.get("status")
            entry["metrics"] = {k: numbers.get(k) for k in run_numbers.METRIC_KEYS}
            entry["verdicts"] = numbers.get("verdicts", {})
            entry["counted"] = state == "done" and run_numbers.counted(numbers)
        else:
            entry["counted"] = False
        self.save()
        return dict(entry)

    # ---- tables ----------------------------------------------------------------------------
    def frame(self) -> pd.DataFrame:
        """runs.parquet's rows: one per planned run, in the planned order."""
        rows = []
        for r in self.record["runs"]:
            numbers = r.get("metrics") or {}
            rows.append(
                {
                    "order": r["index"],
                    "config": r["config"],
                    "repetition": r["repetition"],
                    "run_id": r.get("run_id"),
                    "dir": r.get("dir"),
                    "start": pd.Timestamp(r["started"]) if r.get("started") else pd.NaT,
                    "state": r["state"],
                    "status": r.get("run_status"),
                    "counted": bool(r.get("counted")),
                    **{k: numbers.get(k) for k in run_numbers.METRIC_KEYS},
                    "verdicts": _verdict_text(r.get("verdicts") or {}),
                    "error": r.get("error"),
                }
            )
        df = pd.DataFrame(rows)
        for k in run_numbers.METRIC_KEYS:
            df[k] = pd.to_numeric(df[k], errors="coerce").astype(float)
        return df

    def write_runs(self) -> Path:
        out = self.path / "runs.parquet"
        tmp = out.with_name(f".{out.name}.tmp")
        self.frame().to_parquet(tmp, index=False)
        os.replace(tmp, out)
        return out

    def samples(self) -> dict[str, list[dict[str, Any]]]:
        """Counted runs' metrics by configuration (every configuration present, maybe empty)."""
        out: dict[str, list[dict[str, Any]]] = {c: [] for c in self.record["configs"]}
        for r in self.record["runs"]:
            if r.get("counted"):
                out[r["config"]].append(r.get("metrics") or {})
        return out

    def excluded(self) -> dict[str, int]:
        """Finished runs left out of the statistics, by configuration."""
        out = {c: 0 for c in self.record["configs"]}
        for r in self.record["runs"]:
            if r["state"] in DONE_STATES and not r.get("counted"):
                out[r["config"]] += 1
        return out

    def write_stats(self, stats: dict[str, Any]) -> Path:
        return write_json(self.path / "stats.json", stats)


def _planned_entry(p: PlannedRun) -> dict[str, Any]:
    return {**p.to_dict(), "state": "planned", "attempts": 0, "run_id": None, "dir": None}


def _verdict_text(counts: dict[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(counts.items()))
