"""The campaign directory `results/campaigns/<campaign_id>/` and its record, campaign.json, typed.

    campaign.json   CampaignRecord: the validated campaign file (`spec`), each configuration's
                    run parameters, the baseline, the planned order and each run's state, run id,
                    directory (relative), headline numbers and verdict counts; written atomically
    runs.parquet    one row per planned run, derived from the record (`runs_frame`)
    stats.json      per metric: each configuration's summary and its comparison to the baseline;
                    the operator scores' statistics (`operator`) when runs had operator.json
    report.html     the campaign's page (campaign.report renders it to `report_path`)

`CampaignDir` is every reader's and writer's way in (the campaign room, the report's index, the
notebook); nobody opens these files by path. Schema 1 (written before this model: the same keys,
a run's `metrics` a free dict with `errors` as a float) is migrated on read; unknown keys of an
old record are dropped, never guessed at. Planning and running a campaign are campaign/'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from workbench.errors import ConfigError
from workbench.jsonio import read_json, replace_atomically, write_json

from .record import Headline

if TYPE_CHECKING:
    import pandas as pd

CAMPAIGN_SCHEMA = 2
RunState = Literal["planned", "running", "done", "error", "interrupted"]
CampaignStatus = Literal["planned", "running", "complete", "interrupted"]
DONE_STATES = ("done", "error")
PENDING_STATES = ("planned", "running", "interrupted")
# runs.parquet's number columns (a campaign's default metrics are among them)
FRAME_NUMBERS = ("throughput", "p50_ms", "p99_ms", "p999_ms", "intended_p99_ms", "errors")
FILES = ("campaign.json", "runs.parquet", "stats.json", "report.html")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class CampaignRun(_Model):
    """One planned run: its place in the order, its state and, once ended, what it measured."""

    index: int  # position in the execution order, from 0
    config: str
    repetition: int  # from 0
    state: RunState = "planned"
    attempts: int = 0
    run_id: str | None = None
    dir: str | None = None  # the run directory, relative to the campaign directory
    started: str | None = None
    started_unix: float | None = None
    ended_unix: float | None = None
    error: str | None = None
    run_status: str | None = None  # the run record's status
    metrics: Headline | None = None  # the run phase's headline numbers
    verdicts: dict[str, int] = Field(default_factory=dict)
    counted: bool = False  # its numbers enter the statistics
    spoiled: str | None = None  # why the host spoiled it (host_contention, a workbench error)
    rerun_of: int | None = None  # the index of the spoiled run this one replaces

    @property
    def numbers(self) -> Headline:
        return self.metrics or Headline()


class CampaignRecord(_Model):
    schema_version: int = Field(default=CAMPAIGN_SCHEMA, alias="schema")
    campaign_id: str
    created: str
    status: CampaignStatus = "planned"
    # the campaign file as validated (campaign.spec.CampaignFile's JSON; that room owns its shape)
    spec: dict[str, Any]
    source: str = ""  # the file's text
    configs: dict[str, dict[str, Any]]  # configuration -> its validated run parameters
    baseline: str
    runs: list[CampaignRun] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True)

    @property
    def name(self) -> str:
        return str(self.spec.get("name", ""))

    @property
    def subject(self) -> str:
        return str(self.spec.get("subject", ""))

    @property
    def workload(self) -> str:
        return str(self.spec.get("workload", ""))

    def pending(self) -> list[CampaignRun]:
        """What a resume still has to run, in the planned order."""
        return [r for r in self.runs if r.state in PENDING_STATES]

    def n_done(self) -> int:
        return sum(r.state in DONE_STATES for r in self.runs)

    def n_counted(self) -> int:
        return sum(r.counted for r in self.runs)

    def reruns(self) -> list[tuple[CampaignRun, CampaignRun]]:
        """(spoiled run, the run queued in its place) for every re-run, in the order."""
        return [(self.runs[r.rerun_of], r) for r in self.runs if r.rerun_of is not None]

    def rerun_summary(self) -> str:
        """`2 runs re-run: host_contention fail (t8 x1), workbench error (t2 x1)`, or ``."""
        pairs = self.reruns()
        if not pairs:
            return ""
        why: dict[str, dict[str, int]] = {}
        for spoiled, _ in pairs:
            per = why.setdefault(spoiled.spoiled or "spoiled", {})
            per[spoiled.config] = per.get(spoiled.config, 0) + 1
        parts = [
            f"{reason} ({', '.join(f'{c} x{k}' for c, k in per.items())})"
            for reason, per in why.items()
        ]
        return f"{len(pairs)} run{'s' * (len(pairs) != 1)} re-run: {'; '.join(parts)}"

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


_RUN_KEYS = set(CampaignRun.model_fields)
_RECORD_KEYS = set(CampaignRecord.model_fields)


def migrate_campaign(data: dict[str, Any]) -> dict[str, Any]:
    """campaign.json of any schema as schema-2 fields. Schema 1: a run's `metrics` was a free
    dict of throughput/p50_ms/p99_ms/p999_ms/errors (errors a float): kept where it fits."""
    version = int(data.get("schema", 1))
    if version >= CAMPAIGN_SCHEMA:
        return data
    out = {k: v for k, v in data.items() if k in _RECORD_KEYS and k != "schema_version"}
    runs = []
    for entry in data.get("runs") or []:
        run = {k: v for k, v in entry.items() if k in _RUN_KEYS}
        numbers = entry.get("metrics")
        if isinstance(numbers, dict):
            kept = {k: v for k, v in numbers.items() if k in Headline.model_fields}
            if isinstance(kept.get("errors"), float):
                kept["errors"] = round(kept["errors"])
            run["metrics"] = kept
        runs.append(run)
    out["runs"] = runs
    out["schema"] = CAMPAIGN_SCHEMA
    return out


def read_campaign(path: Path) -> CampaignRecord:
    """campaign.json of a campaign directory (any schema); a damaged one is a ConfigError naming
    the file."""
    file = path / "campaign.json"
    try:
        return CampaignRecord.model_validate(migrate_campaign(read_json(file)))
    except FileNotFoundError:
        raise ConfigError(f"{path}: not a campaign directory (no campaign.json)") from None
    except (ValueError, ValidationError, TypeError, AttributeError) as exc:
        first = str(exc).splitlines()[0][:200]
        raise ConfigError(f"{file} is unreadable: {type(exc).__name__}: {first}") from exc


def campaigns_dir(results_dir: Path | str) -> Path:
    """Where a results directory keeps its campaigns."""
    return Path(results_dir) / "campaigns"


def campaign_report_of(path: Path | str) -> Path:
    """A campaign directory's report.html (also for one whose record cannot be read)."""
    return Path(path) / "report.html"


