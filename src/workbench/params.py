"""Run parameters, validated once where they come in.

The same validation serves the CLI (before papermill starts) and each notebook's first cell (after
papermill injected its parameters). Every problem is collected and raised as ONE `ParameterError`:
unknown names, wrong types, impossible values, unknown subjects or workloads.

Four parameter sets, one per notebook: `benchmark` (`RunParams`), `verify`, `compare`, `explore`.
YCSB properties travel in `props` under YCSB's own names; the few that the workbench itself needs
(`recordcount`, `operationcount`, `threadcount`, `target`, `maxexecutiontime`, `warmuptime`) are
lifted into typed parameters so they are validated and shown in reports.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import secrets
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench.errors import ManifestError, ParameterError

DEFAULT_SUBJECT = "etcd"
DEFAULT_DURATION_S = 20.0
RUN_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
PHASES = ("load", "run")

# YCSB core-workload and measurement properties (go-ycsb names). Dotted names (binding props such
# as `etcd.endpoints`, `measurement.interval`) are always accepted: each binding has its own.
YCSB_CORE_PROPS = frozenset(
    """table recordcount operationcount insertstart insertcount fieldcount fieldlength
    fieldlengthdistribution readallfields writeallfields readproportion updateproportion
    insertproportion scanproportion readmodifywriteproportion deleteproportion requestdistribution
    minscanlength maxscanlength scanlengthdistribution insertorder keyprefix zeropadding
    hotspotdatafraction hotspotopnfraction threadcount target measurementtype outputstyle silence
    warmuptime maxexecutiontime dataintegrity workload fieldnameprefix batchsize dropdata verbose
    debug.pprof""".split()  # noqa: SIM905 - a word list reads better than 39 quoted strings
)
# YCSB names that map onto typed run parameters.
YCSB_ALIASES = {
    "threadcount": "threads",
    "recordcount": "recordcount",
    "operationcount": "operationcount",
    "target": "target",
    "maxexecutiontime": "duration",
    "warmuptime": "warmup",
}


@dataclass(frozen=True)
class RunParams:
    """Everything one benchmark run needs (the `benchmark.ipynb` parameters)."""

    subject: str = field(default=DEFAULT_SUBJECT, metadata={"doc": "subject name or directory"})
    workload: str = field(default="a", metadata={"doc": "YCSB workload letter (a..f)"})
    recordcount: int = field(default=1000, metadata={"doc": "records loaded"})
    operationcount: int | None = field(
        default=None, metadata={"doc": "operations in the run phase (or use duration)"}
    )
    duration: float | None = field(
        default=None, metadata={"doc": f"run phase seconds (default {DEFAULT_DURATION_S:g})"}
    )
    threads: int = field(default=4, metadata={"doc": "client threads (YCSB threadcount)"})
    target: int = field(default=0, metadata={"doc": "total ops/s, 0 = unthrottled"})
    warmup: float = field(default=0.0, metadata={"doc": "seconds at run start marked as warmup"})
    status_interval: float = field(default=1.0, metadata={"doc": "YCSB status interval, s"})
    props: dict[str, str] = field(
        default_factory=dict, metadata={"doc": "extra YCSB -p properties, YCSB's own names"}
    )
    phases: str = field(default="load,run", metadata={"doc": "load,run | load | run"})
    prometheus_step: float = field(default=1.0, metadata={"doc": "range-query step, s"})
    keep_stack: bool = field(default=False, metadata={"doc": "leave the stack running"})
    run_id: str = field(default="", metadata={"doc": "run id; empty = generated"})
    results_dir: str = field(default="results", metadata={"doc": "where run directories go"})

    @property
    def phase_list(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.phases.split(",") if p.strip())

    def ycsb_properties(self) -> dict[str, str]:
        """All YCSB `-p` properties of this run (typed parameters folded back in)."""
        out = dict(self.props)
        out["recordcount"] = str(self.recordcount)
        if self.operationcount is not None:
            out["operationcount"] = str(self.operationcount)
        return out

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def _problems(self) -> list[str]:
        out: list[str] = []
        if self.recordcount < 1:
            out.append(f"recordcount: must be >= 1, got {self.recordcount}")
        if self.operationcount is not None and self.operationcount < 1:
            out.append(f"operationcount: must be >= 1, got {self.operationcount}")
        if self.duration is not None and self.duration <= 0:
            out.append(f"duration: must be > 0 seconds, got {self.duration:g}")
        if self.operationcount is not None and self.duration is not None:
            out.append("operationcount and duration: give one of them, not both")
        if self.threads < 1:
            out.append(f"threads: must be >= 1, got {self.threads}")
        if self.operationcount is not None and 1 <= self.operationcount < self.threads:
            out.append(
                f"operationcount: {self.operationcount} is below threads ({self.threads}); "
                "YCSB refuses that"
            )
        if self.target < 0:
            out.append(f"target: must be >= 0 ops/s (0 = unthrottled), got {self.target}")
        if self.warmup < 0:
            out.append(f"warmup: must be >= 0, got {self.warmup:g}")
        if self.duration is not None and self.warmup >= self.duration:
            out.append(f"warmup: {self.warmup:g}s leaves nothing of duration {self.duration:g}s")
        if self.status_interval <= 0:
            out.append(f"status_interval: must be > 0, got {self.status_interval:g}")
        if self.prometheus_step <= 0:
            out.append(f"prometheus_step: must be > 0, got {self.prometheus_step:g}")
        phases = self.phase_list
        bad = [p for p in phases if p not in PHASES]
        if bad or not phases or len(set(phases)) != len(phases):
            out.append(f"phases: expected a comma list of {', '.join(PHASES)}, got {self.phases!r}")
        elif "run" not in phases:
            for name in ("target", "operationcount", "duration", "warmup"):
                if getattr(self, name):
                    out.append(f"{name}: set, but there is no run phase (phases={self.phases!r})")
        if self.run_id and not RUN_ID_RE.fullmatch(self.run_id):
            out.append(f"run_id: only letters, digits, '.', '_' and '-' allowed: {self.run_id!r}")
        for k in self.props:
            out.extend(_prop_name_problems(k))
        out.extend(_subject_workload_problems(self.subject, self.workload))
        return out

    def _resolved(self) -> RunParams:
        """Fill defaults that depend on other values (duration when no operationcount)."""
        if "run" in self.phase_list and self.operationcount is None and self.duration is None:
            return dataclasses.replace(self, duration=DEFAULT_DURATION_S)
        return self


@dataclass(frozen=True)
class VerifyParams:
    """`verify.ipynb`: the subject's checks against a stack it starts or one already running."""

    subject: str = field(default=DEFAULT_SUBJECT, metadata={"doc": "subject name or directory"})
    project: str = field(default="", metadata={"doc": "attach to this running project; '' = start"})
    keep_stack: bool = field(default=False, metadata={"doc": "leave a started stack running"})
    run_id: str = field(default="", metadata={"doc": "run id; empty = generated"})
    results_dir: str = field(default="results", metadata={"doc": "where checks.json goes"})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def _problems(self) -> list[str]:
        out = _subject_workload_problems(self.subject, None)
        if self.run_id and not RUN_ID_RE.fullmatch(self.run_id):
            out.append(f"run_id: only letters, digits, '.', '_' and '-' allowed: {self.run_id!r}")
        return out

    def _resolved(self) -> VerifyParams:
        return self


