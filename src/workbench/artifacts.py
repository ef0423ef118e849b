"""The run directory: written as the run goes (save first, then raise), read by reports.

    results/<run_id>/
      run.json  checks.json  ycsb/  metrics/  timeline.parquet  figures/  logs/
      notebook.ipynb  report.html

`RunDir` owns the layout. JSON is written atomically (temporary file in the same folder, then
`os.replace`), so a reader never sees half a file, even when the writer is killed.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import ConfigError
from workbench.model import Verdict

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

RUN_STATUSES = ("running", "passed", "failed", "error", "aborted")
FINAL_STATUSES = ("passed", "failed", "error", "aborted")
SUBDIRS = ("ycsb", "metrics", "figures", "logs")
SCHEMA = 1


def utc_iso(ts: float | None = None) -> str:
    """Unix seconds → ISO-8601 UTC with milliseconds (the format of every timestamp we write)."""
    t = time.time() if ts is None else ts
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    if isinstance(obj, datetime):
        return obj.isoformat()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _clean(obj: Any) -> Any:
    """NaN/Inf are not JSON: a missing value stays missing (null), never 0."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None if math.isnan(obj) else ("+Inf" if obj > 0 else "-Inf")
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def write_json(path: Path, obj: Any) -> Path:
    """Write JSON atomically: temporary file next to the target, fsync, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_clean(obj), indent=2, default=_json_default, allow_nan=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def write_verdicts(path: Path, verdicts: Iterable[Verdict]) -> Path:
    """checks.json: a JSON list of verdict objects (the checks module writes the same format)."""
    return write_json(path, [v.to_dict() for v in verdicts])


def _checks_writer() -> Any:
    """The checks module's own checks.json writer when it exists (it owns the format)."""
    import importlib

    try:
        module = importlib.import_module("workbench.checks")
    except ImportError:
        return None
    return getattr(module, "write_checks_json", None)


def read_verdicts(path: Path) -> list[Verdict]:
    if not path.is_file():
        return []
    data = read_json(path)
    items = data.get("verdicts", []) if isinstance(data, dict) else data
    return [Verdict.from_dict(d) for d in items]


def run_status(verdicts: Iterable[Verdict]) -> str:
    """passed when every verdict passed or was skipped, failed when any failed, else error."""
    vs = list(verdicts)
    if any(v.status == "fail" for v in vs):
        return "failed"
    if any(v.status == "unknown" for v in vs):
        return "error"
    return "passed"


@dataclass(frozen=True)
class Stage:
    name: str
    started: float
    ended: float | None
    status: str  # running | ok | error | aborted
    error: str = ""


