"""Real etcd and Prometheus (Debian's `etcd-server` and `prometheus` packages) as local processes
on 127.0.0.1 free ports, for fast tests of the client and the etcd checks.

A missing binary skips the test on a developer machine but FAILS it when CI=true: CI must install
both packages.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

PACKAGES = {"etcd": "etcd-server", "prometheus": "prometheus"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require_binary(name: str) -> str:
    path = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    if path is None:
        msg = f"{name} not found: apt-get install {PACKAGES.get(name, name)}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg)
        pytest.skip(msg)
    return path


def wait_http(
    url: str, timeout_s: float = 30.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited ({proc.returncode}) before {url} answered")
        try:
            r = httpx.get(url, timeout=1.0)
            if r.status_code == 200:
                return
            last = f"HTTP {r.status_code}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer 200 within {timeout_s}s: {last}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@dataclass
class EtcdCluster:
    """N etcd members on loopback; `stop(i)` / `start(i)` a member."""

    root: Path
    n: int = 3
    names: list[str] = field(default_factory=list)
    client_ports: list[int] = field(default_factory=list)
    peer_ports: list[int] = field(default_factory=list)
    procs: list[subprocess.Popen[bytes] | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.binary = require_binary("etcd")
        self.names = [f"etcd{i}" for i in range(self.n)]
        self.client_ports = [free_port() for _ in range(self.n)]
        self.peer_ports = [free_port() for _ in range(self.n)]
        self.procs = [None] * self.n

    @property
    def client_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.client_ports]

    @property
    def metrics_targets(self) -> list[str]:
        return [f"127.0.0.1:{p}" for p in self.client_ports]

    def _argv(self, i: int) -> list[str]:
        initial = ",".join(
            f"{n}=http://127.0.0.1:{p}" for n, p in zip(self.names, self.peer_ports, strict=True)
        )
        return [
            self.binary,
            f"--name={self.names[i]}",
            f"--data-dir={self.root / self.names[i]}",
            f"--listen-client-urls={self.client_urls[i]}",
            f"--advertise-client-urls={self.client_urls[i]}",
            f"--listen-peer-urls=http://127.0.0.1:{self.peer_ports[i]}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{self.peer_ports[i]}",
            f"--initial-cluster={initial}",
            "--initial-cluster-state=new",
            "--initial-cluster-token=wb-test",
            "--metrics=extensive",
            "--heartbeat-interval=50",
            "--election-timeout=500",
        ]

    def start(self, i: int | None = None) -> None:
        members = range(self.n) if i is None else [i]
        for k in members:
            with (self.root / f"{self.names[k]}.log").open("ab") as log:
                self.procs[k] = subprocess.Popen(
                    self._argv(k), stdout=log, stderr=subprocess.STDOUT
                )
        for k in members:
            wait_http(f"{self.client_urls[k]}/health", proc=self.procs[k])

    def stop(self, i: int) -> None:
        proc = self.procs[i]
        if proc is not None:
            _stop(proc)
            self.procs[i] = None

    def close(self) -> None:
        for i in range(self.n):
            self.stop(i)


@dataclass
class LocalPrometheus:
    """Prometheus scraping the given jobs every `interval` seconds (and itself, job prometheus)."""

    root: Path
    jobs: dict[str, list[str]]
    interval: str = "1s"
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0

    def start(self) -> None:
        binary = require_binary("prometheus")
        self.port = self.port or free_port()
        jobs = {"prometheus": [f"127.0.0.1:{self.port}"], **self.jobs}
        lines = [
            "global:",
            f"  scrape_interval: {self.interval}",
            f"  scrape_timeout: {self.interval}",
            f"  evaluation_interval: {self.interval}",
            "scrape_configs:",
        ]
        for job, targets in jobs.items():
            lines += [
                f"  - job_name: {job}",
                "    static_configs:",
                f"      - targets: {json.dumps(targets)}",
            ]
        cfg = self.root / "prometheus.yml"
        cfg.write_text("\n".join(lines) + "\n")
        self.started_at = time.time()
        with (self.root / "prometheus.log").open("ab") as log:
            self.proc = self._popen(binary, cfg, log)
        wait_http(f"{self.url}/-/ready", proc=self.proc)

    def _popen(self, binary: str, cfg: Path, log: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                binary,
                f"--config.file={cfg}",
                f"--storage.tsdb.path={self.root / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_targets_up(self, n: int, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            data = httpx.get(f"{self.url}/api/v1/targets", timeout=2).json()["data"]
            up = [t for t in data["activeTargets"] if t["health"] == "up"]
            # and every other target scraped once too (the always-down one reads "unknown"
            # until its first scrape: a loaded machine got there after the `up` ones)
            unseen = [t for t in data["activeTargets"] if t["health"] == "unknown"]
            if len(up) >= n and not unseen:
                self.started_at = time.time()  # every target has data from here on
                return
            time.sleep(0.2)
        raise TimeoutError(f"fewer than {n} targets up, or some never scraped, after {timeout_s}s")

    def wait_history(self, seconds: float) -> None:
        """Sleep until the server has scraped for `seconds` (so ranges that long have data)."""
        time.sleep(max(0.0, self.started_at + seconds + 1.5 - time.time()))

    def close(self) -> None:
        if self.proc is not None:
            _stop(self.proc)
            self.proc = None
