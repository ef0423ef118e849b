"""The reference operator, driven look by look: etcd members' /health through an httpx
MockTransport over a small fake world, a fake engine whose start/unpause change that world, PD's
/stores in the shapes of tests/fakes/http.py (the spec's), an instant clock. Every events file
written is read back with the contract's parser (nothing malformed)."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakes.http import pd_routes
from workbench.cli import main
from workbench.cluster.pd import Store, parse_store
from workbench.docker.engine import EngineError
from workbench.errors import ConfigError
from workbench.operator.contract import EventsRead, parse_events
from workbench.operator.reference import (
    EventLog,
    ReferenceConfig,
    ReferenceOperator,
    run_reference,
)
from workbench.operator.reference_watch import (
    EtcdWatch,
    PDWatch,
    Seen,
    find_container,
    store_seen,
)

T0 = 1796293000.0
PROJECT = "wb-etcd-test"
URLS = {f"etcd{i}": f"http://etcd{i}:2379" for i in range(3)}


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> float:
        return self.t


class World:
    """Each service's container state (running / paused / exited), and members that run but do
    not answer /health as healthy (`sick`: 503 {"health": "false"})."""

    def __init__(self, services: list[str]) -> None:
        self.state = dict.fromkeys(services, "running")
        self.sick: set[str] = set()

    def etcd(self, req: httpx.Request) -> httpx.Response:
        host = req.url.host
        assert req.url.path == "/health"
        state = self.state[host]
        if state == "exited":  # a stopped container's name no longer resolves
            raise httpx.ConnectError("[Errno -2] Name or service not known", request=req)
        if state == "paused":
            raise httpx.ReadTimeout("timed out", request=req)
        if host in self.sick:
            return httpx.Response(503, json={"health": "false"})
        return httpx.Response(200, json={"health": "true"})


class FakeEngine:
    """The engine over the world: lists the services' containers, and start/unpause/restart
    change their state (unless `broken`: the container exits again at once)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.calls: list[tuple[str, str]] = []
        self.broken: set[str] = set()
        self.refuse: str | None = None

    def containers(
        self, labels: Mapping[str, str] | None = None, all: bool = False
    ) -> list[dict[str, Any]]:
        assert all and labels and labels["com.docker.compose.project"] == PROJECT
        service = labels["com.docker.compose.service"]
        state = self.world.state.get(service)
        if state is None:
            return []
        status = {"exited": "Exited (137) 2 seconds ago", "paused": "Up 1 minute (Paused)"}
        return [
            {
                "Id": f"id-{service}",
                "Names": [f"/{PROJECT}-{service}-1"],
                "State": state,
                "Status": status.get(state, "Up 1 minute"),
                "Labels": dict(labels),
            }
        ]

    def _do(self, verb: str, cid: str, after: str) -> bool:
        self.calls.append((verb, cid))
        if self.refuse:
            raise EngineError(f"engine POST /containers/{cid}/{verb}: HTTP 500: {self.refuse}")
        service = cid.removeprefix("id-")
        if service not in self.broken:
            self.world.state[service] = after
            self.world.sick.discard(service)
        return True

    def start(self, cid: str) -> bool:
        return self._do("start", cid, "running")

    def unpause(self, cid: str) -> bool:
        return self._do("unpause", cid, "running")

    def restart(self, cid: str, timeout_s: int = 10) -> bool:
        return self._do("restart", cid, "running")


