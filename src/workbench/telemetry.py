"""Host and engine telemetry: a one-off container's CPU time (the engine's stats API, through
`workbench.docker`), the engine and Compose versions, and `HostSampler` (the host's CPU, this run's stack's
containers, the workbench's own processes and the other workbench stacks running, sampled over a
run for the host-contention check). Looks only; never starts or stops anything. Not here: the
verdict on what was sampled (`workbench.checks.contention`).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from workbench.docker import cli as docker_cli
from workbench.docker.engine import DOCKER_SOCKET, Engine, engine_answers


class ContainerCpu:
    """CPU time of a one-off compose container while it runs, from the engine's stats API.

    Sampled once a second on a background thread (the container is removed when it exits, so the
    last sample is the figure: it can miss up to a second of CPU). `seconds`/`cores` stay None
    when the engine's socket is not reachable: the client-saturation check then says `unknown`.
    """

    def __init__(
        self, project: str, service: str, socket: str = DOCKER_SOCKET, name: str | None = None
    ) -> None:
        """`name`: the one container of that name (several one-off containers of a service)."""
        self.project, self.service, self.socket, self.name = project, service, socket, name
        self.seconds: float | None = None
        self.cores: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ycsb-cpu", daemon=True)

    def __enter__(self) -> ContainerCpu:
        if engine_answers(self.socket):
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        labels = docker_cli.compose_labels(self.project, self.service, oneoff=True)
        with contextlib.suppress(Exception), Engine(self.socket) as engine:
            cid = None
            while not self._stop.is_set():
                if cid is None:
                    found = [
                        c
                        for c in engine.containers(labels)
                        if self.name is None or f"/{self.name}" in (c.get("Names") or [])
                    ]
                    cid = found[0]["Id"] if found else None
                if cid is not None:
                    stats = engine.stats(cid) or {}
                    cpu = stats.get("cpu_stats") or {}
                    total = (cpu.get("cpu_usage") or {}).get("total_usage")
                    if total:
                        self.seconds = total / 1e9
                        self.cores = float(cpu.get("online_cpus") or os.cpu_count() or 1)
                self._stop.wait(0.5 if cid is None else 1.0)


def engine_versions() -> dict[str, Any]:
    """The engine's and the Compose plugin's versions (None each when it does not answer)."""
    return {
        "engine": docker_cli.server_version(),
        "compose": docker_cli.compose_version_short(),
    }


# -- host contention: host CPU, this stack's containers, other workbench stacks ------------------

PROJECT_LABEL = docker_cli.PROJECT_LABEL
WORKBENCH_PREFIX = "wb-"
Points = list[tuple[float, dict[str, float]]]  # (Unix s, key -> cumulative CPU seconds)


CGROUP_CPU_FILES = (  # (path with {id}, field in the file or "" for a bare number, to seconds)
    ("/sys/fs/cgroup/cpuacct/docker/{id}/cpuacct.usage", "", 1e-9),  # v1, cgroupfs driver
    ("/sys/fs/cgroup/cpu,cpuacct/docker/{id}/cpuacct.usage", "", 1e-9),
    ("/sys/fs/cgroup/system.slice/docker-{id}.scope/cpu.stat", "usage_usec", 1e-6),  # v2 systemd
    ("/sys/fs/cgroup/docker/{id}/cpu.stat", "usage_usec", 1e-6),  # v2, cgroupfs driver
)


def cgroup_cpu_seconds(cid: str) -> float | None:
    """A container's cumulative CPU seconds from its cgroup (v1 or v2 layouts); None when this
    host cannot see it (a remote engine, another layout)."""
    for pattern, field_name, scale in CGROUP_CPU_FILES:
        try:
            text = Path(pattern.format(id=cid)).read_text()
        except OSError:
            continue
        for line in text.splitlines():
            parts = line.split()
            if not field_name and len(parts) == 1:
                return int(parts[0]) * scale
            if len(parts) == 2 and parts[0] == field_name:
                return int(parts[1]) * scale
    return None


def project_cpu(engine: Any, project: str) -> dict[str, float]:
    """Cumulative CPU seconds of each running container of a compose project, by name."""
    out = {}
    for c in engine.running():
        if (c.get("Labels") or {}).get(PROJECT_LABEL) == project:
            seconds = cgroup_cpu_seconds(c["Id"])  # instant when this host can read it
            if seconds is None:
                seconds = engine.cpu_seconds(c["Id"])  # about a second on a busy engine
            if seconds is not None:
                out[(c.get("Names") or [c["Id"]])[0].lstrip("/")] = seconds
    return out


def workbench_projects(engine: Any, prefix: str = WORKBENCH_PREFIX) -> set[str]:
    """Compose projects with a running container whose name starts with the workbench prefix."""
    names = {(c.get("Labels") or {}).get(PROJECT_LABEL) or "" for c in engine.running()}
    return {n for n in names if n.startswith(prefix)}


def host_cpu() -> dict[str, float]:
    """The host's cumulative CPU seconds, all cores: busy (user, nice, system, irq, softirq; not
    idle or iowait) and steal (taken by the hypervisor), from psutil."""
    t = psutil.cpu_times()
    busy = sum(getattr(t, f, 0.0) for f in ("user", "nice", "system", "irq", "softirq"))
    return {"busy": busy, "steal": getattr(t, "steal", 0.0)}


def own_cpu() -> dict[str, float]:
    """Cumulative CPU seconds of this process (the conductor, its checks and this sampler): the
    workbench's own share of the host. Its children (the docker CLI of a phase) are not in it."""
    t = psutil.Process().cpu_times()
    return {"self": t.user + t.system}