@dataclass(frozen=True)
class CompareParams:
    """`compare.ipynb`: two or more run directories side by side."""

    run_dirs: tuple[str, ...] = field(default=(), metadata={"doc": "run directories (>= 2)"})
    baseline: int = field(default=0, metadata={"doc": "index of the run the others compare to"})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def _problems(self) -> list[str]:
        out = []
        if len(self.run_dirs) < 2:
            out.append(f"run_dirs: need at least two run directories, got {len(self.run_dirs)}")
        for d in self.run_dirs:
            if not (Path(d) / "run.json").is_file():
                out.append(f"run_dirs: {d!r} is not a run directory (no run.json)")
        if self.run_dirs and not 0 <= self.baseline < len(self.run_dirs):
            out.append(f"baseline: index {self.baseline} out of range 0..{len(self.run_dirs) - 1}")
        return out

    def _resolved(self) -> CompareParams:
        return self


@dataclass(frozen=True)
class ExploreParams:
    """`explore.ipynb`: attach to a running stack and ask Prometheus ad-hoc questions."""

    subject: str = field(default=DEFAULT_SUBJECT, metadata={"doc": "subject name or directory"})
    project: str = field(default="", metadata={"doc": "running compose project; '' = newest"})
    queries: tuple[str, ...] = field(default=(), metadata={"doc": "PromQL; empty = manifest's"})
    lookback: float = field(default=300.0, metadata={"doc": "seconds of history to query"})
    step: float = field(default=2.0, metadata={"doc": "range-query step, s"})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def _problems(self) -> list[str]:
        out = _subject_workload_problems(self.subject, None)
        if self.lookback <= 0:
            out.append(f"lookback: must be > 0 seconds, got {self.lookback:g}")
        if self.step <= 0:
            out.append(f"step: must be > 0 seconds, got {self.step:g}")
        elif self.lookback / self.step > 11000:
            out.append("lookback/step: more than 11,000 points; raise step")
        return out

    def _resolved(self) -> ExploreParams:
        return self


