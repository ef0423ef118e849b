"""Docker engine telemetry: a one-off container's CPU time (the engine's stats API over its Unix
socket) and the engine and Compose versions. Looks only; never starts or stops anything.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from typing import Any

import httpx

from workbench import proc
from workbench.errors import WorkbenchError


class ContainerCpu:
    """CPU time of a one-off compose container while it runs, from the engine's stats API.

    Sampled once a second on a background thread (the container is removed when it exits, so the
    last sample is the figure: it can miss up to a second of CPU). `seconds`/`cores` stay None
    when the engine's socket is not reachable: the client-saturation check then says `unknown`.
    """

    def __init__(self, project: str, service: str, socket: str = "/var/run/docker.sock") -> None:
        self.project, self.service, self.socket = project, service, socket
        self.seconds: float | None = None
        self.cores: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ycsb-cpu", daemon=True)

    def __enter__(self) -> ContainerCpu:
        if os.path.exists(self.socket):
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        labels = [
            f"com.docker.compose.project={self.project}",
            f"com.docker.compose.service={self.service}",
            "com.docker.compose.oneoff=True",
        ]
        transport = httpx.HTTPTransport(uds=self.socket)
        with (
            contextlib.suppress(Exception),
            httpx.Client(transport=transport, base_url="http://docker", timeout=5.0) as http,
        ):
            cid = None
            while not self._stop.is_set():
                if cid is None:
                    found = http.get(
                        "/containers/json", params={"filters": json.dumps({"label": labels})}
                    ).json()
                    cid = found[0]["Id"] if found else None
                if cid is not None:
                    r = http.get(f"/containers/{cid}/stats", params={"stream": "false"})
                    if r.status_code == 200:
                        cpu = r.json().get("cpu_stats", {})
                        total = cpu.get("cpu_usage", {}).get("total_usage")
                        if total:
                            self.seconds = total / 1e9
                            self.cores = float(cpu.get("online_cpus") or os.cpu_count() or 1)
                self._stop.wait(0.5 if cid is None else 1.0)


def engine_versions() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, argv in (
        ("engine", ["docker", "version", "--format", "{{.Server.Version}}"]),
        ("compose", ["docker", "compose", "version", "--short"]),
    ):
        with contextlib.suppress(WorkbenchError):
            r = proc.run(argv, timeout=20, check=False)
            out[key] = r.stdout.strip() if r.returncode == 0 else None
    return out