class Rig:
    """One operator over a world: `look()` advances the clock a second and steps once."""

    def __init__(self, tmp_path: Path, *, socket: bool = True, **cfg: Any) -> None:
        self.world = World(list(URLS))
        self.engine = FakeEngine(self.world) if socket else None
        self.clock = Clock()
        self.path = tmp_path / "events.jsonl"
        self.cfg = ReferenceConfig(
            events=self.path, project=PROJECT, cluster_urls=tuple(URLS.values()), **cfg
        )
        self.http = httpx.Client(transport=httpx.MockTransport(self.world.etcd))
        watch = EtcdWatch(self.http, self.cfg.members(), self.cfg.health_timeout_s)
        self.op = ReferenceOperator(self.cfg, watch, self.engine, EventLog(self.path), self.clock)

    def look(self, n: int = 1) -> None:
        for _ in range(n):
            self.clock.t += 1.0
            self.op.step()

    def read(self) -> EventsRead:
        data = self.path.read_bytes() if self.path.exists() else b""
        got = parse_events(data, T0, self.clock.t)
        assert (got.malformed, got.out_of_range, got.unknown_kinds) == (0, 0, {}), got.problems
        return got

    def kinds(self) -> list[tuple[str, str | None]]:
        return [(e.kind, e.target) for e in self.read().events]


