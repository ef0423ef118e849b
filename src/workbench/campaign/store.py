"""A campaign's life in its directory: planned, each run started and finished, its statistics' inputs.

The directory and its files (campaign.json as the typed `CampaignRecord`, runs.parquet,
stats.json, report.html) are `artifacts.campaign.CampaignDir`'s; here is what the campaign does
with them. Run states: planned -> running -> done | error (the executor raised) | interrupted
(Ctrl-C). `pending()` is what a resume still has to run, in the planned order: planned, running
(the process died) and interrupted runs; each new attempt gets a fresh run id. The run
directories themselves live beside every other run in the results directory. Executing runs is
runner.py's.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from workbench.artifacts.campaign import (
    DONE_STATES,
    CampaignDir,
    CampaignRecord,
    CampaignRun,
    CampaignStatus,
    RunState,
    campaigns_dir,
)
from workbench.artifacts.record import Headline
from workbench.campaign import metrics as run_numbers
from workbench.campaign.plan import PlannedRun, plan
from workbench.campaign.spec import Campaign, CampaignFile
from workbench.jsonio import utc_iso


def new_campaign_id(name: str, now: float | None = None, n: int = 1) -> str:
    """`<UTC second>-<name>`; the n-th campaign of one name in one second gets `.<n>` after the
    stamp (it still sorts after the first and still ends in `-<name>`)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now if now is not None else time.time()))
    return f"{stamp}-{name}" if n == 1 else f"{stamp}.{n}-{name}"


def _new_campaign_dir(root: Path, name: str, now: float | None) -> Path:
    """A campaign directory of its own, never one that exists (two campaigns of one name
    started within one second used to collide on the id and crash)."""
    root.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        path = root / new_campaign_id(name, now, n)
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"no free campaign id for {name!r} in {root}")


