"""kubectl steps for the Kubernetes platform: argv builders and one session that always cleans up.

Every step is an argv list (logged by workbench.proc); the session runs them through a `Runner`
(default `proc.run`) and starts port-forwards through a `Spawner` (default `proc.start`), so tests
drive it with recorded kubectl outputs. The session's order:

    preflight      kubectl on PATH and a cluster that answers `kubectl version` (else one error)
    apply          `kubectl apply --server-side` of the namespace, TidbCluster, Prometheus, config
    wait           the TidbCluster's Ready condition, Prometheus's Deployment Available
    forward        `kubectl port-forward --address 127.0.0.1` to PD and Prometheus
    jobs           each phase's Indexed Job applied, waited for Complete, its pods' logs saved
    finally        the forwards stopped, `kubectl delete namespace` (everything the run made)

Never run against a real cluster here (README: Kubernetes): only against recorded outputs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from workbench import proc
from workbench.errors import CommandError, PrerequisiteError, StackError
from workbench.stack.kubernetes import CLUSTER, PD_PORT, PROMETHEUS_PORT

KUBECTL = "kubectl"
FIELD_MANAGER = "workbench"
CLUSTER_FILES = ("00-namespace.yaml", "10-tidbcluster.yaml", "20-prometheus.yaml", "30-ycsb.yaml")
JOB_FILES = {"load": "40-ycsb-load.yaml", "run": "41-ycsb-run.yaml"}
_FORWARDING = re.compile(r"Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)")

Runner = Callable[..., "subprocess.CompletedProcess[str]"]
Spawner = Callable[[Sequence[str]], "subprocess.Popen[str]"]


def version_argv(request_timeout_s: int = 5) -> list[str]:
    """Contacts the server (client and server versions): the cheapest "is a cluster there"."""
    return [KUBECTL, "version", "--output=json", f"--request-timeout={request_timeout_s}s"]


def apply_argv(files: Sequence[Path]) -> list[str]:
    argv = [KUBECTL, "apply", "--server-side", f"--field-manager={FIELD_MANAGER}"]
    for f in files:
        argv += ["-f", str(f)]
    return argv


def wait_argv(namespace: str, resource: str, condition: str, timeout_s: int) -> list[str]:
    return [
        KUBECTL,
        "wait",
        f"--namespace={namespace}",
        f"--for=condition={condition}",
        resource,
        f"--timeout={timeout_s}s",
    ]


def port_forward_argv(namespace: str, target: str, remote_port: int) -> list[str]:
    """Local port 0: kubectl picks a free one and prints it (`Forwarding from 127.0.0.1:N`)."""
    return [
        KUBECTL,
        "port-forward",
        f"--namespace={namespace}",
        "--address=127.0.0.1",
        target,
        f":{remote_port}",
    ]


def logs_argv(namespace: str, phase: str, generators: int) -> list[str]:
    return [
        KUBECTL,
        "logs",
        f"--namespace={namespace}",
        f"--selector=workbench/phase={phase}",
        "--prefix",
        "--tail=-1",
        f"--max-log-requests={max(generators, 5)}",
    ]


def delete_namespace_argv(namespace: str, timeout_s: int = 300) -> list[str]:
    return [
        KUBECTL,
        "delete",
        "namespace",
        namespace,
        "--ignore-not-found",
        "--wait=true",
        f"--timeout={timeout_s}s",
    ]


def preflight(run: Runner = proc.run, which: Callable[[str], str | None] = shutil.which) -> None:
    """One clear error before anything starts: no kubectl, or no cluster answering it."""
    if which(KUBECTL) is None:
        raise PrerequisiteError(
            "platform kubernetes: kubectl is not on PATH (install it and point it at a cluster "
            "with TiDB Operator v1 installed)"
        )
    try:
        run(version_argv(), timeout=30)
    except CommandError as exc:
        lines = [ln for ln in exc.output_tail.splitlines() if ln.strip()]
        why = lines[-1] if lines else f"exit {exc.returncode}"  # the client's JSON comes first
        raise PrerequisiteError(
            f"platform kubernetes: no Kubernetes cluster answers kubectl: {why}"
        ) from exc


@dataclass
class Forward:
    """A running `kubectl port-forward` and the local port it chose."""

    process: subprocess.Popen[str]
    local_port: int

    def url(self) -> str:
        return f"http://127.0.0.1:{self.local_port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()


@dataclass
class KubeSession:
    """One run's namespace from apply to delete; `with` guarantees the delete."""

    directory: Path  # the rendered files
    namespace: str
    generators: int
    run: Runner = proc.run
    spawn: Spawner = proc.start
    ready_timeout_s: int = 900
    job_timeout_s: int = 3600
    forwards: list[Forward] = field(default_factory=list)
    applied: bool = False

    def __enter__(self) -> KubeSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.down()

    def up(self) -> None:
        """Apply the cluster's resources and wait until the TidbCluster and Prometheus are ready."""
        self.applied = True  # from here on, `down` deletes the namespace even if apply failed
        self.run(apply_argv([self.directory / f for f in CLUSTER_FILES]), timeout=120)
        ns, t = self.namespace, self.ready_timeout_s
        self.run(wait_argv(ns, f"tidbcluster/{CLUSTER}", "Ready", t), timeout=t + 30)
        self.run(wait_argv(ns, "deployment/prometheus", "Available", t), timeout=t + 30)

    def forward(self, target: str, remote_port: int) -> Forward:
        """Start a port-forward on 127.0.0.1 and read the local port kubectl chose."""
        p = self.spawn(port_forward_argv(self.namespace, target, remote_port))
        assert p.stdout is not None
        line = p.stdout.readline()
        m = _FORWARDING.search(line)
        if m is None:
            p.kill()
            raise StackError(f"kubectl port-forward {target}: unexpected first line {line!r}")
        fwd = Forward(p, int(m.group(1)))
        self.forwards.append(fwd)
        return fwd

    def reach(self) -> dict[str, str]:
        """PD and Prometheus from the host, through port-forwards on 127.0.0.1."""
        pd = self.forward(f"service/{CLUSTER}-pd", PD_PORT)
        prom = self.forward("service/prometheus", PROMETHEUS_PORT)
        return {"cluster": pd.url(), "prometheus": prom.url()}

    def job(self, phase: str, log_path: Path) -> str:
        """Run one phase's Indexed Job to completion; its pods' logs (prefixed by pod) saved."""
        ns = self.namespace
        self.run(apply_argv([self.directory / JOB_FILES[phase]]), timeout=120)
        t = self.job_timeout_s
        try:
            self.run(wait_argv(ns, f"job/ycsb-{phase}", "Complete", t), timeout=t + 30)
        finally:
            out = self.run(logs_argv(ns, phase, self.generators), timeout=300, check=False)
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log_path.write_text(out.stdout + out.stderr)
        return out.stdout

    def down(self) -> None:
        for fwd in self.forwards:
            fwd.stop()
        self.forwards.clear()
        if self.applied:
            self.run(delete_namespace_argv(self.namespace), timeout=360, check=False)
            self.applied = False