def test_a_killed_follower_is_detected_diagnosed_started_and_resolved(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.look(3)
    rig.world.state["etcd1"] = "exited"
    rig.look()  # one bad look: not yet an incident
    assert rig.kinds() == [] and rig.engine and rig.engine.calls == []
    rig.look()
    assert rig.kinds() == [("detect", "etcd1"), ("diagnose", "etcd1"), ("act", "etcd1")]
    assert rig.engine.calls == [("start", "id-etcd1")]
    rig.look()  # healthy once
    assert len(rig.kinds()) == 3
    rig.look()  # twice: resolved
    events = rig.read().events
    assert [e.kind for e in events] == ["detect", "diagnose", "act", "resolved"]
    detect, diagnose, act, resolved = events
    assert detect.ts == T0 + 5 and "no answer" in detect.text and "2 looks" in detect.text
    assert "exited" in diagnose.text and "Exited (137)" in diagnose.text
    assert act.text.startswith(f"start container {PROJECT}-etcd1-1")
    assert resolved.ts == T0 + 7 and "2.0 s" in resolved.text and "1 action" in resolved.text
    rig.look(5)  # nothing more, and no other member was ever touched
    assert len(rig.read().events) == 4 and rig.engine.calls == [("start", "id-etcd1")]


def test_a_paused_member_is_unpaused(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.world.state["etcd0"] = "paused"
    rig.look(2)
    assert rig.engine and rig.engine.calls == [("unpause", "id-etcd0")]
    rig.look(2)
    events = rig.read().events
    assert [(e.kind, e.target) for e in events] == [
        ("detect", "etcd0"),
        ("diagnose", "etcd0"),
        ("act", "etcd0"),
        ("resolved", "etcd0"),
    ]
    assert "timeout" in events[0].text and "paused" in events[1].text
    assert events[2].text.startswith("unpause container")


def test_a_healthy_cluster_gets_no_events_and_no_action(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.look(30)
    assert rig.kinds() == [] and rig.engine and rig.engine.calls == []


def test_a_single_bad_look_now_and_then_is_no_incident(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    for _ in range(5):
        rig.world.state["etcd2"] = "paused"
        rig.look()
        rig.world.state["etcd2"] = "running"
        rig.look()
    assert rig.kinds() == [] and rig.engine and rig.engine.calls == []


def test_without_the_socket_it_detects_diagnoses_and_says_once_it_cannot_act(
    tmp_path: Path,
) -> None:
    rig = Rig(tmp_path, socket=False)
    rig.world.state["etcd1"] = "exited"
    rig.look(10)
    rig.world.state["etcd2"] = "paused"
    rig.look(10)
    events = rig.read().events
    assert [(e.kind, e.target) for e in events] == [
        ("detect", "etcd1"),
        ("diagnose", "etcd1"),
        ("note", "etcd1"),
        ("detect", "etcd2"),
        ("diagnose", "etcd2"),
    ]
    assert "cannot act without the Docker socket at /var/run/docker.sock" in events[2].text
    assert "cannot be seen" in events[1].text
    rig.world.state.update(etcd1="running", etcd2="running")
    rig.look(2)
    assert [e.kind for e in rig.read().events[-2:]] == ["resolved", "resolved"]


def test_a_member_that_answers_unhealthy_waits_longer_and_is_restarted_after_patience(
    tmp_path: Path,
) -> None:
    rig = Rig(tmp_path)
    rig.world.sick.add("etcd2")
    rig.look(4)  # an election makes members say "false" briefly: not yet
    assert rig.kinds() == []
    rig.look()  # the 5th look
    assert rig.kinds() == [("detect", "etcd2"), ("diagnose", "etcd2")]
    assert "/health answered HTTP 503" in rig.read().events[0].text
    assert "running but not healthy" in rig.read().events[1].text
    rig.look(19)
    assert rig.engine and rig.engine.calls == []  # patience: 20 s of running but unhealthy
    rig.look()
    assert rig.engine.calls == [("restart", "id-etcd2")]
    rig.look(2)
    assert [e.kind for e in rig.read().events] == ["detect", "diagnose", "act", "resolved"]


def test_an_action_that_does_not_help_is_repeated_with_a_doubling_backoff(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    assert rig.engine is not None
    rig.engine.broken.add("etcd1")  # it exits again at once
    rig.world.state["etcd1"] = "exited"
    rig.look(40)
    acts = [e.ts - T0 for e in rig.read().events if e.kind == "act"]
    assert acts == [2.0, 7.0, 17.0, 37.0]  # 5, 10, 20 s apart
    assert [e.kind for e in rig.read().events].count("detect") == 1  # one incident
    assert [e.kind for e in rig.read().events].count("diagnose") == 1  # still exited


def test_an_action_the_engine_refuses_is_a_note(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    assert rig.engine is not None
    rig.engine.refuse = "cannot start: no space left"
    rig.world.state["etcd0"] = "exited"
    rig.look(2)
    events = rig.read().events
    assert [e.kind for e in events] == ["detect", "diagnose", "note"]
    assert events[2].text.startswith(f"start of {PROJECT}-etcd0-1 failed: engine POST")
    assert "no space left" in events[2].text


def test_a_member_without_a_container_is_diagnosed_not_acted_on(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.world.state["etcd0"] = "exited"
    rig.op.cfg = rig.cfg.model_copy(update={"project": "wb-other"})
    assert rig.engine is not None
    rig.engine.containers = lambda labels=None, all=False: []  # type: ignore[method-assign]
    rig.look(3)
    events = rig.read().events
    assert [e.kind for e in events] == ["detect", "diagnose"]
    assert "no container of service etcd0 in project wb-other" in events[1].text
    assert rig.engine.calls == []


def test_the_container_of_a_service_leaves_one_off_runs_aside() -> None:
    class Listing:
        def containers(
            self, labels: Mapping[str, str] | None = None, all: bool = False
        ) -> list[dict[str, Any]]:
            return [
                {
                    "Id": "x",
                    "Names": ["/run-1"],
                    "State": "running",
                    "Labels": {"com.docker.compose.oneoff": "True"},
                },
                {"Id": "b", "Names": ["/p-etcd0-2"], "State": "exited", "Labels": {}},
                {"Id": "a", "Names": ["/p-etcd0-1"], "State": "running", "Labels": {}},
            ]

        start = unpause = restart = None  # type: ignore[assignment]

    c = find_container(Listing(), "p", "etcd0")  # type: ignore[arg-type]
    assert c is not None and (c.id, c.name, c.state) == ("a", "p-etcd0-1", "running")


# --- PD / TiKV ----------------------------------------------------------------------------------


class PD:
    """PD's routes as tests/fakes/http.py builds them (the spec's shapes), over MockTransport."""

    def __init__(self, states: list[str]) -> None:
        self.states = states
        self.down = False

    def __call__(self, req: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=req)
        route = pd_routes(stores=self.states)[(req.method, req.url.path)]
        return httpx.Response(route.status, content=route.encode())


def pd_rig(tmp_path: Path, pd: PD) -> tuple[ReferenceOperator, World, FakeEngine, Clock, Path]:
    world = World(["tikv0", "tikv1", "tikv2"])
    engine, clock, path = FakeEngine(world), Clock(), tmp_path / "events.jsonl"
    cfg = ReferenceConfig(events=path, project=PROJECT, pd_urls=("http://pd0:2379",))
    assert cfg.mode == "pd"
    watch = PDWatch(httpx.Client(transport=httpx.MockTransport(pd)), cfg.members(), 0.8)
    return ReferenceOperator(cfg, watch, engine, EventLog(path), clock), world, engine, clock, path


def read(path: Path) -> list[tuple[str, str | None, str]]:
    got = parse_events(path.read_bytes() if path.exists() else b"")
    assert got.malformed == 0 and got.unknown_kinds == {}
    return [(e.kind, e.target, e.text) for e in got.events]


def test_a_down_store_gets_its_tikv_container_started(tmp_path: Path) -> None:
    pd = PD(["Up", "Up", "Up"])
    op, world, engine, clock, path = pd_rig(tmp_path, pd)
    op.step()
    world.state["tikv1"] = "exited"
    pd.states = ["Up", "Disconnected", "Up"]  # store 2 is tikv1:20160
    for _ in range(2):
        clock.t += 1
        op.step()
    assert engine.calls == [("start", "id-tikv1")]
    pd.states = ["Up", "Down", "Up"]  # PD is slower than the container: no second action yet
    clock.t += 1
    op.step()
    assert engine.calls == [("start", "id-tikv1")]
    pd.states = ["Up", "Up", "Up"]
    for _ in range(2):
        clock.t += 1
        op.step()
    events = read(path)
    assert [(k, t) for k, t, _ in events] == [
        ("detect", "tikv1"),
        ("diagnose", "tikv1"),
        ("act", "tikv1"),
        ("diagnose", "tikv1"),  # now running, PD not yet convinced
        ("resolved", "tikv1"),
    ]
    assert "store 2 (tikv1:20160) as Disconnected" in events[0][2]
    assert "exited" in events[1][2] and "running but not healthy" in events[3][2]


def test_a_tombstone_store_is_reported_once_never_acted_on(tmp_path: Path) -> None:
    pd = PD(["Up", "Up", "Tombstone"])
    op, world, engine, clock, path = pd_rig(tmp_path, pd)
    world.state["tikv2"] = "exited"
    for _ in range(10):
        clock.t += 1
        op.step()
    events = read(path)
    assert [(k, t) for k, t, _ in events] == [("note", "tikv2")]
    assert "Tombstone: reported, not acted on" in events[0][2]
    assert engine.calls == []
    assert not store_seen(_store("Offline")).actionable and store_seen(_store("Down")).actionable


def _store(state: str) -> Store:
    body = pd_routes(stores=[state])[("GET", "/pd/api/v1/stores")].encode()
    return parse_store(json.loads(body)["stores"][0])


def test_a_pd_that_does_not_answer_is_one_note_until_it_answers_again(tmp_path: Path) -> None:
    pd = PD(["Up", "Up", "Up"])
    op, _, engine, clock, path = pd_rig(tmp_path, pd)
    pd.down = True
    for _ in range(5):
        clock.t += 1
        op.step()
    pd.down = False
    clock.t += 1
    op.step()
    pd.down = True
    clock.t += 1
    op.step()
    events = read(path)
    assert [k for k, _, _ in events] == ["note", "note"]
    assert "cannot ask the cluster (pd): no PD member answered" in events[0][2]
    assert engine.calls == []


# --- configuration and the loop ---------------------------------------------------------------


def test_the_configuration_from_the_environment(tmp_path: Path) -> None:
    env = {
        "WB_EVENTS": str(tmp_path / "ev.jsonl"),
        "WB_PROJECT": PROJECT,
        "WB_CLUSTER_URLS": "http://etcd0:2379, http://etcd1:2379,http://etcd2:2379/",
        "PROMETHEUS_URL": "http://prometheus:9090",
        "WB_OPERATOR_POLL_S": "0.5",
    }
    cfg = ReferenceConfig.from_env(env)
    assert cfg.mode == "etcd" and cfg.poll_s == 0.5 and cfg.prometheus_url
    assert cfg.members() == URLS
    pd = ReferenceConfig.from_env({**env, "PD_ENDPOINT": "http://pd0:2379"})
    assert pd.mode == "pd" and pd.members() == {"pd0": "http://pd0:2379"}
    assert ReferenceConfig.from_env({**env, "WB_OPERATOR_POLL_S": ""}).poll_s == 1.0
    with pytest.raises(ConfigError, match=r"needs WB_EVENTS, WB_PROJECT, WB_CLUSTER_URLS \(or PD"):
        ReferenceConfig.from_env({})
    with pytest.raises(ConfigError, match="poll_s"):
        ReferenceConfig.from_env({**env, "WB_OPERATOR_POLL_S": "-1"})
    with pytest.raises(ConfigError, match="'etcd0:2379' is not an http URL"):
        ReferenceConfig.from_env({**env, "WB_CLUSTER_URLS": "etcd0:2379"})
    with pytest.raises(ConfigError, match="etcd0 is listed twice"):
        ReferenceConfig.from_env({**env, "WB_CLUSTER_URLS": "http://etcd0:2379,http://etcd0:2380"})
    with pytest.raises(ConfigError, match="does not exist"):
        ReferenceConfig.from_env({**env, "WB_EVENTS": str(tmp_path / "no" / "ev.jsonl")})


def test_run_looks_until_stopped_and_each_line_is_one_whole_event(tmp_path: Path) -> None:
    stop = threading.Event()
    looks: list[int] = []

    class Watch:
        mode = "etcd"

        def look(self) -> list[Seen]:
            looks.append(1)
            if len(looks) == 3:
                stop.set()
            return [Seen("etcd0", "etcd0", False, "no answer", answered=False)]

    path = tmp_path / "ev.jsonl"
    echoed: list[str] = []
    cfg = ReferenceConfig(events=path, project=PROJECT, cluster_urls=("http://etcd0:2379",))
    op = ReferenceOperator(
        cfg.model_copy(update={"poll_s": 0.01}), Watch(), None, EventLog(path, echoed.append)
    )
    op.run(stop)
    assert len(looks) == 3
    raw = path.read_bytes()
    assert raw.endswith(b"\n") and raw.decode().splitlines() == echoed
    assert [json.loads(line)["kind"] for line in echoed] == ["detect", "diagnose", "note"]


def test_run_reference_stops_cleanly_and_without_a_socket_never_acts(tmp_path: Path) -> None:
    before = signal.getsignal(signal.SIGTERM)
    cfg = ReferenceConfig(
        events=tmp_path / "ev.jsonl",
        project=PROJECT,
        cluster_urls=("http://127.0.0.1:9",),  # nothing listens: refused at once
        poll_s=0.05,
        docker_socket=str(tmp_path / "docker.sock"),
    )
    stop = threading.Event()
    timer = threading.Timer(1.0, stop.set)
    timer.start()
    try:
        assert run_reference(cfg, stop) == 0
    finally:
        timer.cancel()
    assert signal.getsignal(signal.SIGTERM) is before  # its handlers are put back
    got = parse_events(cfg.events.read_bytes())
    assert got.malformed == 0
    assert [(e.kind, e.target) for e in got.events] == [
        ("detect", "127.0.0.1"),
        ("diagnose", "127.0.0.1"),
        ("note", "127.0.0.1"),
    ]
    assert "refused" in got.events[0].text


def test_the_command_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for var in ("WB_EVENTS", "WB_PROJECT", "WB_CLUSTER_URLS", "PD_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)
    assert main(["operator", "reference"]) == 3
    assert "the reference operator needs WB_EVENTS, WB_PROJECT" in capsys.readouterr().err
