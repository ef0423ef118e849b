"""Subject manifests: a subject is data (compose file + manifest.toml), never Python.

A manifest says which services must be healthy, which host ports come from which environment
variables, how to reach the cluster API and Prometheus from the host and from inside the network,
the YCSB tool/binding/properties, the PromQL queries to collect and plot, and which checks apply.
Every problem is reported with the file and the key, before anything starts.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import ManifestError

SUBJECTS_DIR = Path(__file__).resolve().parents[2] / "subjects"
DEFAULT_SUBJECT = "etcd"
_ENV_REF = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
_CHECK_PHASES = ("pre", "post")


@dataclass(frozen=True)
class ImageSpec:
    """An image the workbench builds itself (offline), once, before `up`."""

    tag: str
    dockerfile: str
    context: str = "."
    wheelhouse: bool = False  # needs the project's wheel + a host-built wheelhouse in the context


@dataclass(frozen=True)
class PortSpec:
    """A host port published on 127.0.0.1, chosen free per run and passed via `env`."""

    env: str
    service: str
    container_port: int
    default: int


@dataclass(frozen=True)
class Endpoint:
    """How to reach an API from the host and from inside the compose network."""

    name: str
    host: str
    network: str


@dataclass(frozen=True)
class Query:
    """A PromQL query collected over the run window and plotted."""

    name: str
    query: str
    unit: str
    kind: str = "other"  # throughput | latency | resource | other
    description: str = ""


@dataclass(frozen=True)
class TargetsReadiness:
    """Readiness beyond healthchecks: Prometheus must report these targets `up`."""

    jobs: dict[str, int]


@dataclass(frozen=True)
class YcsbSpec:
    tool: str  # "native" (the workbench's generator) or "go-ycsb"
    service: str  # compose service that runs the tool inside the network
    binding: str
    workloads_dir: str  # on the host, relative to the subject dir
    workloads_path_in_container: str
    properties: dict[str, str]  # binding props; values may use ${ENDPOINT:network}


@dataclass(frozen=True)
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
    ycsb: YcsbSpec
    queries: tuple[Query, ...]
    checks: dict[str, tuple[str, ...]]
    check_options: dict[str, Any] = field(default_factory=dict)
    stop_grace_s: int = 1
    health_timeout_s: float = 120.0

    def workload_file(self, workload: str) -> Path:
        """Host path of a shipped workload file; `a` and `workloada` both work."""
        name = workload if workload.startswith("workload") else f"workload{workload}"
        return self.directory / self.ycsb.workloads_dir / name

    def workloads(self) -> list[str]:
        d = self.directory / self.ycsb.workloads_dir
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


def available_subjects(root: Path = SUBJECTS_DIR) -> list[str]:
    return sorted(p.parent.name for p in root.glob("*/manifest.toml"))


def subject_dir(name_or_path: str | Path, root: Path = SUBJECTS_DIR) -> Path:
    p = Path(name_or_path)
    if (p / "manifest.toml").is_file():
        return p.resolve()
    cand = root / str(name_or_path)
    if (cand / "manifest.toml").is_file():
        return cand
    names = ", ".join(available_subjects(root)) or "(none)"
    raise ManifestError(
        cand / "manifest.toml", "subject", f"unknown subject {str(name_or_path)!r}; valid: {names}"
    )


def load_manifest(subject: str | Path = DEFAULT_SUBJECT, root: Path = SUBJECTS_DIR) -> Manifest:
    """Load and validate a subject's manifest.toml; errors name the file and the key."""
    directory = subject_dir(subject, root)
    path = directory / "manifest.toml"
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(path, "(syntax)", str(exc)) from exc
    return _build(path, directory, data)


class _Reader:
    """Typed access to a TOML table with errors that carry the dotted key."""

    def __init__(self, path: Path, data: dict[str, Any], prefix: str = "") -> None:
        self.path, self.data, self.prefix = path, data, prefix
        self.seen: set[str] = set()

    def strict(self) -> None:
        """Reject keys nobody read: a typo, or a key swallowed by the TOML table above it."""
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            known = ", ".join(sorted(self.seen)) or "(none)"
            raise self.fail(unknown[0], f"unknown key; known keys here: {known}")

    def key(self, k: str) -> str:
        return f"{self.prefix}{k}"

    def get(
        self,
        k: str,
        typ: type | tuple[type, ...],
        default: Any = ...,
    ) -> Any:
        self.seen.add(k)
        if k not in self.data:
            if default is ...:
                raise ManifestError(self.path, self.key(k), "required key is missing")
            return default
        v = self.data[k]
        if typ is float and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        if not isinstance(v, typ) or (isinstance(v, bool) and typ in (int, float)):
            tname = typ.__name__ if isinstance(typ, type) else "/".join(t.__name__ for t in typ)
            raise ManifestError(
                self.path, self.key(k), f"expected {tname}, got {type(v).__name__} {v!r}"
            )
        return v

    def str_list(self, k: str, default: Any = ...) -> tuple[str, ...]:
        v = self.get(k, list, default)
        if any(not isinstance(x, str) for x in v):
            raise ManifestError(self.path, self.key(k), "expected a list of strings")
        return tuple(v)

    def table(self, k: str, default: Any = ...) -> _Reader:
        return _Reader(self.path, self.get(k, dict, default), f"{self.prefix}{k}.")

    def items(self, k: str, default: Any = ...) -> list[_Reader]:
        v = self.get(k, list, default)
        out = []
        for i, item in enumerate(v):
            if not isinstance(item, dict):
                raise ManifestError(self.path, f"{self.key(k)}[{i}]", "expected a table")
            out.append(_Reader(self.path, item, f"{self.prefix}{k}[{i}]."))
        return out

    def fail(self, k: str, msg: str) -> ManifestError:
        return ManifestError(self.path, self.key(k), msg)


