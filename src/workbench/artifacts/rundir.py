"""The run directory: written as the run goes (save first, then raise), read by reports.

    results/<run_id>/
      run.json  checks.json  ycsb/  metrics/  timeline.parquet  figures/  logs/
      notebook.ipynb  report.html  progress.jsonl  faults.json

`RunDir` owns the layout and every file in it: the typed run record (`record.RunRecord`),
checks.json (`verdicts.py`), faults.json (`faults.py`), the progress log (`progress.py`) and the
side files (`sidefiles.RunFiles`, which it inherits); no other room opens a run file by path. A run id that exists is
never reused: `create` refuses it; only the kernel a supervisor handed a record to reopens it
(`open_handoff`). JSON goes through `jsonio.write_json` (atomic).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from workbench.errors import ConfigError
from workbench.jsonio import read_json, utc_iso, write_json
from workbench.model import Verdict

from .faults import FAULTS_FILE, FaultsDoc, FileProblem, read_faults
from .operator import OPERATOR_FILE, OperatorDoc, read_operator
from .progress import PROGRESS_FILE, ProgressLog
from .record import FINAL_STATUSES, Mark, RunRecord, Stage, Supervisor, migrate
from .sidefiles import RunFiles
from .verdicts import CHECKS_FILE, read_verdicts, write_verdicts

if TYPE_CHECKING:
    import pandas as pd

T = TypeVar("T")
SUBDIRS = ("ycsb", "metrics", "figures", "logs")
# Room kept for the end of a run: a full disk mid-run must still leave a finished record and a
# report. Released (deleted) when a write fails with ENOSPC, then the write is tried again.
RESERVE_BYTES = 2 * 1024 * 1024
RESERVE_NAME = ".reserve"


def release_reserve(run_dir: Path) -> bool:
    """Delete a run directory's reserve (see RESERVE_BYTES): done once its report is written, or
    when the run is over however it ended (killed runs included); False when there was none."""
    try:
        (Path(run_dir) / RESERVE_NAME).unlink()
    except FileNotFoundError:
        return False
    return True


def read_record(path: Path) -> RunRecord:
    """run.json of a run directory as the typed record (any schema); a damaged one is a
    ConfigError naming the file, never a raw traceback."""
    file = path / "run.json"
    try:
        data = read_json(file)
        return RunRecord.model_validate(migrate(data))
    except FileNotFoundError:
        raise ConfigError(f"{path} is not a run directory (no run.json)") from None
    except (ValueError, ValidationError, TypeError, AttributeError) as exc:
        first = str(exc).splitlines()[0][:200]
        raise ConfigError(f"{file} is unreadable: {first}") from exc


class RunDir(RunFiles):
    """One run directory. Every mutating call persists run.json before returning."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not (self.path / "run.json").is_file():
            raise ConfigError(f"{self.path} is not a run directory (no run.json)")
        self.record: RunRecord = read_record(self.path)

    # ---- creation and layout -------------------------------------------------------------
    @classmethod
    def create(
        cls,
        results_dir: Path | str,
        run_id: str,
        subject: str,
        params: dict[str, Any],
        kind: str = "benchmark",
        *,
        handoff: bool = False,
    ) -> RunDir:
        """Make `results_dir/run_id` with its subfolders and a run.json in status `running`.
        An existing directory of that id is refused (never overwritten, never mixed).
        `handoff`: a supervisor creates it for a kernel, which reopens it (`open_handoff`)."""
        path = Path(results_dir) / run_id
        if path.exists():
            raise ConfigError(
                f"run id {run_id!r} exists already ({path}); choose another --run-id "
                "or leave it out for a generated one"
            )
        path.mkdir(parents=True)
        for sub in SUBDIRS:
            (path / sub).mkdir()
        rec = RunRecord.new(run_id, subject, params, kind)
        if handoff:
            rec.supervisor = Supervisor(pid=os.getpid())
        write_json(path / "run.json", rec.to_json())
        with open(path / RESERVE_NAME, "wb") as fh:  # see RESERVE_BYTES
            fh.write(bytes(RESERVE_BYTES))
        return cls(path)

    def release_reserve(self) -> bool:
        """Give back the room kept for the end of the run; False when there was none left."""
        return release_reserve(self.path)

    def _retry_on_full_disk(self, write: Callable[[], T]) -> T:
        try:
            return write()
        except OSError as exc:
            if exc.errno != errno.ENOSPC or not self.release_reserve():
                raise
            return write()

    @classmethod
    def open_handoff(cls, results_dir: Path | str, run_id: str) -> RunDir | None:
        """The record a supervisor created for this kernel, or None when there is none. A
        directory that exists but was not handed over is refused like in `create`."""
        path = Path(results_dir) / run_id
        if not path.exists():
            return None
        rd = cls(path)
        if rd.record.supervisor is None or not rd.record.supervisor.handoff:
            raise ConfigError(f"run id {run_id!r} exists already ({path}); choose another")
        if rd.record.status != "running":
            raise ConfigError(f"run {run_id!r} is finished ({rd.record.status}); start a new one")
        rd.record.supervisor.handoff = False  # taken: nobody else may reopen it
        rd.update(pid=os.getpid())
        return rd

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @property
    def status(self) -> str:
        return self.record.status

    @functools.cached_property
    def progress(self) -> ProgressLog:
        """The run's progress events (progress.jsonl): the conductor emits, the supervisor
        follows."""
        return ProgressLog(self.path / PROGRESS_FILE)

    def sub(self, name: str) -> Path:
        p = self.path / name
        p.mkdir(parents=True, exist_ok=True)
        return p

    @property
    def ycsb_dir(self) -> Path:
        return self.sub("ycsb")

    @property
    def metrics_dir(self) -> Path:
        return self.sub("metrics")

    @property
    def figures_dir(self) -> Path:
        return self.sub("figures")

    @property
    def logs_dir(self) -> Path:
        return self.sub("logs")

    @property
    def checks_path(self) -> Path:
        return self.path / CHECKS_FILE

    @property
    def timeline_path(self) -> Path:
        return self.path / "timeline.parquet"

    # ---- run.json ----------------------------------------------------------------------------
    def save(self) -> None:
        self._retry_on_full_disk(lambda: write_json(self.path / "run.json", self.record.to_json()))

    def update(self, **fields: Any) -> None:
        """Set record fields (validated: an unknown field or a wrong type raises) and save."""
        for k, v in fields.items():
            setattr(self.record, k, v)
        self.save()

    def reload(self) -> None:
        self.record = read_record(self.path)

    def stages(self) -> list[Stage]:
        return list(self.record.stages)

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Record a stage's start and end in run.json; an exception marks it and propagates."""
        entry = Stage(name=name, started=time.time())
        self.record.stages.append(entry)
        self.save()
        try:
            yield
        except BaseException as exc:
            entry.status = "aborted" if isinstance(exc, KeyboardInterrupt) else "error"
            entry.error = f"{type(exc).__name__}: {exc}"[:4000]
            raise
        else:
            entry.status = "ok"
        finally:
            entry.ended = time.time()
            self.save()

    def add_mark(self, name: str, start: float, end: float, source: str = "stage") -> None:
        """A span on the run's clock (load, run, warmup, a fault) drawn on every time axis."""
        self.record.marks.append(Mark(name=name, start=start, end=end, source=source))
        self.save()

    def marks(self) -> list[Mark]:
        return list(self.record.marks)

    def finish(self, status: str, error: str | None = None) -> None:
        if status not in FINAL_STATUSES:
            raise ValueError(f"invalid final status {status!r}; valid: {FINAL_STATUSES}")
        now = time.time()
        self.record.status = status  # type: ignore[assignment]
        self.record.ended, self.record.ended_unix = utc_iso(now), now
        if error:
            self.record.error = error[:20000]
        self.save()

    # ---- verdicts ------------------------------------------------------------------------------
    def save_verdicts(self, verdicts: Iterable[Verdict]) -> list[Verdict]:
        """Merge verdicts into checks.json (a re-run check replaces its earlier verdict)."""
        merged = {(v.phase, v.name): v for v in self.verdicts()}
        for v in verdicts:
            merged[(v.phase, v.name)] = v
        out = list(merged.values())
        self._retry_on_full_disk(lambda: write_verdicts(self.path, out))
        return out

    def verdicts(self) -> list[Verdict]:
        """checks.json's verdicts ([] before any); a damaged file raises ConfigError."""
        return read_verdicts(self.path)

    # ---- faults.json -------------------------------------------------------------------------
    def save_faults(self, doc: FaultsDoc) -> Path:
        """The run phase's faults (artifacts.faults.FaultsDoc), atomically."""
        path = self.path / FAULTS_FILE
        return self._retry_on_full_disk(lambda: write_json(path, doc.to_json()))

    def faults(self) -> FaultsDoc | FileProblem | None:
        """The faults document (any schema, migrated); None: the run had no faults; a
        FileProblem when the file is damaged."""
        return read_faults(self.path)

    # ---- operator.json -----------------------------------------------------------------------
    def save_operator(self, doc: OperatorDoc) -> Path:
        """The operator under test's file (artifacts.operator.OperatorDoc), atomically."""
        path = self.path / OPERATOR_FILE
        return self._retry_on_full_disk(lambda: write_json(path, doc.to_json()))

    def operator(self) -> OperatorDoc | FileProblem | None:
        """The operator document; None: the run had none; a FileProblem when damaged."""
        return read_operator(self.path)

    # ---- data files -----------------------------------------------------------------------------
    def save_ycsb(self, phase: str, final: pd.DataFrame, intervals: pd.DataFrame) -> None:
        self.save_frame(f"ycsb/{phase}.final.csv", final)
        self.save_frame(f"ycsb/{phase}.intervals.csv", intervals)

    def ycsb_final(self, phase: str) -> pd.DataFrame | None:
        return self.read_frame(f"ycsb/{phase}.final.csv")

    def ycsb_intervals(self, phase: str) -> pd.DataFrame | None:
        return self.read_frame(f"ycsb/{phase}.intervals.csv")

    def metrics(self) -> dict[str, pd.DataFrame]:
        """Every `metrics/<query>.parquet` as a frame, by query name."""
        import pandas as pd  # lazy, as in read_frame

        d = self.path / "metrics"
        if not d.is_dir():
            return {}
        return {p.stem: pd.read_parquet(p) for p in sorted(d.glob("*.parquet"))}

    def save_timeline(self, df: pd.DataFrame) -> Path:
        return self.save_frame("timeline.parquet", df)

    def timeline(self) -> pd.DataFrame | None:
        return self.read_frame("timeline.parquet")

    def files(self) -> list[Path]:
        """Every file of the run, relative, sorted (the report links to them)."""
        return sorted(
            p.relative_to(self.path)
            for p in self.path.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )


def list_run_dirs(results_dir: Path | str) -> list[RunDir]:
    """Every readable run directory under results_dir, oldest first (run ids sort by time)."""
    return [rd for rd in scan_run_dirs(results_dir) if isinstance(rd, RunDir)]


def scan_run_dirs(results_dir: Path | str) -> list[RunDir | tuple[Path, str]]:
    """Every run directory under results_dir, oldest first: a RunDir, or (path, why) for one
    that cannot be read, so a reader reports it and goes on."""
    root = Path(results_dir)
    if not root.is_dir():
        return []
    out: list[RunDir | tuple[Path, str]] = []
    for p in sorted(root.iterdir()):
        if (p / "run.json").is_file():
            try:
                out.append(RunDir(p))
            except (ConfigError, OSError) as exc:
                out.append((p, str(exc)))
    return out


def run_status(verdicts: Iterable[Verdict]) -> str:
    """passed when every verdict passed or was skipped, failed when any failed, unknown when none
    failed but some could not be verified (never shown as an error: the reasons are recorded)."""
    vs = list(verdicts)
    if any(v.status == "fail" for v in vs):
        return "failed"
    if any(v.status == "unknown" for v in vs):
        return "unknown"
    return "passed"