class _Open(BaseModel):
    """stats.json's parts: known fields typed, keys of older or newer writers kept."""

    model_config = ConfigDict(extra="allow")


class MedianSummary(_Open):
    """One configuration's summary of one metric (stats.Summary as written)."""

    n: int
    median: float | None = None
    mean: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    cv: float | None = None
    ci_level: float | None = None
    ci_needed_n: int | None = None


class RatioComparison(_Open):
    """One configuration against the baseline on one metric (stats.Comparison as written)."""

    metric: str
    n_base: int
    n_other: int
    ratio: float | None = None
    ratio_low: float | None = None
    ratio_high: float | None = None
    p_value: float | None = None
    verdict: str
    needed_n: int | None = None
    ratio_level: float | None = None
    ratio_needed_n: int | None = None
    text: str = ""


class MetricStats(_Open):
    unit: str = ""
    higher_is_better: bool = True
    summaries: dict[str, MedianSummary] = Field(default_factory=dict)
    comparisons: dict[str, RatioComparison] = Field(default_factory=dict)


class FaultCounts(_Open):
    """A configuration's faults over its counted runs with operator scores."""

    recovered: int = 0
    not_recovered: int = 0  # censored: watched to the end of the run, never whole again
    undetermined: int = 0  # the scores could not tell


class RecoveredComparison(_Open):
    """Fisher's exact test of a configuration's recovered / not-recovered counts against the
    baseline's (stats.CountComparison as written; `base`/`other`: [recovered, not recovered])."""

    base: list[int]
    other: list[int]
    p_value: float | None = None
    odds_ratio: float | None = None
    verdict: str
    text: str = ""


class OperatorStats(_Open):
    """stats.json's `operator` section (campaign.opscores.OperatorTable): per operator metric
    (operator_detect_s, ...) each configuration's summary of its runs' per-fault medians and the
    comparison to the baseline where both sides have values; the faults recovered per
    configuration and Fisher's test against the baseline."""

    runs: dict[str, int] = Field(default_factory=dict)  # configuration -> runs with scores
    metrics: dict[str, MetricStats] = Field(default_factory=dict)
    counts: dict[str, FaultCounts] = Field(default_factory=dict)
    recovered: dict[str, RecoveredComparison] = Field(default_factory=dict)


