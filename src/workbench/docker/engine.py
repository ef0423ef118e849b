"""The Engine API over its Unix socket: one client type (`Engine`), httpx with a UDS transport.

Version, containers (by label), inspect, one-shot stats and the event stream, each bounded by a
timeout; and the three lifecycle calls an operator needs (start, unpause, restart). A failed call
raises `EngineError` with the path and the engine's answer (its `message`). A socket file
with no engine listening behind it (a stopped engine leaves it) is no engine: `Engine.connect`
looks with a plain socket first (`engine_answers`), because every refused connection through
httpx would leave an unclosed socket behind.
"""

from __future__ import annotations

import json
import socket as socketlib
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from workbench.docker.cli import DOCKER_SOCKET
from workbench.docker.events import Event, ns_param, parse_line
from workbench.errors import WorkbenchError

BASE_URL = "http://docker"


class EngineError(WorkbenchError):
    """No engine behind the socket, or an Engine API call that failed."""


def engine_answers(path: str = DOCKER_SOCKET, timeout: float = 2.0) -> bool:
    """An engine listens on the socket (a connect succeeds; nothing is sent)."""
    try:
        with socketlib.socket(socketlib.AF_UNIX, socketlib.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(path)
    except OSError:
        return False
    return True


class Engine:
    """The engine's HTTP API. `transport` replaces the socket (httpx.MockTransport in tests)."""

    def __init__(
        self,
        socket: str = DOCKER_SOCKET,
        *,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.socket, self.timeout = socket, timeout
        self.http = httpx.Client(
            transport=transport or httpx.HTTPTransport(uds=socket),
            base_url=BASE_URL,
            timeout=timeout,
        )

    @classmethod
    def connect(cls, socket: str = DOCKER_SOCKET, timeout: float = 5.0) -> Engine:
        """A client of the engine at `socket`; EngineError when nothing listens there."""
        if not engine_answers(socket):
            raise EngineError(f"no engine listens at {socket}")
        return cls(socket, timeout=timeout)

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def _get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        try:
            r = self.http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise EngineError(f"engine GET {path}: {type(exc).__name__}: {exc}") from exc
        if r.status_code != 200:
            raise EngineError(f"engine GET {path}: HTTP {r.status_code}: {r.text[:300]}")
        try:
            return r.json()
        except ValueError as exc:
            raise EngineError(f"engine GET {path}: not JSON: {r.text[:300]!r}") from exc

    def _post(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        timeout: float | None = None,
        unchanged_ok: bool = True,
    ) -> bool:
        """POST with no body; True when the engine did it (2xx), False when there was nothing
        to do (304, with `unchanged_ok`); anything else is an EngineError with its message."""
        limit = httpx.USE_CLIENT_DEFAULT if timeout is None else timeout
        try:
            r = self.http.post(path, params=params, timeout=limit)
        except httpx.HTTPError as exc:
            raise EngineError(f"engine POST {path}: {type(exc).__name__}: {exc}") from exc
        if r.status_code == 304 and unchanged_ok:
            return False
        if not 200 <= r.status_code < 300:
            raise EngineError(f"engine POST {path}: HTTP {r.status_code}: {_message(r)}")
        return True

    def start(self, cid: str) -> bool:
        """Start a created or exited container; False when it was already running (304)."""
        return self._post(f"/containers/{cid}/start")

    def unpause(self, cid: str) -> bool:
        """Unpause a paused container (the engine refuses, 409, one that is not paused)."""
        return self._post(f"/containers/{cid}/unpause")

    def restart(self, cid: str, timeout_s: int = 10) -> bool:
        """Restart a container: SIGTERM, SIGKILL after `timeout_s`, then start (the request may
        take that long, so its own timeout is longer)."""
        return self._post(
            f"/containers/{cid}/restart", {"t": str(timeout_s)}, timeout=self.timeout + timeout_s
        )

    def version(self) -> dict[str, Any]:
        """`/version`: `Version`, `ApiVersion`, `Os`, `KernelVersion`, `Components`..."""
        out: dict[str, Any] = self._get("/version")
        return out

    def containers(
        self,
        labels: Mapping[str, str] | None = None,
        all: bool = False,
    ) -> list[dict[str, Any]]:
        """Containers as the engine lists them (`Id`, `Names`, `Labels`, `State`...), running
        ones unless `all`, carrying every label given."""
        params = {"all": "true"} if all else {}
        if labels:
            filters = {"label": [f"{k}={v}" for k, v in labels.items()]}
            params["filters"] = json.dumps(filters)
        out: list[dict[str, Any]] = self._get("/containers/json", params)
        return out

    def running(self) -> list[dict[str, Any]]:
        """Every running container."""
        return self.containers()

    def inspect(self, cid: str) -> dict[str, Any]:
        """`/containers/{id}/json`: `State` (Pid, Running, Paused...), `Config`, `Name`..."""
        out: dict[str, Any] = self._get(f"/containers/{cid}/json")
        return out

    def stats(self, cid: str) -> dict[str, Any] | None:
        """One stats sample of a container (`cpu_stats`, `memory_stats`...); None when the
        engine has none (the container is gone or not running)."""
        try:
            out: dict[str, Any] = self._get(
                f"/containers/{cid}/stats", {"stream": "false", "one-shot": "true"}
            )
        except EngineError:
            return None
        return out

    def cpu_seconds(self, cid: str) -> float | None:
        """A container's cumulative CPU seconds from the stats API (about a second per call on a
        busy engine); None when unknown."""
        stats = self.stats(cid)
        total = ((stats or {}).get("cpu_stats") or {}).get("cpu_usage", {}).get("total_usage")
        return total / 1e9 if total else None

    def events(
        self,
        *,
        since_ns: int | None = None,
        until_ns: int | None = None,
        filters: Mapping[str, list[str]] | None = None,
        read_timeout: float | None = None,
    ) -> Iterator[Event]:
        """The event stream (`GET /events`), parsed. With `until_ns` the engine ends it there;
        without, it runs until `read_timeout` seconds pass with no event (then it just ends),
        or forever with no read timeout. Unreadable lines are skipped; a failed request raises
        EngineError."""
        params = {}
        if since_ns is not None:
            params["since"] = ns_param(since_ns)
        if until_ns is not None:
            params["until"] = ns_param(until_ns)
        if filters:
            params["filters"] = json.dumps(dict(filters))
        timeout = httpx.Timeout(self.timeout, read=read_timeout)
        try:
            with self.http.stream("GET", "/events", params=params, timeout=timeout) as r:
                if r.status_code != 200:
                    r.read()
                    raise EngineError(f"engine GET /events: HTTP {r.status_code}: {r.text[:300]}")
                for line in r.iter_lines():
                    try:
                        event = parse_line(line)
                    except ValueError:
                        continue
                    if event is not None:
                        yield event
        except httpx.ReadTimeout:
            return
        except httpx.HTTPError as exc:
            raise EngineError(f"engine GET /events: {type(exc).__name__}: {exc}") from exc


def _message(r: httpx.Response) -> str:
    """The engine's own words for a refusal (`{"message": ...}`), else the body's start."""
    try:
        body = r.json()
    except ValueError:
        return r.text[:300]
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"][:300]
    return r.text[:300]
