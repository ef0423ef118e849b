"""The reference operator: the small, readable baseline an operator under test is compared with
(`workbench operator reference`, shipped in the workbench image; `--operator reference`).

Every poll (WB_OPERATOR_POLL_S, default 1 s, between looks) it looks at every member
(reference_watch.py: etcd members' /health, or the stores PD lists) and, per member:

1. **detect**: a member unhealthy in `detect_polls` (2) looks in a row opens an incident: one
   `detect` event (target = its service, text = what was seen). A member that answers but says
   it is unhealthy (etcd's {"health": "false"}: no leader) must be so for `detect_polls_answering`
   (5) looks, because an election makes every member say it briefly. One incident per member at
   a time; a single bad look is no incident.
2. **diagnose**: its container, from the engine (running / paused / exited / missing): a
   `diagnose` event, again whenever that diagnosis changes while the incident is open.
3. **act**: an exited (or created, dead) container is started, a paused one unpaused; one that
   runs but does not answer is restarted only after `restart_after_s` (20 s) of that. An action
   that did not help is repeated with a doubling backoff (5 s, 10 s ... at most 60 s). An action
   the engine refused is a `note` with its message. A missing container: diagnosed, not acted on.
4. **resolved**: healthy again for `resolve_polls` (2) looks in a row closes the incident.

A healthy member is never touched. Without the Docker socket it detects and diagnoses what it
can see and writes one `note` (once per run) that it cannot act. PD stores that are Offline or
Tombstone get a `note`, never an action. Events are JSON lines appended to WB_EVENTS, one write
per line on an O_APPEND descriptor (workbench.operator.contract reads them); each is echoed to
stdout for the log.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from workbench.docker.cli import DOCKER_SOCKET
from workbench.docker.engine import Engine, EngineError, engine_answers
from workbench.errors import ClusterError, ConfigError
from workbench.operator.reference_watch import (
    Container,
    EnginePort,
    EtcdWatch,
    PDWatch,
    Seen,
    Watch,
    find_container,
)
from workbench.waiting import wait_until

# The environment the operator reads (the run's operator service sets it).
ENV_EVENTS = "WB_EVENTS"
ENV_PROJECT = "WB_PROJECT"
ENV_CLUSTER_URLS = "WB_CLUSTER_URLS"
ENV_PD = "PD_ENDPOINT"
ENV_PROMETHEUS = "PROMETHEUS_URL"
ENV_POLL = "WB_OPERATOR_POLL_S"

START_STATES = frozenset({"exited", "created", "dead"})
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _services(urls: tuple[str, ...], var: str) -> dict[str, str]:
    """service → URL; the service is the URL's host (http://etcd1:2379 → etcd1)."""
    out: dict[str, str] = {}
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{var}: {url!r} is not an http URL with a host")
        if parts.hostname in out:
            raise ConfigError(f"{var}: {parts.hostname} is listed twice")
        out[parts.hostname] = url.rstrip("/")
    return out


