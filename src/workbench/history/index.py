"""The history index: one typed row per run of a results folder, cached, and its series.

A row holds what tells runs of the same benchmark apart from the rest: the benchmark key (subject,
workload, tool, operator, threads, target, record and operation counts, faults and every other
result-changing parameter that differs from its default; never the run id, the seed, the results
folder or the labels), the environment class (cores, kernel, engine version, from the fingerprint),
the versions (image ids, the workbench's version and commit), the user labels, the status, the
headline numbers and, for a campaign's run, its campaign and configuration. A series is every row
of one key AND one environment class, oldest first: runs of another environment never share one.

The rows are cached in `results/.history-index.json`, each with the size and modification time of
its run.json; a rebuild reads only the run.json files that changed (hundreds of runs: a stat each).
Run directories are read through `workbench.artifacts` only; an unreadable one is a problem listed
with its reason, never a crash.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from workbench.artifacts import (
    CampaignDir,
    Headline,
    RunRecord,
    read_json,
    read_record,
    scan_campaign_dirs,
    write_json,
)
from workbench.errors import ConfigError
from workbench.params import defaults

INDEX_FILE = ".history-index.json"
INDEX_SCHEMA = 1
# parameters that never change what a run measures
NOT_KEY = frozenset(
    {"run_id", "results_dir", "keep_stack", "labels", "fault_seed", "seed", "prometheus_step"}
)
TYPED = ("subject", "workload", "tool", "operator", "threads", "target")
COUNTS = ("recordcount", "operationcount")
# statuses whose numbers enter a series (a failed check still measured; an error did not)
MEASURED = ("passed", "failed", "unknown")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Key(_Frozen):
    """What was measured: two runs of one key measured the same thing."""

    subject: str
    workload: str = ""
    tool: str = ""
    operator: str = ""
    threads: int | None = None
    target: int | None = None
    recordcount: int | None = None
    operationcount: int | None = None
    faults: tuple[str, ...] = ()
    other: dict[str, str] = Field(default_factory=dict)  # other non-default parameters, as JSON

    def fields(self) -> dict[str, str]:
        out = {k: _text(getattr(self, k)) for k in (*TYPED, *COUNTS)}
        out["faults"] = ",".join(self.faults)
        return {**out, **self.other}

    def text(self) -> str:
        """`etcd a native threads=4 target=0 ...`: the non-empty fields, short."""
        head = [self.subject, self.workload, self.tool]
        rest = {k: v for k, v in self.fields().items() if k not in ("subject", "workload", "tool")}
        return " ".join([*(h for h in head if h), *(f"{k}={v}" for k, v in rest.items() if v)])


class EnvClass(_Frozen):
    """Where it was measured: runs of another class never share a series."""

    cores: int | None = None
    kernel: str | None = None
    engine: str | None = None

    def text(self) -> str:
        return f"{_text(self.cores) or '?'} cores, kernel {self.kernel or '?'}, engine {self.engine or '-'}"


class Versions(_Frozen):
    workbench: str | None = None
    git_sha: str | None = None
    images: dict[str, str] = Field(default_factory=dict)


class Row(_Frozen):
    run_id: str
    dir: str  # the run directory's name under the results folder
    started: str
    started_unix: float
    status: str
    key: Key
    env: EnvClass
    versions: Versions = Field(default_factory=Versions)
    labels: dict[str, str] = Field(default_factory=dict)
    numbers: Headline = Field(default_factory=Headline)
    campaign: str | None = None
    config: str | None = None

    @property
    def series_id(self) -> str:
        return series_id(self.key, self.env)

    def fields(self) -> dict[str, str]:
        """What `--where NAME=VALUE` matches: the key's fields, the environment's, the status,
        the campaign and configuration."""
        env = {k: _text(v) for k, v in self.env.model_dump().items()}
        extra = {
            "status": self.status,
            "campaign": self.campaign or "",
            "config": self.config or "",
        }
        return {**self.key.fields(), **env, **extra}


def series_id(key: Key, env: EnvClass) -> str:
    blob = json.dumps([key.model_dump(mode="json"), env.model_dump(mode="json")], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _text(v: Any) -> str:
    if v is None:
        return ""
    return v if isinstance(v, str) else json.dumps(v, sort_keys=True)


def row_of(rec: RunRecord, dirname: str, campaign: tuple[str, str] | None = None) -> Row:
    """A run record as an index row (any schema: the record is already migrated)."""
    params = dict(rec.params)
    base = defaults("benchmark")
    run_phase = rec.phases.get("run") or next(iter(rec.phases.values()), None)
    tool = (run_phase.tool if run_phase else "") or str(params.get("tool") or "")
    operator = str(params.get("operator") or "")
    skip = {*NOT_KEY, *TYPED, *COUNTS, "faults"}
    other = {
        k: _text(v)
        for k, v in sorted(params.items())
        if k not in skip and not (k in base and _same(base[k], v))
    }
    fp, host = rec.fingerprint, rec.fingerprint.host
    return Row(
        run_id=rec.run_id,
        dir=dirname,
        started=rec.started,
        started_unix=rec.started_unix,
        status=rec.status,
        key=Key(
            subject=rec.subject,
            workload=str(params.get("workload") or ""),
            tool=tool,
            operator="" if operator == "none" else operator,
            threads=_int(params.get("threads")),
            target=_int(params.get("target")),
            recordcount=_int(params.get("recordcount")),
            operationcount=_int(params.get("operationcount")),
            faults=tuple(str(f) for f in params.get("faults") or ()),
            other=other,
        ),
        env=EnvClass(cores=host.cpu_count, kernel=host.kernel, engine=fp.engine.get("engine")),
        versions=Versions(workbench=fp.workbench_version, git_sha=fp.git_sha, images=fp.images),
        labels={str(k): str(v) for k, v in (params.get("labels") or {}).items()},
        numbers=rec.summary.headline(),
        campaign=campaign[0] if campaign else None,
        config=campaign[1] if campaign else None,
    )


def _same(default: Any, value: Any) -> bool:
    """A default as the record holds it (tuples are JSON lists)."""
    if isinstance(default, tuple):
        default = list(default)
    return bool(default == value)


def _int(v: Any) -> int | None:
    try:
        return None if v is None or isinstance(v, bool) else int(v)
    except (TypeError, ValueError):
        return None


class _Cached(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mtime_ns: int
    size: int
    row: Row


class _CacheFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_version: int = Field(default=INDEX_SCHEMA, alias="schema")
    runs: dict[str, _Cached] = Field(default_factory=dict)


@dataclass
class HistoryIndex:
    """The rows of a results folder (oldest first) and the directories it could not read."""

    root: Path
    rows: list[Row] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)  # directory name -> why
    read: int = 0  # run.json files read this time (the rest came from the cache)

    def select(
        self, where: Mapping[str, str] | None = None, labels: Mapping[str, str] | None = None
    ) -> list[Row]:
        """Rows whose fields (Row.fields) and labels equal every given value."""
        out = []
        for r in self.rows:
            f = r.fields()
            if all(f.get(k) == v for k, v in (where or {}).items()) and all(
                r.labels.get(k) == v for k, v in (labels or {}).items()
            ):
                out.append(r)
        return out


def group(rows: Iterable[Row]) -> dict[str, list[Row]]:
    """Rows by series (key and environment class), each oldest first."""
    out: dict[str, list[Row]] = {}
    for r in sorted(rows, key=lambda r: (r.started_unix, r.run_id)):
        out.setdefault(r.series_id, []).append(r)
    return out


def _campaign_runs(root: Path) -> dict[str, tuple[str, str]]:
    """run id -> (campaign id, configuration) of every readable campaign."""
    out = {}
    for item in scan_campaign_dirs(root):
        if isinstance(item, CampaignDir):
            for run in item.record.runs:
                if run.run_id:
                    out[run.run_id] = (item.record.campaign_id, run.config)
    return out


def _load_cache(path: Path) -> dict[str, _Cached]:
    try:
        cache = _CacheFile.model_validate(read_json(path))
    except (OSError, ValueError, ValidationError):
        return {}  # none yet, damaged, or another schema: rebuilt
    return cache.runs if cache.schema_version == INDEX_SCHEMA else {}


def build_index(results_dir: Path | str, *, cache: bool = True) -> HistoryIndex:
    """Every run directory under results_dir as a row, through the cache file (rewritten when
    anything changed; `cache=False` reads every run.json and writes nothing)."""
    root = Path(results_dir)
    index = HistoryIndex(root)
    if not root.is_dir():
        return index
    cache_path = root / INDEX_FILE
    old = _load_cache(cache_path) if cache else {}
    campaigns = _campaign_runs(root)
    new: dict[str, _Cached] = {}
    for p in sorted(root.iterdir()):
        run_json = p / "run.json"
        try:
            st = run_json.stat()
        except OSError:
            continue
        hit = old.get(p.name)
        if hit and (hit.mtime_ns, hit.size) == (st.st_mtime_ns, st.st_size):
            row = hit.row
            if (row.campaign, row.config) != campaigns.get(row.run_id, (None, None)):
                row = _with_campaign(row, campaigns.get(row.run_id))
        else:
            try:
                rec = read_record(p)
            except (ConfigError, OSError) as exc:
                index.problems[p.name] = str(exc)
                continue
            index.read += 1
            row = row_of(rec, p.name, campaigns.get(rec.run_id))
        new[p.name] = _Cached(mtime_ns=st.st_mtime_ns, size=st.st_size, row=row)
    index.rows = sorted((c.row for c in new.values()), key=lambda r: (r.started_unix, r.run_id))
    if cache and (index.read or set(new) != set(old)):
        doc = _CacheFile(runs=new).model_dump(mode="json", by_alias=True)
        with contextlib.suppress(OSError):  # read-only: the index is right, only not cached
            write_json(cache_path, doc)
    return index


def _with_campaign(row: Row, campaign: tuple[str, str] | None) -> Row:
    return row.model_copy(
        update={
            "campaign": campaign[0] if campaign else None,
            "config": campaign[1] if campaign else None,
        }
    )
