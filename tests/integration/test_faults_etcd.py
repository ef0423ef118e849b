"""Faults on a real etcd stack: applied, taking effect, undone; a new leader; nothing left behind.

No workload runs here (faults are wired into runs elsewhere): leaders are watched through the
members' status API while the schedule runs. The `[faults]` table is the one proposed for
subjects/etcd/manifest.toml.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from workbench.faults.actions import ACTIONS, Host, supported_actions
from workbench.faults.injector import Injector, compose_lookup, leftovers, sweep
from workbench.faults.schedule import build_schedule
from workbench.faults.targets import FaultsConfig, TargetResolver
from workbench.manifest import Manifest
from workbench.stack import Stack

pytestmark = pytest.mark.integration
SERVICES = ["etcd0", "etcd1", "etcd2"]
FAULTS_TABLE = {
    "targets": SERVICES,
    "leader": {
        "kind": "etcd",
        "members": {s: f"http://127.0.0.1:${{WB_{s.upper()}_PORT}}" for s in SERVICES},
    },
}
POLICIES = ["-P INPUT ACCEPT", "-P FORWARD ACCEPT", "-P OUTPUT ACCEPT"]


@pytest.fixture(scope="module")
def stack(etcd_manifest: Manifest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(etcd_manifest, run_dir=tmp_path_factory.mktemp("faults")) as st:
        yield st


def _parts(st: Stack) -> tuple[FaultsConfig, dict[str, str], dict[str, str]]:
    config = FaultsConfig.from_table(FAULTS_TABLE)
    urls = config.member_urls(lambda u: st.manifest.resolve(u, st.ports))
    lookup = compose_lookup(st.project)
    return config, urls, {s: lookup(s) for s in SERVICES}


def _leaders(http: httpx.Client, urls: dict[str, str]) -> dict[str, str]:
    """service -> the leader it names (services that do not answer are left out)."""
    out = {}
    for s, u in urls.items():
        try:
            body = http.post(u + "/v3/maintenance/status", json={}, timeout=0.5).json()
        except (httpx.HTTPError, ValueError):
            continue
        if isinstance(body, dict) and body.get("leader"):  # an election in progress: no leader
            out[s] = str(body["leader"])
    return out


def _nothing_left(st: Stack, containers: dict[str, str], host: Host) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        health = st.services_health()
        if all(health.get(s) == "healthy" for s in SERVICES):
            break
        time.sleep(0.5)
    assert all(st.services_health()[s] == "healthy" for s in SERVICES), st.services_health()
    assert leftovers(containers.values(), host) == []
    for c in containers.values():
        assert host.netns(c, ["iptables", "-w", "-S"]).split("\n")[:4] == [*POLICIES, ""]
        assert "tbf" not in host.netns(c, ["tc", "qdisc", "show"])


def test_kill_pause_partition_applied_undone_new_leader(stack: Stack) -> None:
    config, urls, containers = _parts(stack)
    host = Host()
    supported = supported_actions()
    sched = build_schedule(
        ["kill:leader@1+5", "pause:follower@8+3", "partition:leader@13+6"],
        config=config, supported=supported, run_duration_s=20,
    )  # fmt: skip
    ids: dict[str, str] = {}
    seen: list[tuple[float, dict[str, str]]] = []
    with httpx.Client() as http:
        for s, u in urls.items():
            ids[http.post(u + "/v3/maintenance/status", json={}).json()["header"]["member_id"]] = s
        inj = Injector(
            sched,
            resolver=TargetResolver(config, urls, http, seed=11),
            lookup=compose_lookup(stack.project),
        )
        t0 = time.time()
        inj.start(t0)
        try:
            while time.time() < t0 + 20.5:
                seen.append((time.time(), _leaders(http, urls)))
                time.sleep(0.3)
        finally:
            recs = inj.close()
    kill, pause, part = recs
    for r in recs:
        assert r.error is None and r.took_effect and r.undone, r
        assert r.start is not None and r.end is not None and r.end > r.start
    assert kill.resolved_by == "leader" and pause.resolved_by == "follower"
    assert pause.service != pause.resolution["leader"]
    assert kill.evidence["exit_code"] == 137 and pause.evidence["state"] == "paused"
    assert len(part.evidence["rules"]) == 2
    for r in (kill, part):  # the others elect a new leader while the old one is gone
        during = [v for t, v in seen if r.start + 0.5 < t < r.end]  # type: ignore[operator]
        others = {ids[lid] for v in during for s, lid in v.items() if s != r.service}
        assert others - {r.service}, (r.label, during)
    _nothing_left(stack, containers, host)


def test_interrupted_mid_fault_leaves_nothing(stack: Stack) -> None:
    config, urls, containers = _parts(stack)
    host = Host()
    sched = build_schedule(
        ["bandwidth:1mbit:etcd2@0+60", "loss:20:etcd1@0+60", "stop:etcd0@0.5+60"],
        config=config, supported=supported_actions(), run_duration_s=70,
    )  # fmt: skip
    with httpx.Client() as http:
        inj = Injector(
            sched,
            resolver=TargetResolver(config, urls, http, seed=1),
            lookup=compose_lookup(stack.project),
        )
        inj.start(time.time())
        deadline = time.time() + 30
        while len([r for r in inj.records if r.applied]) < 3 and time.time() < deadline:
            time.sleep(0.1)
        assert sorted(inj.active()) == ["bandwidth:1mbit:etcd2", "loss:20:etcd1", "stop:etcd0"]
        assert leftovers(containers.values(), host)  # they are there...
        t = time.time()
        recs = inj.close()  # ...as at Ctrl-C: the run's finally closes the injector
    assert time.time() - t < 15
    assert all(r.undone and r.took_effect for r in recs), recs
    _nothing_left(stack, containers, host)


def test_sweep_repairs_what_a_dead_injector_left(stack: Stack) -> None:
    _, _, containers = _parts(stack)
    host = Host()
    ACTIONS["pause"].apply(host, containers["etcd1"], None)  # applied, never undone
    ACTIONS["partition"].apply(host, containers["etcd2"], None)
    found = leftovers(containers.values(), host)
    assert any("paused" in x for x in found) and any("wb-fault" in x for x in found)
    done = sweep(containers.values(), host)
    assert len(done) == 3, done  # unpaused + two rules deleted
    _nothing_left(stack, containers, host)


def test_no_fault_thread_left(stack: Stack) -> None:
    assert not [t for t in threading.enumerate() if t.name == "faults" and t.is_alive()]