ParamsType = RunParams | VerifyParams | CompareParams | ExploreParams
KINDS: dict[str, type[Any]] = {
    "benchmark": RunParams,
    "verify": VerifyParams,
    "compare": CompareParams,
    "explore": ExploreParams,
}


def defaults(kind: str) -> dict[str, Any]:
    """Name → default of one parameter set, in declaration order (the notebook parameters cell)."""
    out = {}
    for f in dataclasses.fields(_cls(kind)):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out


def docs(kind: str) -> dict[str, str]:
    return {f.name: str(f.metadata.get("doc", "")) for f in dataclasses.fields(_cls(kind))}


def validate(kind: str, values: Mapping[str, Any]) -> Any:
    """Validate a mapping of parameter values into the kind's dataclass, or raise ParameterError."""
    cls = _cls(kind)
    hints = typing.get_type_hints(cls)
    problems: list[str] = []
    kwargs: dict[str, Any] = {}
    valid = [f.name for f in dataclasses.fields(cls)]
    for name, raw in values.items():
        if name not in valid:
            problems.append(f"{name}: unknown parameter; valid: {', '.join(valid)}")
            continue
        try:
            kwargs[name] = _coerce(raw, hints[name])
        except (TypeError, ValueError) as exc:
            problems.append(f"{name}: {exc}")
    if problems:
        # Report type problems together with value problems of the fields that did parse.
        with contextlib.suppress(Exception):  # the type problems are reported either way
            problems.extend(cls(**kwargs)._problems())
        raise ParameterError(problems)
    params = cls(**kwargs)
    problems = params._problems()
    if problems:
        raise ParameterError(problems)
    return params._resolved()


def validate_run(values: Mapping[str, Any]) -> RunParams:
    result: RunParams = validate("benchmark", values)
    return result


def from_namespace(kind: str, namespace: Mapping[str, Any]) -> Any:
    """Validate the parameters a notebook holds in its globals (after papermill's injection).

    Known names are read from the namespace. Unknown names are found in the cell papermill
    injected (its source is in the kernel's input history `In`, starting with `# Parameters`):
    every name assigned there that is not a parameter of `kind` is reported.
    """
    valid = set(defaults(kind))
    values: dict[str, Any] = {n: namespace[n] for n in valid if n in namespace}
    for name in injected_names(namespace.get("In") or []):
        if name not in valid:
            values[name] = namespace.get(name)  # validate() reports it as unknown
    return validate(kind, values)


def injected_names(history: Iterable[str]) -> list[str]:
    """Names assigned by the latest papermill-injected parameters cell in an input history."""
    import ast

    for source in reversed(list(history)):
        if isinstance(source, str) and source.split("\n", 1)[0].strip() == "# Parameters":
            with contextlib.suppress(SyntaxError):
                tree = ast.parse(source)
                return [
                    t.id
                    for node in tree.body
                    if isinstance(node, ast.Assign)
                    for t in node.targets
                    if isinstance(t, ast.Name)
                ]
    return []


def run_params_from_cli(assignments: Iterable[str], **flags: Any) -> RunParams:
    """Build RunParams from `-p key=value` items plus explicit CLI flags (None = not given).

    A key that names a run parameter sets it; a YCSB name with a typed equivalent
    (`threadcount`, `recordcount`, ...) sets that; any other key is a YCSB property.
    """
    values: dict[str, Any] = {k: v for k, v in flags.items() if v is not None}
    props: dict[str, str] = {}
    problems: list[str] = []
    run_fields = set(defaults("benchmark"))
    for item in assignments:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            problems.append(f"-p {item!r}: expected key=value")
        elif key in YCSB_ALIASES:
            values[YCSB_ALIASES[key]] = value
        elif key in run_fields and key != "props":
            values[key] = value
        else:
            props[key] = value
    if props:
        values["props"] = props
    if problems:
        try:
            validate_run(values)
        except ParameterError as exc:
            problems.extend(exc.problems)
        raise ParameterError(problems)
    return validate_run(values)