def _build(path: Path, directory: Path, data: dict[str, Any]) -> Manifest:
    r = _Reader(path, data)
    compose = directory / r.get("compose_file", str, "compose.yaml")
    if not compose.is_file():
        raise r.fail("compose_file", f"file not found: {compose}")

    images = []
    for it in r.items("images", []):
        img = ImageSpec(
            tag=it.get("tag", str),
            dockerfile=it.get("dockerfile", str),
            context=it.get("context", str, "."),
            wheelhouse=it.get("wheelhouse", bool, False),
        )
        it.strict()
        if not (directory / img.context / img.dockerfile).is_file():
            raise it.fail(
                "dockerfile", f"file not found: {directory / img.context / img.dockerfile}"
            )
        images.append(img)

    ports = []
    for it in r.items("ports", []):
        env = it.get("env", str)
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", env):
            raise it.fail("env", f"not an environment variable name: {env!r}")
        cport = it.get("container_port", int)
        default = it.get("default", int)
        for k, v in (("container_port", cport), ("default", default)):
            if not 1 <= v <= 65535:
                raise it.fail(k, f"port out of range: {v}")
        ports.append(PortSpec(env, it.get("service", str), cport, default))
        it.strict()
    known_env = {p.env for p in ports}

    endpoints = {}
    ep_table = r.table("endpoints")
    for name in ep_table.data:
        e = ep_table.table(name)
        ep = Endpoint(name, e.get("host", str), e.get("network", str))
        e.strict()
        for ref in _ENV_REF.findall(ep.host + ep.network):
            if ref not in known_env:
                raise e.fail("host", f"${{{ref}}} is not declared in [[ports]]")
        endpoints[name] = ep
    for required in ("prometheus",):
        if required not in endpoints:
            raise ep_table.fail(required, "required endpoint is missing")

    readiness = None
    if "readiness" in data:
        rt = r.table("readiness")
        if "prometheus_targets" in rt.data:
            jobs = rt.get("prometheus_targets", dict)
            if not jobs or any(not isinstance(v, int) or v < 1 for v in jobs.values()):
                raise rt.fail("prometheus_targets", "expected {job = expected_count >= 1, ...}")
            readiness = TargetsReadiness(dict(jobs))
        rt.strict()

    y = r.table("ycsb")
    tool = y.get("tool", str)
    if tool not in ("native", "go-ycsb"):
        raise y.fail("tool", f"unknown tool {tool!r}; valid: native, go-ycsb")
    props = y.get("properties", dict, {})
    ycsb = YcsbSpec(
        tool=tool,
        service=y.get("service", str),
        binding=y.get("binding", str),
        workloads_dir=y.get("workloads_dir", str, "workloads"),
        workloads_path_in_container=y.get("workloads_path_in_container", str, "/workloads"),
        properties={str(k): str(v) for k, v in props.items()},
    )
    y.strict()

    queries = []
    seen = set()
    for it in r.items("queries", []):
        q = Query(
            name=it.get("name", str),
            query=it.get("query", str),
            unit=it.get("unit", str),
            kind=it.get("kind", str, "other"),
            description=it.get("description", str, ""),
        )
        if not re.fullmatch(r"[a-z0-9_]+", q.name):
            raise it.fail("name", f"query names are [a-z0-9_]+ (used as file names): {q.name!r}")
        it.strict()
        if q.name in seen:
            raise it.fail("name", f"duplicate query name {q.name!r}")
        if q.kind not in ("throughput", "latency", "resource", "other"):
            raise it.fail(
                "kind", f"unknown kind {q.kind!r}; valid: throughput, latency, resource, other"
            )
        seen.add(q.name)
        queries.append(q)

    ct = r.table("checks", {})
    checks = {ph: ct.str_list(ph, []) for ph in _CHECK_PHASES}
    for k in ct.data:
        if k not in (*_CHECK_PHASES, "options"):
            raise ct.fail(k, f"unknown check phase; valid: {', '.join(_CHECK_PHASES)}, options")
    options = ct.get("options", dict, {})

    manifest = Manifest(
        name=r.get("name", str),
        description=r.get("description", str, ""),
        directory=directory,
        path=path,
        compose_file=compose,
        project_prefix=r.get("project_prefix", str, "wb"),
        healthy_services=r.str_list("healthy_services"),
        images=tuple(images),
        pulled_images=r.str_list("pulled_images", []),
        ports=tuple(ports),
        endpoints=endpoints,
        readiness_targets=readiness,
        ycsb=ycsb,
        queries=tuple(queries),
        checks=checks,
        check_options=dict(options),
        stop_grace_s=r.get("stop_grace_s", int, 1),
        health_timeout_s=r.get("health_timeout_s", float, 120.0),
    )
    r.strict()
    return manifest