def _value(points: Points, key: str, t: float) -> float | None:
    """A key's cumulative value at `t`, linear between its samples; 0 before the first sample of
    a key that appeared after sampling began (it started in between), its last value after it
    vanished; None before the first sample of a key that was there from the start."""
    seen = [(ts, v[key]) for ts, v in points if key in v]
    if not seen:
        return None
    if t < seen[0][0]:
        return 0.0 if seen[0][0] > points[0][0] else None
    for (t0, v0), (t1, v1) in itertools.pairwise(seen):
        if t <= t1:
            return v0 + (v1 - v0) * (t - t0) / (t1 - t0) if t1 > t0 else v1
    return seen[-1][1]


def increase(points: Points, start: float, end: float) -> dict[str, float] | None:
    """Each key's CPU seconds over [start, end]; None when the samples do not span it."""
    if not points or points[0][0] > start or points[-1][0] < end:
        return None
    keys = {k for _, v in points for k in v}
    out = {}
    for k in sorted(keys):
        a, b = _value(points, k, start), _value(points, k, end)
        if a is not None and b is not None:
            out[k] = max(0.0, b - a)
    return out


class HostSampler:
    """Samples, on a daemon thread between `start()` and `stop()`, the host's CPU (every
    `interval_s`), the workbench's own processes' CPU and, every `engine_every_s` through the
    engine, this run's compose project's containers' CPU and which workbench projects run.

    `window(start, end)`: the host's busy cores over the span; `contention(start, end)`: the
    evidence of the host-contention check. Without the engine (no socket) the stack's share and
    other stacks stay unmeasured (None). Sources are injectable for tests.
    """

    def __init__(
        self,
        project: str | None = None,
        *,
        interval_s: float = 0.5,
        engine_every_s: float = 1.0,
        engine: Callable[[], Any] | None = None,
        host: Callable[[], dict[str, float]] = host_cpu,
        own: Callable[[], dict[str, float]] = own_cpu,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.project, self.interval_s, self.engine_every_s = project, interval_s, engine_every_s
        self._make_engine = engine if engine is not None else Engine.connect
        self._host, self._own, self._clock = host, own, clock
        self.host: Points = []
        self.own: Points = []
        self.stack: Points = []
        self.projects: list[tuple[float, set[str]]] = []
        self.engine_error: str | None = None
        self._engine: Any = None
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._loop, args=(fn, every), name=name, daemon=True)
            for fn, every, name in (
                (self._sample_host, interval_s, "host-sampler"),
                (self._sample_engine, engine_every_s, "engine-sampler"),
            )
        ]

    def start(self) -> HostSampler:
        self._engine = self._connect()
        self.sample(engine=True)
        for t in self._threads if self._engine is not None else self._threads[:1]:
            t.start()
        return self

    def stop(self) -> None:
        """End sampling with a last sample (the engine too); a second call does nothing."""
        if self._stop.is_set():
            return
        self._stop.set()
        for t in self._threads:
            if t.is_alive():
                t.join(timeout=10)
        self.sample(engine=True)  # the span ends on a sample
        if self._engine is not None:
            with contextlib.suppress(Exception):
                self._engine.close()

    def __enter__(self) -> HostSampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _connect(self) -> Any:
        try:
            return self._make_engine()
        except Exception as exc:  # no engine: host CPU alone
            self.engine_error = f"engine not reachable: {exc}"
            return None

    def _loop(self, fn: Callable[[], None], every: float) -> None:
        while not self._stop.wait(every):
            fn()

    def sample(self, engine: bool = False) -> None:
        """One host sample now, and one of the engine when asked; never raises."""
        self._sample_host()
        if engine:
            self._sample_engine()

    def _sample_host(self) -> None:
        with contextlib.suppress(Exception):
            t = self._clock()
            self.host.append((t, self._host()))
            self.own.append((t, self._own()))

    def _sample_engine(self) -> None:
        if self._engine is None:
            return
        try:
            if self.project:
                cpu = project_cpu(self._engine, self.project)
                self.stack.append((self._clock(), cpu))
            self.projects.append((self._clock(), workbench_projects(self._engine)))
        except Exception as exc:
            self.engine_error = f"engine stats failed: {exc}"

    def window(self, start: float, end: float) -> float | None:
        """The host's busy cores over [start, end]; None when the samples do not span it."""
        busy = increase(self.host, start, end)
        return busy["busy"] / (end - start) if busy and end > start else None

    def contention(self, start: float, end: float) -> dict[str, Any]:
        """Host busy cores over the span, split into this stack's containers, the workbench's own
        processes and the rest (`outside_cores`), with the other workbench projects seen."""
        span = end - start
        host = increase(self.host, start, end) if span > 0 else None
        if host is None:
            first = self.host[0][0] if self.host else None
            last = self.host[-1][0] if self.host else None
            return {
                "measured": False,
                "reason": f"host samples {first}..{last} do not span "
                f"the window {start:.1f}..{end:.1f}",
                "span_s": span,
            }
        own = increase(self.own, start, end) or {}
        stack = increase(self.stack, start, end) if self.project else None
        out: dict[str, Any] = {
            "measured": True,
            "span_s": span,
            "cpu_count": psutil.cpu_count() or 1,
            "host_busy_cores": host["busy"] / span,
            "steal_cores": host.get("steal", 0.0) / span,
            "workbench_cores": sum(own.values()) / span,
            "stack_cores": None if stack is None else sum(stack.values()) / span,
            "stack_containers": {k: v / span for k, v in (stack or {}).items()},
            "host_samples": sum(1 for t, _ in self.host if start <= t <= end),
            "engine_error": self.engine_error,
        }
        if stack is not None:
            out["outside_cores"] = (
                out["host_busy_cores"] - out["stack_cores"] - out["workbench_cores"]
            )
        seen = [p for t, p in self.projects if start - self.engine_every_s <= t <= end]
        out["other_projects"] = sorted(set().union(*seen) - {self.project}) if seen else None
        return out