class ReferenceConfig(BaseModel):
    """The reference operator's settings (from_env reads them from the environment)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    events: Path
    project: str = Field(min_length=1)
    cluster_urls: tuple[str, ...] = ()
    pd_urls: tuple[str, ...] = ()
    prometheus_url: str | None = None
    poll_s: float = Field(1.0, gt=0)
    health_timeout_s: float = Field(0.8, gt=0)
    detect_polls: int = Field(2, ge=1)
    detect_polls_answering: int = Field(5, ge=1)
    resolve_polls: int = Field(2, ge=1)
    restart_after_s: float = Field(20.0, ge=0)
    backoff_s: float = Field(5.0, gt=0)
    backoff_max_s: float = Field(60.0, gt=0)
    docker_socket: str = DOCKER_SOCKET

    @property
    def mode(self) -> str:
        """`pd` when PD_ENDPOINT is set (the TiKV subject), else `etcd`."""
        return "pd" if self.pd_urls else "etcd"

    def members(self) -> dict[str, str]:
        """The watched services → URL: the PD members in pd mode, else the etcd members."""
        if self.pd_urls:
            return _services(self.pd_urls, ENV_PD)
        return _services(self.cluster_urls, ENV_CLUSTER_URLS)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ReferenceConfig:
        """The settings from the environment; ConfigError naming every missing or bad one."""

        def urls(var: str) -> tuple[str, ...]:
            return tuple(u.strip() for u in env.get(var, "").split(",") if u.strip())

        missing = [v for v in (ENV_EVENTS, ENV_PROJECT) if not env.get(v, "").strip()]
        if not urls(ENV_PD) and not urls(ENV_CLUSTER_URLS):
            missing.append(f"{ENV_CLUSTER_URLS} (or {ENV_PD} for the TiKV subject)")
        if missing:
            raise ConfigError(
                "the reference operator needs " + ", ".join(missing) + " in its environment"
            )
        given: dict[str, Any] = {
            "events": env[ENV_EVENTS],
            "project": env[ENV_PROJECT].strip(),
            "cluster_urls": urls(ENV_CLUSTER_URLS),
            "pd_urls": urls(ENV_PD),
            "prometheus_url": env.get(ENV_PROMETHEUS) or None,
        }
        if env.get(ENV_POLL, "").strip():
            given["poll_s"] = env[ENV_POLL].strip()
        try:
            cfg = cls.model_validate(given)
        except ValidationError as exc:
            bad = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"the reference operator's settings: {bad}") from exc
        cfg.members()  # every URL readable
        if not cfg.events.parent.is_dir():
            raise ConfigError(f"{ENV_EVENTS}: the folder {cfg.events.parent} does not exist")
        return cfg


class EventLog:
    """The events file: one JSON line per event, appended with a single write on an O_APPEND
    descriptor (a line is never split between writers), echoed to `echo`."""

    def __init__(self, path: Path, echo: Callable[[str], None] | None = None) -> None:
        self.path, self.echo = path, echo
        try:
            self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ConfigError(f"{ENV_EVENTS}: cannot open {path} for appending: {exc}") from exc

    def write(self, ts: float, kind: str, target: str | None, text: str) -> dict[str, Any]:
        event: dict[str, Any] = {"ts": round(ts, 3), "kind": kind}
        if target:
            event["target"] = target
        event["text"] = text
        line = json.dumps(event, ensure_ascii=False)
        os.write(self.fd, (line + "\n").encode("utf-8"))
        if self.echo:
            self.echo(line)
        return event

    def close(self) -> None:
        os.close(self.fd)


@dataclass
class Incident:
    """One open incident of one member."""

    opened: float
    diagnosis: str | None = None  # the container state last diagnosed
    actions: int = 0
    next_act: float = 0.0  # no action before this time (the backoff)
    running_since: float | None = None  # running but not answering since


@dataclass
class Track:
    """What the operator remembers of one member across looks."""

    target: str
    bad: int = 0  # unhealthy looks in a row
    good: int = 0  # healthy looks in a row
    incident: Incident | None = None
    noted: str | None = None  # the not-actionable state last reported


@dataclass
class ReferenceOperator:
    """The loop's state; `step()` is one look and what follows from it (tests drive it with
    an injected watch, engine and clock). `engine` None: no Docker socket."""

    cfg: ReferenceConfig
    watch: Watch
    engine: EnginePort | None
    log: EventLog
    clock: Callable[[], float] = time.time
    tracks: dict[str, Track] = field(default_factory=dict)
    blind_noted: bool = False  # the one "cannot act" note is written
    cluster_error: str | None = None  # the cluster could not be asked at the last look

    def emit(self, kind: str, target: str | None, text: str, ts: float | None = None) -> None:
        self.log.write(self.clock() if ts is None else ts, kind, target, text)

    def step(self) -> None:
        """One look at every member, and the events and actions it calls for."""
        try:
            seen = self.watch.look()
        except ClusterError as exc:
            why = str(exc).splitlines()[0]
            if self.cluster_error is None:
                self.emit("note", None, f"cannot ask the cluster ({self.watch.mode}): {why}")
            self.cluster_error = why
            return
        self.cluster_error = None
        for s in seen:
            track = self.tracks.setdefault(s.key, Track(s.target))
            if not s.actionable:
                self._report(track, s)
            elif s.healthy:
                self._healthy(track, s)
            else:
                self._unhealthy(track, s)

    def _report(self, track: Track, s: Seen) -> None:
        track.bad = track.good = 0
        if track.noted != s.why:
            self.emit("note", s.target, f"{s.why}: reported, not acted on")
            track.noted = s.why
        track.incident = None

    def _healthy(self, track: Track, s: Seen) -> None:
        track.bad, track.noted = 0, None
        track.good += 1
        inc = track.incident
        if inc is not None and track.good >= self.cfg.resolve_polls:
            took = self.clock() - inc.opened
            self.emit(
                "resolved",
                s.target,
                f"{s.target} {s.why} for {track.good} looks in a row; incident open {took:.1f} s,"
                f" {inc.actions} action(s)",
            )
            track.incident = None

    def _unhealthy(self, track: Track, s: Seen) -> None:
        track.good, track.noted = 0, None
        track.bad += 1
        need = self.cfg.detect_polls_answering if s.answered else self.cfg.detect_polls
        if track.incident is None:
            if track.bad < need:
                return
            now = self.clock()
            self.emit("detect", s.target, f"{s.target}: {s.why} ({track.bad} looks in a row)")
            track.incident = Incident(opened=now, next_act=now)
        self._diagnose_and_act(track.incident, s)

    def _diagnose_and_act(self, inc: Incident, s: Seen) -> None:
        engine = self.engine
        if engine is None:
            if inc.diagnosis is None:
                inc.diagnosis = "blind"
                self.emit("diagnose", s.target, f"{s.why}; its container cannot be seen")
            if not self.blind_noted:
                self.blind_noted = True
                self.emit(
                    "note",
                    s.target,
                    f"cannot act without the Docker socket at {self.cfg.docker_socket}"
                    " (run with --operator-docker to let the operator act)",
                )
            return
        try:
            c = find_container(engine, self.cfg.project, s.target)
        except EngineError as exc:
            if inc.diagnosis != "unknown":
                inc.diagnosis = "unknown"
                self.emit("diagnose", s.target, f"{s.why}; its container state is unknown: {exc}")
            return
        state = c.state if c else "missing"
        if state != inc.diagnosis:
            inc.diagnosis = state
            self.emit("diagnose", s.target, self._diagnosis(s, c))
        now = self.clock()
        inc.running_since = (inc.running_since or now) if state == "running" else None
        if c is None or now < inc.next_act:
            return
        cid = c.id
        if state in START_STATES:
            self._act(inc, s, c, "start", lambda: engine.start(cid))
        elif state == "paused":
            self._act(inc, s, c, "unpause", lambda: engine.unpause(cid))
        elif (
            state == "running"
            and inc.running_since is not None
            and now - inc.running_since >= self.cfg.restart_after_s
        ):
            self._act(inc, s, c, "restart", lambda: engine.restart(cid))
            inc.running_since = None  # patience again after a restart

    def _diagnosis(self, s: Seen, c: Container | None) -> str:
        if c is None:
            return (
                f"{s.why}; no container of service {s.target} in project {self.cfg.project}:"
                " nothing to start"
            )
        if c.state == "running":
            return f"{s.why}; container {c.name} is running but not healthy"
        return f"{s.why}; container {c.name} is {c.state} ({c.status})"

    def _act(
        self, inc: Incident, s: Seen, c: Container, verb: str, call: Callable[[], bool]
    ) -> None:
        started = self.clock()
        inc.actions += 1
        inc.next_act = started + min(
            self.cfg.backoff_s * 2 ** (inc.actions - 1), self.cfg.backoff_max_s
        )
        try:
            did = call()
        except EngineError as exc:
            self.emit("note", s.target, f"{verb} of {c.name} failed: {exc}")
            return
        was = f"it was {c.state}" if did else "the engine had nothing to do"
        self.emit("act", s.target, f"{verb} container {c.name} ({was})", ts=started)

    def run(self, stop: threading.Event) -> None:
        """Look every `poll_s` until `stop` is set."""

        def forever() -> bool:
            self.step()
            return False

        wait_until(forever, math.inf, every=self.cfg.poll_s, stop=stop)


def _say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] reference operator: {msg}", file=sys.stderr, flush=True)


def connect_engine(socket: str) -> Engine | None:
    """The engine behind the socket, or None (no socket mounted, or nothing answers)."""
    if not engine_answers(socket):
        return None
    return Engine(socket)


def run_reference(cfg: ReferenceConfig, stop: threading.Event | None = None) -> int:
    """Run the operator until SIGTERM/SIGINT (or `stop`); 0 when it stopped cleanly."""
    stop = stop or threading.Event()
    members = cfg.members()
    engine = connect_engine(cfg.docker_socket)
    _say(
        f"{cfg.mode} mode, watching {', '.join(members)} every {cfg.poll_s:g} s; events to"
        f" {cfg.events}; project {cfg.project}; docker socket"
        f" {'answers: will act' if engine else 'absent: will not act'}"
    )
    log = EventLog(cfg.events, echo=lambda line: print(line, flush=True))
    with httpx.Client(timeout=cfg.health_timeout_s) as http:
        watch: Watch = (
            PDWatch(http, members, cfg.health_timeout_s)
            if cfg.mode == "pd"
            else EtcdWatch(http, members, cfg.health_timeout_s)
        )
        before = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in STOP_SIGNALS}
        try:
            ReferenceOperator(cfg, watch, engine, log).run(stop)
        finally:
            for sig, handler in before.items():
                signal.signal(sig, handler)
            log.close()
            if engine is not None:
                engine.close()
    _say("stopped")
    return 0