class StatsDoc(_Open):
    """stats.json: per metric, each configuration's summary and its comparison to the baseline;
    `operator`: the operator scores' statistics, when runs had operator.json (None in files
    written before it, and when no run had one).
    A file of the bootstrap days (with `seed` and `resamples`) reads too; those keys are kept."""

    campaign_id: str = ""
    baseline: str
    groups: list[str] = Field(default_factory=list)
    alpha: float
    min_effect: float
    excluded: dict[str, int] = Field(default_factory=dict)
    metrics: dict[str, MetricStats] = Field(default_factory=dict)
    operator: OperatorStats | None = None

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class CampaignDir:
    """One campaign directory: its record (loaded once) and every file in it."""

    def __init__(self, path: Path | str, record: CampaignRecord | None = None) -> None:
        self.path = Path(path)
        self.record = record if record is not None else read_campaign(self.path)

    @staticmethod
    def is_campaign(path: Path | str) -> bool:
        return (Path(path) / "campaign.json").is_file()

    # ---- the files -------------------------------------------------------------------------
    @property
    def record_path(self) -> Path:
        return self.path / "campaign.json"

    @property
    def runs_path(self) -> Path:
        return self.path / "runs.parquet"

    @property
    def stats_path(self) -> Path:
        return self.path / "stats.json"

    @property
    def report_path(self) -> Path:
        return campaign_report_of(self.path)

    @property
    def campaign_id(self) -> str:
        return self.record.campaign_id

    @property
    def results_dir(self) -> Path:
        """Where the runs' directories go: the results directory holding campaigns/."""
        return self.path.parent.parent

    def run_path(self, run: CampaignRun) -> Path | None:
        """A run's directory (absolute), or None before it started."""
        return None if not run.dir else (self.path / run.dir).resolve()

    def has_run_dir(self, run: CampaignRun) -> bool:
        path = self.run_path(run)
        return path is not None and (path / "run.json").is_file()

    def save(self) -> None:
        write_json(self.record_path, self.record.to_json())

    def write_runs(self) -> Path:
        """runs.parquet from the record, atomically."""
        frame = runs_frame(self.record)
        return replace_atomically(self.runs_path, lambda tmp: frame.to_parquet(tmp, index=False))

    def read_runs(self) -> pd.DataFrame:
        import pandas as pd  # kept off `workbench ls`'s import path (as in rundir.py)

        return pd.read_parquet(self.runs_path)

    def write_stats(self, doc: StatsDoc) -> Path:
        """stats.json (compare.CompareTable.document)."""
        return write_json(self.stats_path, doc.to_json())

    def read_stats(self) -> StatsDoc:
        """stats.json, typed; a damaged one is a ConfigError naming the file."""
        try:
            return StatsDoc.model_validate(read_json(self.stats_path))
        except (ValueError, ValidationError, TypeError) as exc:
            first = str(exc).splitlines()[0][:200]
            raise ConfigError(f"{self.stats_path} is unreadable: {first}") from exc

    def has_report(self) -> bool:
        return self.report_path.is_file()


def runs_frame(record: CampaignRecord) -> pd.DataFrame:
    """runs.parquet's rows: one per planned run, in the planned order."""
    import pandas as pd  # kept off `workbench ls`'s import path (as in rundir.py)

    rows = []
    for r in record.runs:
        n = r.numbers
        rows.append(
            {
                "order": r.index,
                "config": r.config,
                "repetition": r.repetition,
                "run_id": r.run_id,
                "dir": r.dir,
                "start": pd.Timestamp(r.started) if r.started else pd.NaT,
                "state": r.state,
                "status": r.run_status,
                "counted": r.counted,
                **{k: n.value(k) for k in FRAME_NUMBERS},
                "verdicts": verdict_text(r.verdicts),
                "error": r.error,
            }
        )
    df = pd.DataFrame(rows)
    for k in FRAME_NUMBERS:
        df[k] = pd.to_numeric(df[k], errors="coerce").astype(float)
    return df


def verdict_text(counts: dict[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(counts.items()))


def scan_campaign_dirs(results_dir: Path | str) -> list[CampaignDir | tuple[Path, str]]:
    """Every campaign under results_dir/campaigns, newest first: a CampaignDir, or (path, why)
    for one that cannot be read, so a reader reports it and goes on."""
    root = campaigns_dir(results_dir)
    if not root.is_dir():
        return []
    out: list[CampaignDir | tuple[Path, str]] = []
    for p in sorted(root.iterdir(), reverse=True):
        if CampaignDir.is_campaign(p):
            try:
                out.append(CampaignDir(p))
            except (ConfigError, OSError) as exc:
                out.append((p, str(exc).replace(f"{p}/", "")))
    return out