def new_run_id(subject: str, workload: str, now: datetime | None = None) -> str:
    """Sortable, unique: UTC timestamp, subject, workload, 6 random hex digits."""
    now = now or datetime.now(UTC)
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S") + f".{now.microsecond // 1000:03d}Z"
    safe = re.sub(r"[^A-Za-z0-9]+", "_", Path(subject).name).strip("_") or "subject"
    wl = re.sub(r"[^A-Za-z0-9]+", "_", workload) or "w"
    return f"{stamp}-{safe}-{wl}-{secrets.token_hex(3)}"


def _cls(kind: str) -> type[Any]:
    if kind not in KINDS:
        raise ValueError(f"unknown parameter set {kind!r}; valid: {', '.join(KINDS)}")
    return KINDS[kind]


def _prop_name_problems(name: str) -> list[str]:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", name):
        return [f"props: {name!r} is not a property name"]
    if "." in name or name in YCSB_CORE_PROPS:
        if name in YCSB_ALIASES:
            return [f"props: {name!r} has its own parameter {YCSB_ALIASES[name]!r}; set that"]
        return []
    return [
        f"{name}: unknown parameter (neither a run parameter nor a YCSB core property; "
        "binding properties are dotted, e.g. etcd.dial_timeout)"
    ]


def _subject_workload_problems(subject: str, workload: str | None) -> list[str]:
    from workbench.manifest import available_subjects, load_manifest

    try:
        manifest = load_manifest(subject)
    except ManifestError as exc:
        if exc.key == "subject":
            names = ", ".join(available_subjects()) or "(none)"
            return [f"subject: unknown subject {subject!r}; valid: {names}"]
        return [f"subject: {exc}"]
    if workload is None:
        return []
    workloads = manifest.workloads()
    name = workload.removeprefix("workload")
    if name not in workloads:
        return [
            f"workload: unknown workload {workload!r} for subject {manifest.name!r}; "
            f"valid: {', '.join(workloads) or '(none shipped)'}"
        ]
    return []


def _coerce(raw: Any, hint: Any) -> Any:
    """Coerce a raw value (papermill value or CLI string) to a field type, or raise ValueError."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        inner = [a for a in args if a is not type(None)]
        if raw is None or (isinstance(raw, str) and raw.strip().lower() in ("", "none", "null")):
            return None
        return _coerce(raw, inner[0])
    if hint is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in ("true", "yes", "1", "on"):
            return True
        if isinstance(raw, str) and raw.strip().lower() in ("false", "no", "0", "off"):
            return False
        raise ValueError(f"expected true/false, got {raw!r}")
    if hint is int:
        if isinstance(raw, bool):
            raise ValueError(f"expected an integer, got {raw!r}")
        if isinstance(raw, int):
            return raw
        if isinstance(raw, float) and raw.is_integer():
            return int(raw)
        if isinstance(raw, str):
            try:
                return int(raw.strip().replace("_", ""))
            except ValueError:
                pass
        raise ValueError(f"expected an integer, got {raw!r}")
    if hint is float:
        if isinstance(raw, bool):
            raise ValueError(f"expected a number, got {raw!r}")
        if isinstance(raw, int | float):
            return float(raw)
        if isinstance(raw, str):
            try:
                return float(raw.strip())
            except ValueError:
                pass
        raise ValueError(f"expected a number, got {raw!r}")
    if hint is str:
        if isinstance(raw, str):
            return raw
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return str(raw)  # papermill turns `-p workload 1` into an int
        raise ValueError(f"expected a string, got {type(raw).__name__} {raw!r}")
    if origin is tuple:
        if isinstance(raw, str):
            text = raw.strip()
            if text.startswith("["):
                raw = json.loads(text)
            else:
                raw = [p.strip() for p in text.split(",") if p.strip()]
        if not isinstance(raw, list | tuple) or not all(isinstance(x, str) for x in raw):
            raise ValueError(f"expected a list of strings, got {raw!r}")
        return tuple(raw)
    if origin is dict:
        if isinstance(raw, str):
            raw = _parse_mapping(raw)
        if not isinstance(raw, dict):
            raise ValueError(f"expected a mapping of name to value, got {raw!r}")
        out = {}
        for k, v in raw.items():
            if not isinstance(v, str | int | float | bool):
                raise ValueError(f"value of {k!r} must be a scalar, got {v!r}")
            out[str(k)] = str(v).lower() if isinstance(v, bool) else str(v)
        return out
    raise TypeError(f"unsupported parameter type {hint!r}")  # pragma: no cover - programming error


def _parse_mapping(text: str) -> dict[str, Any]:
    """`{"a": 1}` (JSON) or `a=1,b=2`."""
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        value = json.loads(text)
        if not isinstance(value, dict):
            raise ValueError(f"expected a JSON object, got {text!r}")
        return value
    out = {}
    for part in text.split(","):
        k, sep, v = part.partition("=")
        if not sep or not k.strip():
            raise ValueError(f"expected key=value pairs separated by commas, got {text!r}")
        out[k.strip()] = v.strip()
    return out