class CampaignStore(CampaignDir):
    """One campaign directory; every mutating call persists campaign.json before returning."""

    @classmethod
    def create(
        cls, results_dir: Path | str, campaign: Campaign, source: str = "", now: float | None = None
    ) -> CampaignStore:
        path = _new_campaign_dir(campaigns_dir(results_dir), campaign.name, now)
        campaign_id = path.name
        f = campaign.file
        order = plan(list(campaign.configs), f.repeat, f.order, f.seed)
        record = CampaignRecord(
            campaign_id=campaign_id,
            created=utc_iso(now),
            spec=f.model_dump(mode="json"),
            source=source,
            configs=campaign.configs,
            baseline=campaign.baseline,
            runs=[
                CampaignRun(index=p.index, config=p.config, repetition=p.repetition) for p in order
            ],
        )
        store = cls(path, record)
        store.save()
        return store

    @classmethod
    def find_resumable(cls, results_dir: Path | str, campaign: Campaign) -> CampaignStore | None:
        """The newest unfinished campaign with the same validated file, if any."""
        root = campaigns_dir(results_dir)
        spec = campaign.file.model_dump(mode="json")
        for path in sorted(root.glob(f"*-{campaign.name}"), reverse=True):
            if not cls.is_campaign(path):
                continue
            store = cls(path)  # its spec with today's defaults (a key added since is no change)
            if _with_defaults(store.record.spec) == spec and store.pending():
                return store
        return None

    # ---- reading ---------------------------------------------------------------------------
    @property
    def file(self) -> CampaignFile:
        return CampaignFile.model_validate(self.record.spec)

    def campaign(self) -> Campaign:
        return Campaign(self.file, dict(self.record.configs), self.record.baseline)

    @property
    def runs(self) -> list[CampaignRun]:
        return list(self.record.runs)

    def pending(self) -> list[CampaignRun]:
        return self.record.pending()

    # ---- writing ---------------------------------------------------------------------------
    def set_status(self, status: CampaignStatus) -> None:
        self.record.status = status
        self.save()

    def start_run(self, index: int) -> tuple[str, Path]:
        """Mark a run running under a fresh run id; return (run_id, results_dir)."""
        entry = self.record.runs[index]
        attempt = entry.attempts + 1
        p = PlannedRun(entry.index, entry.config, entry.repetition)
        run_id = p.run_id(self.campaign_id, attempt)
        run_dir = self.results_dir / run_id
        self.record.runs[index] = entry.model_copy(
            update={
                "state": "running",
                "attempts": attempt,
                "run_id": run_id,
                "dir": os.path.relpath(run_dir, self.path),
                "started": utc_iso(),
                "started_unix": time.time(),
                "ended_unix": None,
                "error": None,
            }
        )
        self.record.status = "running"
        self.save()
        return run_id, self.results_dir

    def finish_run(
        self, index: int, state: RunState, run_dir: Path | None = None, error: str | None = None
    ) -> CampaignRun:
        """Record a run's end; its numbers are read from its run directory when it has one."""
        update: dict[str, object] = {"state": state, "ended_unix": time.time(), "error": error}
        if run_dir is not None:
            update["dir"] = os.path.relpath(Path(run_dir), self.path)
        entry = self.record.runs[index].model_copy(update=update)
        update = {"counted": False, "spoiled": None}
        if state == "error":  # the executor raised: the workbench broke, not the subject
            update["spoiled"] = "workbench error"
        if self.has_run_dir(entry):
            try:
                got = run_numbers.run_metrics(self.run_path(entry))  # type: ignore[arg-type]
            except Exception as exc:  # a damaged run directory is recorded, not fatal
                update.update(metrics=Headline(), error=f"{error or ''} metrics: {exc}".strip())
            else:
                update.update(
                    run_status=got.status,
                    metrics=got.numbers,
                    verdicts=got.verdicts,
                    counted=state == "done" and got.counted,
                    spoiled=update["spoiled"] or got.spoiled,
                )
        entry = CampaignRun.model_validate({**entry.model_dump(), **update})
        self.record.runs[index] = entry
        self.save()
        return entry

    def reruns_left(self, config: str) -> int:
        """How many more spoiled runs of `config` may be queued again (CampaignFile.rerun_spoiled)."""
        used = sum(r.rerun_of is not None and r.config == config for r in self.record.runs)
        return max(0, self.file.rerun_spoiled - used)

    def requeue(self, index: int) -> CampaignRun:
        """Queue a spoiled run again, a round of the other configurations later (interleaved
        with the runs still to come, not all at the end); its numbers no longer count. The runs
        after the new one move one place down (they have not started: no run id yet)."""
        spoiled = self.record.runs[index].model_copy(update={"counted": False})
        at = min(index + len(self.record.configs), len(self.record.runs))
        new = CampaignRun(
            index=at, config=spoiled.config, repetition=spoiled.repetition, rerun_of=index
        )
        runs = [*self.record.runs[:index], spoiled, *self.record.runs[index + 1 : at], new]
        runs += [r.model_copy(update={"index": r.index + 1}) for r in self.record.runs[at:]]
        self.record.runs = runs
        self.save()
        return new

    # ---- the statistics' inputs ------------------------------------------------------------
    def samples(self) -> dict[str, list[Headline]]:
        """Counted runs' numbers by configuration (every configuration present, maybe empty)."""
        out: dict[str, list[Headline]] = {c: [] for c in self.record.configs}
        for r in self.record.runs:
            if r.counted:
                out[r.config].append(r.numbers)
        return out

    def operator_samples(self) -> dict[str, list[run_numbers.OperatorNumbers]]:
        """Counted runs' operator scores by configuration (read from their operator.json; a run
        without one, or whose directory is gone, is absent)."""
        out: dict[str, list[run_numbers.OperatorNumbers]] = {c: [] for c in self.record.configs}
        for r in self.record.runs:
            path = self.run_path(r)
            if r.counted and path is not None and self.has_run_dir(r):
                got = run_numbers.operator_numbers(path)
                if got is not None:
                    out[r.config].append(got)
        return out

    def excluded(self) -> dict[str, int]:
        """Finished runs left out of the statistics, by configuration."""
        out = dict.fromkeys(self.record.configs, 0)
        for r in self.record.runs:
            if r.state in DONE_STATES and not r.counted:
                out[r.config] += 1
        return out


def _with_defaults(spec: dict[str, object]) -> dict[str, object]:
    try:
        return CampaignFile.model_validate(spec).model_dump(mode="json")
    except ValueError:  # a file this version refuses: not the same campaign
        return spec
