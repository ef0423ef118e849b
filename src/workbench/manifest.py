"""Subject manifests: a subject is data (compose file + manifest.toml), never Python.

A manifest says which services must be healthy, which host ports come from which environment
variables, how to reach the cluster API and Prometheus from the host and from inside the network,
the YCSB tool/binding/properties (optional: a subject may have no load generator), the PromQL
queries to collect and plot, which checks apply, the in-network probe service and the raw
`[faults]` table (its model lives in workbench.faults). pydantic validates the TOML: every problem
is listed in ONE ManifestError naming the file and each key, before anything starts.

Lives here: the manifest's data classes, `load_manifest` (cached per file and mtime), subject
lookup, the default subject and the workload file naming. Not here: reading the compose YAML,
starting anything, the fault model. Over 450 lines because the public data classes (what every
caller reads) and the strict TOML models (what validates, with the key path of each problem) are
two faces of one schema: split apart, a field added to one would silently be missing in the other.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import tomllib
import typing
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.dataclasses import dataclass

from workbench.errors import ManifestError

SUBJECTS_DIR = Path(__file__).resolve().parents[2] / "subjects"
DEFAULT_SUBJECT = "etcd"  # the ONE place the default subject is written
YCSB_TOOLS = ("native", "go-ycsb")  # names the YCSB tool registry implements
QUERY_KINDS = ("throughput", "latency", "resource", "other")
_ENV_REF = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
_CONFIG = ConfigDict(extra="forbid")
Number = Annotated[float, Strict()]  # a TOML int or float, never a bool or a string


def _job_counts(v: dict[str, int]) -> dict[str, int]:
    if not v or any(n < 1 for n in v.values()):
        raise ValueError("expected {job = expected_count >= 1, ...}")
    return v


JobCounts = Annotated[dict[StrictStr, StrictInt], AfterValidator(_job_counts)]


def workload_file_name(workload: str) -> str:
    """The shipped file name of a workload: `a` and `workloada` both give `workloada`."""
    return workload if workload.startswith("workload") else f"workload{workload}"


@dataclass(frozen=True, config=_CONFIG)
class ImageSpec:
    """An image the workbench builds itself (offline), once, before `up`."""

    tag: StrictStr
    dockerfile: StrictStr
    context: StrictStr = "."
    wheelhouse: StrictBool = False  # needs the project's wheel + a host-built wheelhouse


@dataclass(frozen=True, config=_CONFIG)
class PortSpec:
    """A host port published on 127.0.0.1, chosen free per run and passed via `env`."""

    env: StrictStr
    service: StrictStr
    container_port: StrictInt
    default: StrictInt

    @field_validator("env")
    @classmethod
    def _env_name(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", v):
            raise ValueError(f"not an environment variable name: {v!r}")
        return v

    @field_validator("container_port", "default")
    @classmethod
    def _port(cls, v: int) -> int:
        if not 1 <= v <= 65535:
            raise ValueError(f"port out of range: {v}")
        return v


@dataclass(frozen=True, config=_CONFIG)
class Endpoint:
    """How to reach an API from the host and from inside the compose network."""

    name: StrictStr
    host: StrictStr
    network: StrictStr


@dataclass(frozen=True, config=_CONFIG)
class Query:
    """A PromQL query collected over the run window and plotted."""

    name: StrictStr
    query: StrictStr
    unit: StrictStr
    kind: StrictStr = "other"  # throughput | latency | resource | other
    description: StrictStr = ""

    @field_validator("name")
    @classmethod
    def _file_name(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z0-9_]+", v):
            raise ValueError(f"query names are [a-z0-9_]+ (used as file names): {v!r}")
        return v

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in QUERY_KINDS:
            raise ValueError(f"unknown kind {v!r}; valid: {', '.join(QUERY_KINDS)}")
        return v


@dataclass(frozen=True, config=_CONFIG)
class TargetsReadiness:
    """Readiness beyond healthchecks: Prometheus must report these targets `up`."""

    jobs: JobCounts


@dataclass(frozen=True, config=_CONFIG)
class YcsbToolSpec:
    """`[ycsb.<tool>]`: where one accepted tool differs from the `[ycsb]` table (None: the same)."""

    service: StrictStr | None = None
    binding: StrictStr | None = None
    properties: dict[StrictStr, str] | None = None

    @field_validator("properties", mode="before")
    @classmethod
    def _scalar_props(cls, v: Any) -> Any:
        return _scalar_properties(v)


def _scalar_properties(v: Any) -> Any:
    if isinstance(v, dict):
        bad = [k for k, x in v.items() if not isinstance(x, str | int | float | bool)]
        if bad:
            raise ValueError(f"property {bad[0]!r}: expected a string or number")
        return {k: str(x) for k, x in v.items()}
    return v


@dataclass(frozen=True, config=_CONFIG)
class YcsbSpec:
    """The subject's load generator: the default `tool`, and every tool it accepts (`tools`),
    with `[ycsb.<tool>]` tables (`per_tool`) where a tool needs another service, binding or
    properties."""

    tool: StrictStr  # "native" (the workbench's generator) or "go-ycsb"
    service: StrictStr  # compose service that runs the tool inside the network
    binding: StrictStr
    workloads_dir: StrictStr = "workloads"  # on the host, relative to the subject dir
    workloads_path_in_container: StrictStr = "/workloads"
    properties: dict[StrictStr, str] = dataclasses.field(default_factory=dict)  # ${ENDPOINT:...}
    tools: tuple[StrictStr, ...] = Field(default=(), validate_default=True)  # () = (tool,)
    per_tool: dict[StrictStr, YcsbToolSpec] = dataclasses.field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _tool_tables(cls, v: Any) -> Any:
        """`[ycsb.go-ycsb]` is read as `per_tool["go-ycsb"]`."""
        if isinstance(v, dict) and any(k in YCSB_TOOLS for k in v):
            v = dict(v)
            tables = {k: v.pop(k) for k in list(v) if k in YCSB_TOOLS}
            v["per_tool"] = {**dict(v.get("per_tool") or {}), **tables}
        return v

    @field_validator("properties", mode="before")
    @classmethod
    def _scalar_props(cls, v: Any) -> Any:
        return _scalar_properties(v)

    @field_validator("tool")
    @classmethod
    def _known_tool(cls, v: str) -> str:
        if v not in YCSB_TOOLS:
            raise ValueError(f"unknown tool {v!r}; valid: {', '.join(YCSB_TOOLS)}")
        return v

    @field_validator("tools")
    @classmethod
    def _known_tools(cls, v: tuple[str, ...], info: Any) -> tuple[str, ...]:
        tool = info.data.get("tool")
        bad = [t for t in v if t not in YCSB_TOOLS]
        if bad:
            raise ValueError(f"unknown tool {bad[0]!r}; valid: {', '.join(YCSB_TOOLS)}")
        if v and tool is not None and tool not in v:
            raise ValueError(f"the default tool {tool!r} is not among tools {list(v)}")
        return v or ((tool,) if tool else ())

    @field_validator("per_tool")
    @classmethod
    def _accepted(cls, v: dict[str, YcsbToolSpec], info: Any) -> dict[str, YcsbToolSpec]:
        tools = info.data.get("tools") or ()
        bad = [t for t in v if t not in tools]
        if bad:
            raise ValueError(f"[ycsb.{bad[0]}]: not among tools {list(tools)}")
        return v

    def workloads_dir_path(self, directory: Path) -> Path:
        return directory / self.workloads_dir

    def for_tool(self, tool: str) -> YcsbToolSpec:
        """The service, binding and properties `tool` runs with (its table over the defaults)."""
        own = self.per_tool.get(tool, YcsbToolSpec())
        return YcsbToolSpec(
            service=own.service or self.service,
            binding=own.binding or self.binding,
            properties=dict(self.properties if own.properties is None else own.properties),
        )


@dataclass(frozen=True, config=ConfigDict(extra="forbid", arbitrary_types_allowed=True))
class Manifest:
    name: str
    description: str
    directory: Path
    path: Path
    compose_file: Path
    project_prefix: str
    healthy_services: tuple[str, ...]
    images: tuple[ImageSpec, ...]
    pulled_images: tuple[str, ...]
    ports: tuple[PortSpec, ...]
    endpoints: dict[str, Endpoint]
    readiness_targets: TargetsReadiness | None
    ycsb: YcsbSpec | None
    queries: tuple[Query, ...]
    checks: dict[str, tuple[str, ...]]
    check_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    stop_grace_s: int = 1
    health_timeout_s: float = 120.0
    probe: str | None = None  # compose service the in-network probe check runs in
    operator: str | None = None  # compose service the operator under test runs as
    faults: dict[str, Any] = dataclasses.field(default_factory=dict)  # raw; see workbench.faults

    def workload_file(self, workload: str) -> Path:
        """Host path of a shipped workload file; `a` and `workloada` both work."""
        return self.ycsb_spec().workloads_dir_path(self.directory) / workload_file_name(workload)

    def workloads(self) -> list[str]:
        if self.ycsb is None:
            return []
        d = self.ycsb.workloads_dir_path(self.directory)
        if not d.is_dir():
            return []
        return sorted(p.name.removeprefix("workload") for p in d.glob("workload?"))

    def resolve(self, template: str, ports: dict[str, int]) -> str:
        """Fill `${ENV}` references with the ports of one run (or the defaults)."""

        def sub(m: re.Match[str]) -> str:
            key = m.group(1)
            if key in ports:
                return str(ports[key])
            for p in self.ports:
                if p.env == key:
                    return str(p.default)
            raise ManifestError(self.path, "ports", f"unknown variable ${{{key}}} in {template!r}")

        return _ENV_REF.sub(sub, template)

    def endpoint(self, name: str, where: str = "host", ports: dict[str, int] | None = None) -> str:
        if name not in self.endpoints:
            raise ManifestError(self.path, f"endpoints.{name}", "no such endpoint")
        ep = self.endpoints[name]
        return self.resolve(ep.host if where == "host" else ep.network, ports or {})

    def ycsb_spec(self) -> YcsbSpec:
        """The `[ycsb]` table, or a ManifestError naming the subject that has none."""
        if self.ycsb is None:
            raise ManifestError(self.path, "ycsb", f"subject {self.name!r} has no [ycsb] table")
        return self.ycsb


# -- the file as written (TOML shapes that differ from the objects above) ----------------------


class _EndpointTable(BaseModel):
    model_config = _CONFIG
    host: StrictStr
    network: StrictStr


class _ReadinessTable(BaseModel):
    model_config = _CONFIG
    prometheus_targets: JobCounts | None = None


class _ChecksTable(BaseModel):
    model_config = _CONFIG
    pre: tuple[StrictStr, ...] = ()
    post: tuple[StrictStr, ...] = ()
    options: dict[StrictStr, Any] = {}


class _ManifestFile(BaseModel):
    model_config = _CONFIG
    name: StrictStr
    description: StrictStr = ""
    compose_file: StrictStr = "compose.yaml"
    project_prefix: StrictStr = "wb"
    healthy_services: tuple[StrictStr, ...]
    images: tuple[ImageSpec, ...] = ()
    pulled_images: tuple[StrictStr, ...] = ()
    ports: tuple[PortSpec, ...] = ()
    endpoints: dict[StrictStr, _EndpointTable]
    readiness: _ReadinessTable | None = None
    ycsb: YcsbSpec | None = None
    queries: tuple[Query, ...] = ()
    checks: _ChecksTable = _ChecksTable()
    stop_grace_s: StrictInt = 1
    health_timeout_s: Number = 120.0
    probe: StrictStr | None = None
    operator: StrictStr | None = None
    faults: dict[StrictStr, Any] = {}


# -- loading ------------------------------------------------------------------------------------


def available_subjects(root: Path = SUBJECTS_DIR) -> list[str]:
    return sorted(p.parent.name for p in root.glob("*/manifest.toml"))


def subject_dir(name_or_path: str | Path, root: Path = SUBJECTS_DIR) -> Path:
    p = Path(name_or_path)
    if (p / "manifest.toml").is_file():
        return p.resolve()
    cand = root / str(name_or_path)
    if (cand / "manifest.toml").is_file():
        return cand
    if p.is_dir():  # a directory is allowed: it must hold a manifest
        raise ManifestError(
            p / "manifest.toml", "subject", f"{p} is not a subject directory (no manifest.toml)"
        )
    names = ", ".join(available_subjects(root)) or "(none)"
    raise ManifestError(
        cand / "manifest.toml", "subject", f"unknown subject {str(name_or_path)!r}; valid: {names}"
    )


def load_manifest(subject: str | Path = DEFAULT_SUBJECT, root: Path = SUBJECTS_DIR) -> Manifest:
    """Load and validate a subject's manifest.toml; errors name the file and every bad key.

    Cached per resolved file and modification time: an edited manifest is read again."""
    path = (subject_dir(subject, root) / "manifest.toml").resolve()
    return _load(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _load(path: Path, mtime_ns: int) -> Manifest:
    del mtime_ns  # part of the cache key only
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(path, "(syntax)", str(exc)) from exc
    try:
        raw = _ManifestFile.model_validate(data)
    except ValidationError as exc:
        raise _error(path, [_problem(e) for e in exc.errors()]) from None
    problems = _cross_problems(raw, path.parent)
    if problems:
        raise _error(path, problems)
    return _build(raw, path)


def _build(raw: _ManifestFile, path: Path) -> Manifest:
    directory = path.parent
    targets = raw.readiness.prometheus_targets if raw.readiness else None
    return Manifest(
        name=raw.name,
        description=raw.description,
        directory=directory,
        path=path,
        compose_file=directory / raw.compose_file,
        project_prefix=raw.project_prefix,
        healthy_services=raw.healthy_services,
        images=raw.images,
        pulled_images=raw.pulled_images,
        ports=raw.ports,
        endpoints={n: Endpoint(n, e.host, e.network) for n, e in raw.endpoints.items()},
        readiness_targets=TargetsReadiness(targets) if targets is not None else None,
        ycsb=raw.ycsb,
        queries=raw.queries,
        checks={"pre": raw.checks.pre, "post": raw.checks.post},
        check_options=dict(raw.checks.options),
        stop_grace_s=raw.stop_grace_s,
        health_timeout_s=raw.health_timeout_s,
        probe=raw.probe,
        operator=raw.operator,
        faults=dict(raw.faults),
    )


def _cross_problems(raw: _ManifestFile, directory: Path) -> list[tuple[str, str]]:
    """What one key cannot know alone: files on disk, declared ports, unique names."""
    out: list[tuple[str, str]] = []
    if not (directory / raw.compose_file).is_file():
        out.append(("compose_file", f"file not found: {directory / raw.compose_file}"))
    for i, img in enumerate(raw.images):
        dockerfile = directory / img.context / img.dockerfile
        if not dockerfile.is_file():
            out.append((f"images[{i}].dockerfile", f"file not found: {dockerfile}"))
    known_env = {p.env for p in raw.ports}
    for name, ep in raw.endpoints.items():
        for ref in _ENV_REF.findall(ep.host + ep.network):
            if ref not in known_env:
                out.append((f"endpoints.{name}.host", f"${{{ref}}} is not declared in [[ports]]"))
    if "prometheus" not in raw.endpoints:
        out.append(("endpoints.prometheus", "required endpoint is missing"))
    seen: set[str] = set()
    for i, q in enumerate(raw.queries):
        if q.name in seen:
            out.append((f"queries[{i}].name", f"duplicate query name {q.name!r}"))
        seen.add(q.name)
    return out


def _error(path: Path, problems: list[tuple[str, str]]) -> ManifestError:
    """ONE error for every problem; its `key` is the first problem's key."""
    (key, first), rest = problems[0], problems[1:]
    more = "".join(f"\n  [{k}] {m}" for k, m in rest)
    return ManifestError(path, key, first + more)


def _problem(err: Any) -> tuple[str, str]:
    loc = tuple(err["loc"])
    key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    kind, value = err["type"], err.get("input")
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        known = ", ".join(_known_keys(loc[:-1])) or "(none)"
        return key, f"unknown key; known keys here: {known}"
    if kind == "missing":
        return key, "required key is missing"
    msg = str(err["msg"]).removeprefix("Value error, ").replace("valid tuple", "valid list")
    if kind == "value_error":
        return key, msg
    return key, f"{msg}, got {type(value).__name__} {value!r}"


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys valid in the table at `loc` (for the "unknown key" hint)."""
    t: Any = _ManifestFile
    for part in loc:
        t = _element(t, part)
    fields = getattr(t, "__pydantic_fields__", None)
    return sorted(fields) if fields else []


def _element(t: Any, part: Any) -> Any:
    """The type one step further down `loc` from type `t`."""
    args = [a for a in typing.get_args(t) if a is not type(None)]
    origin = typing.get_origin(t)
    if origin in (tuple, dict):
        return args[-1] if origin is dict else args[0]
    if len(args) == 1 and origin is not None:  # X | None
        return _element(args[0], part)
    fields = getattr(t, "__pydantic_fields__", {})
    return fields[part].annotation if part in fields else None