class RunDir:
    """One run directory. Every mutating call persists run.json before returning."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not (self.path / "run.json").is_file():
            raise ConfigError(f"{self.path} is not a run directory (no run.json)")
        self.record: dict[str, Any] = read_json(self.path / "run.json")

    # ---- creation and layout -------------------------------------------------------------
    @classmethod
    def create(
        cls,
        results_dir: Path | str,
        run_id: str,
        subject: str,
        params: dict[str, Any],
        kind: str = "benchmark",
    ) -> RunDir:
        """Make `results_dir/run_id` with its subfolders and a run.json in status `running`.

        An existing run directory with the same id (the CLI creates it, the notebook reopens it) is
        reopened, keeping its record.
        """
        path = Path(results_dir) / run_id
        if (path / "run.json").is_file():
            return cls(path)
        path.mkdir(parents=True, exist_ok=True)
        for sub in SUBDIRS:
            (path / sub).mkdir(exist_ok=True)
        now = time.time()
        record = {
            "schema": SCHEMA,
            "run_id": run_id,
            "kind": kind,
            "subject": subject,
            "params": params,
            "status": "running",
            "error": None,
            "started": utc_iso(now),
            "started_unix": now,
            "ended": None,
            "ended_unix": None,
            "stages": [],
            "marks": [],
            "fingerprint": {},
            "summary": {},
            "pid": os.getpid(),
        }
        write_json(path / "run.json", record)
        return cls(path)

    @property
    def run_id(self) -> str:
        return str(self.record["run_id"])

    @property
    def status(self) -> str:
        return str(self.record.get("status", "running"))

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
        return self.path / "checks.json"

    @property
    def timeline_path(self) -> Path:
        return self.path / "timeline.parquet"

    # ---- run.json ----------------------------------------------------------------------------
    def save(self) -> None:
        write_json(self.path / "run.json", self.record)

    def update(self, **fields: Any) -> None:
        self.record.update(fields)
        self.save()

    def reload(self) -> None:
        self.record = read_json(self.path / "run.json")

    def stages(self) -> list[Stage]:
        return [Stage(**s) for s in self.record.get("stages", [])]

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Record a stage's start and end in run.json; an exception marks it and propagates."""
        entry: dict[str, Any] = {
            "name": name,
            "started": time.time(),
            "ended": None,
            "status": "running",
            "error": "",
        }
        self.record.setdefault("stages", []).append(entry)
        self.save()
        try:
            yield
        except BaseException as exc:
            entry["status"] = "aborted" if isinstance(exc, KeyboardInterrupt) else "error"
            entry["error"] = f"{type(exc).__name__}: {exc}"[:4000]
            raise
        else:
            entry["status"] = "ok"
        finally:
            entry["ended"] = time.time()
            self.save()

    def add_mark(self, name: str, start: float, end: float) -> None:
        """A span on the run's clock (load, run, warmup) drawn on every time axis."""
        self.record.setdefault("marks", []).append({"name": name, "start": start, "end": end})
        self.save()

    def marks(self) -> list[dict[str, Any]]:
        return list(self.record.get("marks", []))

    def finish(self, status: str, error: str | None = None) -> None:
        if status not in FINAL_STATUSES:
            raise ValueError(f"invalid final status {status!r}; valid: {FINAL_STATUSES}")
        now = time.time()
        self.record.update(status=status, ended=utc_iso(now), ended_unix=now)
        if error:
            self.record["error"] = error[:20000]
        self.save()

    # ---- verdicts ------------------------------------------------------------------------------
    def save_verdicts(self, verdicts: Iterable[Verdict]) -> list[Verdict]:
        """Merge verdicts into checks.json (a re-run check replaces its earlier verdict)."""
        merged = {(v.phase, v.name): v for v in self.verdicts()}
        for v in verdicts:
            merged[(v.phase, v.name)] = v
        out = list(merged.values())
        writer = _checks_writer() or write_verdicts
        writer(self.checks_path, out)
        return out

    def verdicts(self) -> list[Verdict]:
        return read_verdicts(self.checks_path)

    # ---- data files -----------------------------------------------------------------------------
    def save_frame(self, rel: str, df: pd.DataFrame) -> Path:
        """CSV or Parquet by suffix, written to a temporary name then renamed."""
        path = self.path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        if path.suffix == ".csv":
            df.to_csv(tmp, index=False)
        else:
            df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
        return path

    def read_frame(self, rel: str) -> pd.DataFrame | None:
        import pandas as pd

        path = self.path / rel
        if not path.is_file():
            return None
        return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)

    def save_ycsb(self, phase: str, final: pd.DataFrame, intervals: pd.DataFrame) -> None:
        self.save_frame(f"ycsb/{phase}.final.csv", final)
        self.save_frame(f"ycsb/{phase}.intervals.csv", intervals)

    def ycsb_final(self, phase: str) -> pd.DataFrame | None:
        return self.read_frame(f"ycsb/{phase}.final.csv")

    def ycsb_intervals(self, phase: str) -> pd.DataFrame | None:
        return self.read_frame(f"ycsb/{phase}.intervals.csv")

    def metrics(self) -> dict[str, pd.DataFrame]:
        """Every `metrics/<query>.parquet` as a frame, by query name."""
        import pandas as pd

        d = self.path / "metrics"
        if not d.is_dir():
            return {}
        return {p.stem: pd.read_parquet(p) for p in sorted(d.glob("*.parquet"))}

    def queries(self) -> list[dict[str, Any]]:
        """The queries used (`metrics/queries.json`), as written by the metrics collector."""
        path = self.path / "metrics" / "queries.json"
        if not path.is_file():
            return []
        data = read_json(path)
        return list(data.get("queries", data) if isinstance(data, dict) else data)

    def save_timeline(self, df: pd.DataFrame) -> Path:
        return self.save_frame("timeline.parquet", df)

    def timeline(self) -> pd.DataFrame | None:
        return self.read_frame("timeline.parquet")

    def save_figure(self, name: str, fig: Figure) -> Path:
        path = self.figures_dir / f"{name}.png"
        tmp = path.with_name(f".{path.name}.tmp")
        fig.savefig(tmp, dpi=100, format="png")
        os.replace(tmp, path)
        return path

    def files(self) -> list[Path]:
        """Every file of the run, relative, sorted (the report links to them)."""
        return sorted(
            p.relative_to(self.path)
            for p in self.path.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )


