"""A subject's Compose project as a context manager: up, health-gated, inspected, torn down.

`with Stack(manifest, run_dir=d) as st:` picks free 127.0.0.1 ports and a unique project name,
brings the stack up, waits for compose healthchecks *and* the manifest's readiness probes
(Prometheus targets up), and on exit - success, failure, Ctrl-C or SIGTERM - captures every
container's log to `run_dir/logs/` and removes containers, networks and volumes.

Over 450 lines because the lifecycle is one state machine: prestart/adopt (a lock shared with
another process), up with the health and readiness gates, SIGTERM handling, log capture and a down
that also removes what a dead client created meanwhile. Its argv and state files are in
`compose.py`; each step here needs the others' state.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

from workbench import ports as portlib
from workbench import proc
from workbench.docker import cli as docker
from workbench.errors import (
    PortConflictError,
    StackError,
    UnhealthyStackError,
    WorkbenchError,
)
from workbench.manifest import Manifest
from workbench.stack import compose
from workbench.waiting import wait_until

if TYPE_CHECKING:  # imported where used: python-on-whales and httpx take 0.3 s to import, and
    # `workbench run` starts the stack before anything else (the notebook does the rest)
    from python_on_whales import DockerClient

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass
class Timings:
    up_s: float | None = None
    healthy_s: float | None = None
    down_s: float | None = None
    marks: dict[str, float] = field(default_factory=dict)


class Stack:
    """One running (or about to run) compose project of a subject."""

    #: projects this process brought up (tests check that none of them is left behind)
    created: set[str] = set()  # noqa: RUF012 - a registry shared on purpose

    def __init__(
        self,
        manifest: Manifest,
        run_dir: Path | None = None,
        project: str | None = None,
        *,
        ports: dict[str, int] | None = None,
        progress: Progress = _quiet,
        health_timeout_s: float | None = None,
        owned: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.manifest = manifest
        self.project = project or f"{manifest.project_prefix}-{secrets.token_hex(4)}"
        self.run_dir = run_dir
        self.ports = (
            dict(ports) if ports is not None else portlib.allocate([p.env for p in manifest.ports])
        )
        self.progress = progress
        self.health_timeout_s = health_timeout_s or manifest.health_timeout_s
        self.owned = owned
        #: fresh starts after another process took a chosen host port (see `up`)
        self.port_retries = 1
        self.clock = clock
        self.timings = Timings()
        self._old_sigterm: Any = None
        compose.STACKS_DIR.mkdir(parents=True, exist_ok=True)
        #: where the project's state files are (`attach` may find them in another state folder)
        self.state_dir: Path = compose.STACKS_DIR
        self.env_file = compose.env_file(self.project)

    # --- construction helpers ---------------------------------------------------------------

    @classmethod
    def attach(cls, manifest: Manifest, project: str, progress: Progress = _quiet) -> Stack:
        """A handle on an already running project: its ports read back from its state file,
        wherever Compose recorded it (another checkout or `WORKBENCH_STATE_DIR`), or, when that
        file is gone, from the ports its containers publish."""
        directory = compose.locate(project)
        ports = compose.read_ports(project, directory) if directory is not None else None
        if ports is None:
            defaults = {p.env: p.default for p in manifest.ports}
            ports = {**defaults, **compose.published_ports(manifest, project)}
        st = cls(manifest, project=project, ports=ports, progress=progress, owned=False)
        if directory is not None:
            st.state_dir = directory
            st.env_file = compose.env_file(project, directory)
        return st

    @classmethod
    def adopt(
        cls,
        manifest: Manifest,
        project: str,
        run_dir: Path | None = None,
        progress: Progress = _quiet,
    ) -> Stack:
        """Take over a project that `prestart` (maybe in another process) began: same name and
        ports, owned (torn down on exit). Its `up()` waits for health."""
        ports = cls.attach(manifest, project).ports
        return cls(manifest, run_dir, project, ports=ports, progress=progress, owned=True)

    @property
    def lock_file(self) -> Path:
        return compose.lock_file(self.project)

    def prestart(self) -> threading.Thread:
        """Begin `compose up` without waiting for health and return at once, so the caller can
        do other work meanwhile (`workbench run` starts the notebook kernel). A later `up()` of
        the project, here or in another process (`Stack.adopt`), waits for health. Two `compose
        up` of one project at a time race, so this one holds an exclusive lock on the project's
        lock file until it ends, and `up()`/`down()` take that lock first. The returned thread
        ends with the background command."""
        self._write_env()
        Stack.created.add(self.project)
        lock = self.lock_file.open("w")
        fcntl.flock(lock, fcntl.LOCK_EX)
        argv = [*self.compose_argv(), "up", "--detach", "--quiet-pull"]
        try:
            started = subprocess.Popen(
                argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL
            )
        except BaseException:
            lock.close()
            raise

        def release() -> None:
            try:
                started.wait()
            finally:
                lock.close()  # closing the file drops the lock

        t = threading.Thread(target=release, name=f"prestart-{self.project}", daemon=True)
        t.start()
        return t

    def _await_prestart(self, timeout: float) -> None:
        """Wait (at most `timeout` s) until no `prestart` command of this project is running."""
        if not self.lock_file.is_file():
            return
        with self.lock_file.open("a") as f:

            def locked() -> bool:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return False
                return True  # released on close

            # not in time: go on, compose reports what is wrong
            wait_until(locked, timeout, every=0.05)

    def _write_env(self) -> None:
        compose.write_env(self.project, self.ports, self.manifest.name)
        if self.owned:  # who holds it, so `workbench down` can tell a live run's stack apart
            compose.claim(self.project, os.getpid(), self.run_dir)

    # --- addresses --------------------------------------------------------------------------

    def endpoint(self, name: str, where: str = "host") -> str:
        return self.manifest.endpoint(name, where, self.ports)

    @functools.cached_property
    def client(self) -> DockerClient:
        """python-on-whales for this project (ps, inspect)."""
        # imported here: python-on-whales/httpx (0.3 s) stay off `workbench run`'s prestart path
        from python_on_whales import DockerClient

        return DockerClient(
            compose_files=[self.manifest.compose_file],
            compose_project_name=self.project,
            compose_env_files=[self.env_file] if self.env_file.is_file() else [],
            compose_project_directory=self.manifest.directory,
        )

    def compose_argv(self) -> list[str]:
        return compose.compose_argv(self.manifest, self.project, self.env_file)

    def run_argv(
        self,
        service: str,
        *,
        entrypoint: str | None = None,
        name: str | None = None,
        volumes: dict[str, str] | None = None,
    ) -> list[str]:
        """Prefix for a one-off container of `service` in the network. Give it a `name` when it
        must be signalled later: `docker compose run` does not forward SIGINT to the container.
        `volumes`: host path → container path, each bind-mounted (`-v host:container`)."""
        argv = [*self.compose_argv(), "run", "--rm", "--no-deps", "-T"]
        if entrypoint is not None:
            argv += ["--entrypoint", entrypoint]
        if name is not None:
            argv += ["--name", name]
        for host, inside in (volumes or {}).items():
            argv += ["-v", f"{Path(host).resolve()}:{inside}"]
        return [*argv, service]

    def start_detached(
        self,
        service: str,
        *,
        name: str,
        args: Sequence[str] = (),
        entrypoint: str | None = None,
        env: Mapping[str, str] | None = None,
        volumes: Mapping[str, str] | None = None,
        compose_env: Mapping[str, str] | None = None,
    ) -> str:
        """Start a one-off container of `service` in the background (`compose run -d`): it has
        the project's labels, so `down` removes it with the stack. `env`: its environment
        (`-e`); `volumes`: host path → container path; `compose_env`: variables for Compose's
        own interpolation of the file (an image name). Returns the container's name."""
        argv = [*self.compose_argv(), "run", "-d", "--no-deps", "--name", name]
        for key, value in (env or {}).items():
            argv += ["-e", f"{key}={value}"]
        for host, inside in (volumes or {}).items():
            argv += ["-v", f"{Path(host).resolve()}:{inside}"]
        if entrypoint is not None:
            argv += ["--entrypoint", entrypoint]
        r = proc.run(
            [*argv, service, *args],
            env={**os.environ, **(compose_env or {})},
            timeout=120,
            check=False,
        )
        if r.returncode != 0:
            raise StackError(f"could not start {service}:\n{proc.tail(r.stdout + r.stderr)}")
        return name

    def exec_argv(self, service: str) -> list[str]:
        """Prefix to run a command inside a running service container (no TTY)."""
        return [*self.compose_argv(), "exec", "-T", service]

    def run(
        self, service: str, args: list[str], timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """A one-off container of `service` in the stack's network (not checked)."""
        return proc.run([*self.run_argv(service), *args], timeout=timeout, check=False)

    # --- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> Stack:
        self._install_sigterm()
        try:
            self.up()
        except BaseException:
            self.down()
            self._restore_sigterm()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self.owned:
                self.down()
        finally:
            self._restore_sigterm()

    def _install_sigterm(self) -> None:
        if os.name != "posix":
            return
        try:
            self._old_sigterm = signal.signal(signal.SIGTERM, _sigterm_to_interrupt)
        except ValueError:  # not the main thread
            self._old_sigterm = None

    def _restore_sigterm(self) -> None:
        if self._old_sigterm is not None:
            with contextlib.suppress(ValueError):
                signal.signal(signal.SIGTERM, self._old_sigterm)
            self._old_sigterm = None

    def up(self) -> None:
        """Start every non-profile service and gate on health + readiness, within the timeout.

        Free ports are chosen before Compose publishes them, so another process can bind one in
        between: then an owned stack's containers are removed and it starts once more on fresh
        ports (`port_retries`); a stack that is not ours, or a second conflict, raises
        PortConflictError naming the address."""
        for attempt in range(self.port_retries + 1):
            try:
                return self._up_once()
            except PortConflictError as exc:
                if not self.owned or attempt == self.port_retries:
                    raise
                self.progress(f"host port {exc.address} was taken meanwhile: new ports, again")
                r = proc.run(self._down_argv(), check=False, timeout=120)
                if r.returncode != 0:
                    raise
                self.ports = portlib.allocate([p.env for p in self.manifest.ports])

    def _down_argv(self) -> list[str]:
        # Volumes go too, so a graceful leader hand-over buys nothing: kill at once (-t 0).
        return [*self.compose_argv(), "down", "--volumes", "--remove-orphans", "--timeout", "0"]

    def _up_once(self) -> None:
        self._write_env()
        Stack.created.add(self.project)
        t0 = self.clock()
        deadline = t0 + self.health_timeout_s
        self._await_prestart(self.health_timeout_s)
        argv = [
            *self.compose_argv(),
            "up",
            "--detach",
            "--wait",
            "--wait-timeout",
            str(int(self.health_timeout_s)),
            "--quiet-pull",
        ]
        self.progress(f"starting {self.manifest.name} stack as project {self.project}")
        up = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seen: dict[str, str] = {}

        def ended() -> bool:
            if up.poll() is not None:
                return True
            self._report_health(seen)
            return False

        timed_out = False
        try:
            if not wait_until(ended, max(0.0, deadline - self.clock()), 0.5, clock=self.clock):
                timed_out = True
                up.kill()
            out = up.communicate()[0] or ""
        except BaseException:
            up.kill()
            up.wait()
            raise
        self.timings.up_s = self.clock() - t0
        taken = compose.bind_conflict(out) if up.returncode != 0 else None
        if taken is not None:
            raise PortConflictError(taken, self.timings.up_s, proc.tail(out, 15))
        health = self.services_health()
        bad = {
            s: h
            for s, h in health.items()
            if s in self.manifest.healthy_services and h != "healthy"
        }
        missing = [s for s in self.manifest.healthy_services if s not in health]
        if up.returncode != 0 or bad or missing:
            names = {**bad, **dict.fromkeys(missing, "absent")} or dict.fromkeys(
                self.manifest.healthy_services, "unknown"
            )
            detail = {s: f"state: {h}\n{self._log_tail(s)}" for s, h in names.items()}
            if up.returncode not in (0, None) and out.strip():
                detail["compose up"] = proc.tail(out, 15)
            early = None if timed_out or up.returncode == 0 else self.timings.up_s
            raise UnhealthyStackError(detail, self.health_timeout_s, failed_after_s=early)
        self._wait_ready(deadline)
        self.timings.healthy_s = self.clock() - t0
        self.progress(f"stack healthy in {self.timings.healthy_s:.1f}s")

    def recheck(self, timeout_s: float = 30.0) -> float:
        """A running stack, health-gated again (a run attached to it, before it starts): every
        healthy service `healthy` and the readiness probes answering, within `timeout_s`; returns
        the seconds it took. UnhealthyStackError names what was not, with its last log lines."""
        t0 = self.clock()
        health: dict[str, str] = {}

        def all_healthy() -> bool:
            nonlocal health
            health = self.services_health()
            return all(health.get(s) == "healthy" for s in self.manifest.healthy_services)

        if not wait_until(all_healthy, timeout_s, 0.25, clock=self.clock):
            bad = {
                s: f"state: {health.get(s, 'absent')}\n{self._log_tail(s)}"
                for s in self.manifest.healthy_services
                if health.get(s) != "healthy"
            }
            raise UnhealthyStackError(bad, timeout_s)
        self._wait_ready(t0 + timeout_s)
        return self.clock() - t0

    def _report_health(self, seen: dict[str, str]) -> None:
        try:
            health = self.services_health()
        except StackError:
            return
        changed = {s: h for s, h in health.items() if seen.get(s) != h}
        if changed:
            seen.update(changed)
            self.progress("  " + ", ".join(f"{s}: {h}" for s, h in sorted(seen.items())))

    def _wait_ready(self, deadline: float) -> None:
        """Readiness beyond healthchecks: Prometheus has every expected target `up`."""
        spec = self.manifest.readiness_targets
        if spec is None:
            return
        # here, not at the top: prometheus imports pandas (~0.5 s), kept off the prestart path
        import httpx

        from workbench.prometheus import PrometheusClient, summarize_targets

        last: dict[str, Any] = {}
        with httpx.Client(timeout=3) as http:
            prom = PrometheusClient(http, self.endpoint("prometheus"), retries=0)

            def all_up() -> bool:
                nonlocal last
                try:
                    last = summarize_targets(prom.targets())
                except WorkbenchError as exc:
                    last = {"error": str(exc)}
                    return False
                return all(last.get(job, {}).get("up", 0) >= n for job, n in spec.jobs.items())

            if not wait_until(all_up, max(0.0, deadline - self.clock()), 0.25, clock=self.clock):
                tail = self._log_tail("prometheus")
                raise UnhealthyStackError(
                    {"prometheus": f"targets not all up: {json.dumps(last)}\n{tail}"},
                    self.health_timeout_s,
                )

    def services_health(self) -> dict[str, str]:
        """service -> 'healthy' | 'unhealthy' | 'starting' | 'running' | 'exited(N)' ..."""
        # imported here: python-on-whales/httpx (0.3 s) stay off `workbench run`'s prestart path
        from python_on_whales.exceptions import DockerException

        try:
            containers = self.client.compose.ps(all=True)
        except DockerException as exc:
            raise StackError(f"compose ps failed: {exc}") from exc
        out: dict[str, str] = {}
        for c in containers:
            labels = c.config.labels or {}
            service = labels.get("com.docker.compose.service", c.name)
            if labels.get("com.docker.compose.oneoff") == "True":
                continue
            st = c.state
            if st.health is not None and st.health.status:
                out[service] = str(st.health.status)
            elif st.status == "exited":
                out[service] = f"exited({st.exit_code})"
            else:
                out[service] = str(st.status)
        return out

    def _log_tail(self, service: str, lines: int = 20) -> str:
        r = proc.run(
            [*self.compose_argv(), "logs", "--no-color", "--tail", str(lines), service],
            check=False,
            timeout=30,
        )
        return (r.stdout + r.stderr).rstrip()

    def capture_logs(self, dest: Path | None = None) -> list[Path]:
        """Write each service's full log (with timestamps) to dest/<service>.log."""
        dest = dest or (self.run_dir / "logs" if self.run_dir else None)
        if dest is None:
            return []
        dest.mkdir(parents=True, exist_ok=True)
        try:
            services = sorted(self.services_health())
        except StackError:
            return []

        def one(service: str) -> Path:
            r = proc.run(
                [
                    *self.compose_argv(),
                    "logs",
                    "--no-color",
                    "--timestamps",
                    "--no-log-prefix",
                    service,
                ],
                check=False,
                timeout=60,
            )
            path = dest / f"{service}.log"
            path.write_text(r.stdout + r.stderr)
            return path

        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(one, services))

    def down(self) -> None:
        """Capture logs, then remove containers, networks and volumes, fast (no graceful hand-over)."""
        t0 = self.clock()
        self._await_prestart(60)  # a `compose up` still creating containers would outlive down
        # A `compose run` client whose parent died (a killed kernel) goes on creating and starting
        # its container; one that does so after `down` looked would be left behind.
        self._kill_compose_clients()
        try:
            self.capture_logs()
        except Exception as exc:  # teardown must go on
            print(f"workbench: log capture failed: {exc}", file=sys.stderr)
        down = self._down_argv()
        r = proc.run(down, check=False, timeout=120)
        left = self._containers()
        if left:  # created while down ran: remove them, then the network
            proc.run(docker.rm(*left, volumes=True), check=False, timeout=60)
            r = proc.run(down, check=False, timeout=120)
        self.timings.down_s = self.clock() - t0
        if r.returncode != 0:
            raise StackError(
                f"compose down failed for {self.project}:\n{proc.tail(r.stdout + r.stderr)}"
            )
        compose.forget(self.project, self.state_dir)
        self.progress(f"stack {self.project} removed in {self.timings.down_s:.1f}s")

    def _containers(self) -> list[str]:
        """Ids of every container of this project, one-off ones included, in any state."""
        return docker.container_ids(docker.compose_labels(self.project))

    def _kill_compose_clients(self) -> None:
        """SIGKILL docker compose clients of this project still running (not this process)."""
        # imported here: python-on-whales/httpx (0.3 s) stay off `workbench run`'s prestart path
        import psutil

        me = os.getpid()
        for p in psutil.process_iter(["pid", "cmdline"]):
            cmd = p.info.get("cmdline") or []
            if p.info["pid"] == me or "compose" not in " ".join(cmd[:3]):
                continue
            if any(a == self.project and i and cmd[i - 1] in ("--project-name", "-p")
                   for i, a in enumerate(cmd)):  # fmt: skip
                with contextlib.suppress(psutil.Error):
                    p.kill()

    # --- fault injection / inspection -------------------------------------------------------

    def stop_service(self, service: str) -> None:
        proc.run([*self.compose_argv(), "stop", "--timeout", "0", service], timeout=60)

    def start_service(self, service: str) -> None:
        proc.run([*self.compose_argv(), "start", service], timeout=60)

    def image_ids(self) -> dict[str, str]:
        """service -> image id of its running container (for the environment fingerprint)."""
        out = {}
        for c in self.client.compose.ps(all=True):
            service = (c.config.labels or {}).get("com.docker.compose.service", c.name)
            out[service] = str(c.image)
        return out


def _sigterm_to_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def stack(manifest: Manifest, **kw: Any) -> Iterator[Stack]:
    with Stack(manifest, **kw) as st:
        yield st
