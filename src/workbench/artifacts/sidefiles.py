"""A run's side files: what a run leaves besides run.json, checks.json, faults.json and its
progress log, each with one accessor (`RunDir` inherits `RunFiles`), so no other room opens a
run file by path.

    ycsb/<phase>.log             the tool's own output (it writes there: `ycsb_log`)
    ycsb/<phase>.interval.csv    per-interval histograms (`interval_csv`, `interval_histograms`)
    ycsb/<phase>.hlog            HdrHistogram interval log (`hlog`)
    ycsb/<phase>.errors.json     the native generator's error classes and completions per 100 ms
                                 (`error_classes`: typed)
    metrics/raw/server_ops.*     raw scrapes of the server's op counter and how they are split
                                 (`save_server_ops`, `server_ops`)
    faults/probe.parquet         the availability probe's attempts, on the run's clock
                                 (`save_probe_samples`, `probe_samples`)
    operator/events.jsonl        the operator under test's own word: the folder is mounted into
                                 its container, it appends (`operator_events_dir`, `..._file`)
    operator/membership.parquet  the cluster's membership sampled over the run (unix s)
                                 (`save_membership`, `membership`)
    logs/operator.log            the operator's output (`operator_log`)
    figures/<name>.png           the report's figures (`save_png`, `figure`)
    notebook.ipynb, report.html  (`notebook_path`, `report_path`)

Module functions answer for a directory that may not be readable as a run (the index's rows).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from workbench.jsonio import read_json, replace_atomically, write_json
from workbench.ycsb.intervals import read_interval_csv
from workbench.ycsb.tools import interval_files

from .record import RequestPolicyInfo
from .verdicts import CHECKS_FILE

if TYPE_CHECKING:
    import pandas as pd

RECORD_FILE = "run.json"
REPORT_FILE = "report.html"
NOTEBOOK_FILE = "notebook.ipynb"
INDEX_FILES = (REPORT_FILE, RECORD_FILE, CHECKS_FILE, NOTEBOOK_FILE)  # what the index links
SERVER_OPS = "metrics/raw/server_ops.parquet"
SERVER_OPS_INFO = "metrics/raw/server_ops.json"
PROBE_SAMPLES = "faults/probe.parquet"
OPERATOR_DIR = "operator"
OPERATOR_EVENTS = "events.jsonl"
MEMBERSHIP_SAMPLES = "operator/membership.parquet"


class ErrorCount(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    t_s: float
    operation: str
    error_class: str = Field(alias="class")
    count: int


class Completions(BaseModel):
    """Operations that finished in one 100 ms bucket (`t_s`: its end, s from the phase's t=0)."""

    model_config = ConfigDict(extra="allow")
    t_s: float
    ok: int = 0
    errors: int = 0


class ErrorClasses(BaseModel):
    """ycsb/<phase>.errors.json (the native generator): errors by operation and class, per
    second, and completions per 100 ms."""

    model_config = ConfigDict(extra="allow")
    run_seconds: float | None = None
    totals: dict[str, dict[str, int]] = Field(default_factory=dict)
    per_second: list[ErrorCount] = Field(default_factory=list)
    completions_100ms: list[Completions] = Field(default_factory=list)
    # the generator's worker processes, request policy (deadline, retries) and, per operation,
    # attempts/retries/errors (absent from older generators' files)
    processes: int | None = None
    policy: RequestPolicyInfo | None = None
    requests: dict[str, dict[str, int]] | None = None


class QueryEntry(BaseModel):
    """One query of metrics/queries.json (written by workbench.prometheus.collect): its PromQL,
    unit and kind, and its Parquet file (None with the error when the query failed)."""

    model_config = ConfigDict(extra="allow")
    name: str
    query: str = ""
    unit: str = ""
    kind: str = "other"
    description: str = ""
    file: str | None = None
    error: str | None = None


class ServerOpsInfo(BaseModel):
    """How the raw server op scrapes were taken: the counter and the labels to split by."""

    model_config = ConfigDict(extra="ignore")
    selector: str = ""
    by: list[str] = Field(default_factory=list)


def is_run_dir(path: Path) -> bool:
    return (Path(path) / RECORD_FILE).is_file()


def index_files(path: Path) -> list[str]:
    """The run's files the results index links to, those that exist."""
    return [f for f in INDEX_FILES if (Path(path) / f).is_file()]


def report_of(path: Path) -> Path:
    """Where a run directory's report.html is (whether or not the run is readable)."""
    return Path(path) / REPORT_FILE


def notebook_of(path: Path) -> Path:
    """Where a run directory's executed notebook goes."""
    return Path(path) / NOTEBOOK_FILE


class RunFiles:
    """The side files of the run directory at `path` (mixed into RunDir)."""

    path: Path

    def save_frame(self, rel: str, df: pd.DataFrame) -> Path:
        """CSV or Parquet by suffix, written to a temporary name then renamed."""
        path = self.path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".csv":
            return replace_atomically(path, lambda tmp: df.to_csv(tmp, index=False))
        return replace_atomically(path, lambda tmp: df.to_parquet(tmp, index=False))

    def read_frame(self, rel: str) -> pd.DataFrame | None:
        import pandas as pd  # lazy: `workbench run`'s summary path never loads pandas

        path = self.path / rel
        if not path.is_file():
            return None
        return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)

    # ---- files of the run's own layout --------------------------------------------------------
    @property
    def record_path(self) -> Path:
        return self.path / RECORD_FILE

    @property
    def report_path(self) -> Path:
        return report_of(self.path)

    @property
    def notebook_path(self) -> Path:
        return notebook_of(self.path)

    def rendered_after_record(self) -> bool:
        """report.html and the results index were written after run.json's last change."""
        try:
            rec = self.record_path.stat().st_mtime_ns
            return all(
                p.stat().st_mtime_ns >= rec
                for p in (self.report_path, self.path.parent / "index.html")
            )
        except OSError:
            return False

    # ---- what the YCSB tool writes -----------------------------------------------------------
    def _ycsb(self, name: str) -> Path:
        d = self.path / "ycsb"
        d.mkdir(parents=True, exist_ok=True)
        return d / name

    def ycsb_log(self, phase: str) -> Path:
        """ycsb/<phase>.log: where the tool's output goes (the tool writes it)."""
        return self._ycsb(f"{phase}.log")

    def hlog(self, phase: str) -> Path:
        return self._ycsb(interval_files(phase)[0])

    def generator_dir(self, index: int) -> Path:
        """ycsb/g<i>/: generator i's own log and interval files when several generators ran
        (ycsb/<phase>.* are then their merged result)."""
        d = self.path / "ycsb" / f"g{index}"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def generator_series(self, phase: str) -> pd.DataFrame | None:
        """ycsb/<phase>.generators.csv: each generator's per-interval rows, `generator` column."""
        return self.read_frame(f"ycsb/{phase}.generators.csv")

    def interval_csv(self, phase: str) -> Path:
        """ycsb/<phase>.interval.csv: where per-interval histograms go (the native tool writes
        it; go-ycsb's raw samples are turned into it)."""
        return self._ycsb(interval_files(phase)[1])

    def interval_histograms(self, phase: str) -> pd.DataFrame | None:
        """The phase's per-interval histogram rows; None when none were written (or empty)."""
        path = self.interval_csv(phase)
        if not path.is_file() or path.stat().st_size == 0:
            return None
        return read_interval_csv(path)

    def has_intervals(self, phase: str) -> bool:
        """The phase left a client series: the status blocks' intervals or the histograms."""
        if (self.path / "ycsb" / f"{phase}.intervals.csv").is_file():
            return True
        path = self.interval_csv(phase)
        return path.is_file() and path.stat().st_size > 0

    def error_classes(self, phase: str) -> ErrorClasses | None:
        """ycsb/<phase>.errors.json; None when the tool wrote none (go-ycsb) or it is damaged."""
        path = self.path / "ycsb" / f"{phase}.errors.json"
        try:
            data = read_json(path)
            return ErrorClasses.model_validate(data)
        except (OSError, ValueError, ValidationError):
            return None

    # ---- metrics ------------------------------------------------------------------------------
    def queries(self) -> list[QueryEntry]:
        """The queries used (`metrics/queries.json`: an object with `queries`, or an older bare
        list); [] when there is none or it is damaged (the frames themselves still read)."""
        try:
            data = read_json(self.path / "metrics" / "queries.json")
            items = data.get("queries", []) if isinstance(data, dict) else data
            return [QueryEntry.model_validate(q) for q in items]
        except (OSError, ValueError, ValidationError, TypeError, AttributeError):
            return []

    # ---- raw server scrapes ------------------------------------------------------------------
    def save_server_ops(self, raw: pd.DataFrame, info: ServerOpsInfo) -> None:
        self.save_frame(SERVER_OPS, raw)
        write_json(self.path / SERVER_OPS_INFO, info.model_dump())

    def server_ops(self) -> tuple[pd.DataFrame | None, ServerOpsInfo]:
        """The raw scrapes of the server's op counter (None: not taken) and how to split them."""
        raw = self.read_frame(SERVER_OPS)
        try:
            info = ServerOpsInfo.model_validate(read_json(self.path / SERVER_OPS_INFO))
        except (OSError, ValueError, ValidationError):
            info = ServerOpsInfo()
        return raw, info

    # ---- figures -----------------------------------------------------------------------------
    def save_probe_samples(self, samples: pd.DataFrame) -> str:
        """The availability probe's attempts; returns the file's name relative to the run."""
        self.save_frame(PROBE_SAMPLES, samples)
        return PROBE_SAMPLES

    def probe_samples(self) -> pd.DataFrame | None:
        """The availability probe's attempts, or None when the run had no probe."""
        return self.read_frame(PROBE_SAMPLES)

    def operator_events_dir(self) -> Path:
        """The folder mounted into the operator's container (made writable by any user: the
        operator's image may not run as root)."""
        d = self.path / OPERATOR_DIR
        d.mkdir(parents=True, exist_ok=True)
        d.chmod(0o777)
        return d

    def operator_events_file(self) -> Path:
        """The operator's events file (it may not exist: an operator that said nothing)."""
        return self.path / OPERATOR_DIR / OPERATOR_EVENTS

    def operator_log(self) -> Path:
        """The operator container's output, written at the end of its run."""
        d = self.path / "logs"
        d.mkdir(parents=True, exist_ok=True)
        return d / "operator.log"

    def save_membership(self, samples: pd.DataFrame) -> str:
        """The membership rounds (one row per member per round); the file's relative name."""
        self.save_frame(MEMBERSHIP_SAMPLES, samples)
        return MEMBERSHIP_SAMPLES

    def membership(self) -> pd.DataFrame | None:
        return self.read_frame(MEMBERSHIP_SAMPLES)

    def save_png(self, name: str, png: bytes) -> Path:
        """figures/<name>.png, atomically (rasterised by the report's plots.to_png)."""
        d = self.path / "figures"
        d.mkdir(parents=True, exist_ok=True)
        return replace_atomically(d / f"{name}.png", lambda tmp: tmp.write_bytes(png))

    def figure(self, name: str, newer_than: str = "timeline.parquet") -> bytes | None:
        """figures/<name>.png when it was drawn after `newer_than` changed; None: draw it."""
        path = self.path / "figures" / f"{name}.png"
        try:
            if path.stat().st_mtime >= (self.path / newer_than).stat().st_mtime:
                return path.read_bytes()
        except OSError:
            return None
        return None