def list_run_dirs(results_dir: Path | str) -> list[RunDir]:
    """Every run directory under results_dir, oldest first (run ids sort by time)."""
    root = Path(results_dir)
    if not root.is_dir():
        return []
    out = []
    for p in sorted(root.iterdir()):
        if (p / "run.json").is_file():
            with contextlib.suppress(ValueError, OSError, ConfigError):
                out.append(RunDir(p))
    return out


# ---- environment fingerprint ---------------------------------------------------------------------
KEY_LIBRARIES = (
    "pandas",
    "pyarrow",
    "matplotlib",
    "numpy",
    "httpx",
    "papermill",
    "nbclient",
    "python-on-whales",
    "hdrhistogram",
)


def sha256_file(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def _git(args: list[str], cwd: Path) -> str | None:
    import subprocess

    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def host_fingerprint() -> dict[str, Any]:
    """CPU, memory and kernel of this machine (missing values stay None)."""
    import platform

    cpu_model = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    mem_bytes = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_bytes = int(line.split()[1]) * 1024
    return {
        "hostname": platform.node(),
        "cpu_model": cpu_model,
        "cpu_count": os.cpu_count(),
        "memory_bytes": mem_bytes,
        "kernel": platform.release(),
        "os": platform.platform(),
        "machine": platform.machine(),
    }


def fingerprint(
    *,
    compose_file: Path | None = None,
    engine: dict[str, Any] | None = None,
    images: dict[str, Any] | None = None,
    repo: Path | None = None,
) -> dict[str, Any]:
    """The environment a run happened in: enough to tell two runs' set-ups apart.

    `engine` (engine and Compose versions) and `images` (service → image id) come from the caller,
    who can talk to the engine; this function only reads the local machine.
    """
    import platform
    from importlib import metadata

    from workbench import __version__

    repo = repo or Path(__file__).resolve().parents[2]
    libs: dict[str, str | None] = {}
    for name in KEY_LIBRARIES:
        try:
            libs[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            libs[name] = None
    sha = _git(["rev-parse", "HEAD"], repo)
    status = _git(["status", "--porcelain", "--untracked-files=no"], repo)
    return {
        "workbench_version": __version__,
        "git_sha": sha,
        "git_dirty": None if status is None else bool(status),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "libraries": libs,
        "engine": engine or {},
        "images": images or {},
        "compose_file": str(compose_file) if compose_file else None,
        "compose_sha256": sha256_file(compose_file)
        if compose_file and compose_file.is_file()
        else None,
        "host": host_fingerprint(),
    }


# ---- timeline: client intervals, server series and marks on one clock ----------------------------
TIMELINE_COLUMNS = ("time", "t_s", "source", "name", "series", "phase", "kind", "unit", "value")
# Per-interval mean latency is exact (from cumulative counts and means); YCSB status blocks only
# carry cumulative percentiles, so those are named for what they are.
CLIENT_LATENCY_COLUMNS = {
    "interval_avg_us": "client_avg",
    "p50_us": "client_p50_cum",
    "p99_us": "client_p99_cum",
}


def _time_column(df: pd.DataFrame) -> str:
    import pandas as pd

    for c in ("timestamp", "time", "ts"):
        if c in df.columns:
            return c
    for c in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[c]):
            return str(c)
    raise ValueError(f"no timestamp column in metrics frame: {list(df.columns)}")


def client_rows(intervals: pd.DataFrame | None, phase: str, start_unix: float) -> pd.DataFrame:
    """YCSB per-interval rows → timeline rows; the frame's `t_s` counts from start_unix."""
    import pandas as pd

    if intervals is None or intervals.empty:
        return pd.DataFrame(columns=list(TIMELINE_COLUMNS))
    t = start_unix + intervals["t_s"].astype(float)
    parts = []
    if "interval_ops" in intervals.columns:
        parts.append(
            pd.DataFrame(
                {
                    "unix": t,
                    "name": "client_ops",
                    "series": intervals["operation"].astype(str),
                    "kind": "throughput",
                    "unit": "ops/s",
                    "value": intervals["interval_ops"].astype(float),
                }
            )
        )
    for col, name in CLIENT_LATENCY_COLUMNS.items():
        if col in intervals.columns:
            parts.append(
                pd.DataFrame(
                    {
                        "unix": t,
                        "name": name,
                        "series": intervals["operation"].astype(str),
                        "kind": "latency",
                        "unit": "us",
                        "value": pd.to_numeric(intervals[col], errors="coerce").astype(float),
                    }
                )
            )
    if not parts:
        return pd.DataFrame(columns=list(TIMELINE_COLUMNS))
    out = pd.concat(parts, ignore_index=True)
    out["source"] = "client"
    out["phase"] = phase
    return out


def server_rows(name: str, frame: pd.DataFrame, unit: str, kind: str) -> pd.DataFrame:
    """A tidy Prometheus frame (timestamp, value, one column per label) → timeline rows."""
    import pandas as pd

    if frame is None or frame.empty:
        return pd.DataFrame(columns=list(TIMELINE_COLUMNS))
    tcol = _time_column(frame)
    labels = [c for c in frame.columns if c not in (tcol, "value", "__name__")]
    ts = pd.to_datetime(frame[tcol], utc=True)
    if labels:
        series = (
            frame[labels]
            .astype(str)
            .apply(lambda r: ",".join(f"{k}={v}" for k, v in zip(labels, r, strict=True)), axis=1)
        )
    else:
        series = pd.Series([""] * len(frame), index=frame.index)
    return pd.DataFrame(
        {
            "unix": (ts - pd.Timestamp(0, tz="UTC")).dt.total_seconds(),
            "name": name,
            "series": series.astype(str),
            "kind": kind,
            "unit": unit,
            "value": pd.to_numeric(frame["value"], errors="coerce").astype(float),
            "source": "server",
            "phase": "",
        }
    )


def build_timeline(
    client: Iterable[pd.DataFrame],
    server: Iterable[pd.DataFrame],
    marks: Iterable[dict[str, Any]],
    origin_unix: float,
) -> pd.DataFrame:
    """One long frame on one clock: `time` (UTC) and `t_s` (seconds since origin_unix).

    Marks become two rows each (`start`/`end` series) with kind `mark`, so a reader needs nothing
    but this file to draw stage spans.
    """
    import pandas as pd

    mark_rows = []
    for m in marks:
        for edge in ("start", "end"):
            mark_rows.append(
                {
                    "unix": float(m[edge]),
                    "name": str(m["name"]),
                    "series": edge,
                    "kind": "mark",
                    "unit": "",
                    "value": float("nan"),
                    "source": "mark",
                    "phase": "",
                }
            )
    frames = [f for f in (*client, *server) if f is not None and not f.empty]
    if mark_rows:
        frames.append(pd.DataFrame(mark_rows))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in TIMELINE_COLUMNS})
    df = pd.concat(frames, ignore_index=True)
    df["t_s"] = df["unix"].astype(float) - origin_unix
    df["time"] = pd.to_datetime(df["unix"], unit="s", utc=True)
    df = df.sort_values(["t_s", "source", "name", "series"], kind="stable").reset_index(drop=True)
    return df[list(TIMELINE_COLUMNS)]
