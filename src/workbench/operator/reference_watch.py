"""What the reference operator sees: one look per poll at every member (`Seen`), and the
container behind a member (`Container`), through the cluster room's typed clients and the one
Engine API client. No decisions here: reference.py decides.

- etcd (`EtcdWatch`): each member's `GET /health` with a short deadline. No answer at all (a
  timeout, a refused connection, a name that no longer resolves because the container is gone)
  is `answered=False`; an answer of `{"health": "false"}` (the member is up but has no leader or
  an alarm) is `answered=True`, unhealthy: the loop waits longer before it calls that a fault of
  the member, because an election makes every member say it for a second or two.
- PD/TiKV (`PDWatch`): the stores PD lists (`GET /pd/api/v1/stores`): `Up` is healthy;
  `Disconnected` (heartbeats missed for ~20 s) and `Down` are unhealthy and actionable; `Offline`
  (being drained) and `Tombstone` (removed) are reported, never acted on. A store's service is its
  address' host (`tikv1:20160` → `tikv1`).
- `find_container`: the member's container in the compose project (labels
  com.docker.compose.project / .service; `docker compose run` one-off containers are not it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from workbench.cluster.etcd import EtcdClient
from workbench.cluster.pd import PDCluster, Store
from workbench.errors import ClusterError

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
ONEOFF_LABEL = "com.docker.compose.oneoff"

ACTIONABLE_STORE_STATES = frozenset({"Disconnected", "Down"})
REPORTED_STORE_STATES = frozenset({"Offline", "Tombstone"})


@dataclass(frozen=True)
class Seen:
    """One member in one look. `key` tracks it across looks (the service; a store's id in PD
    mode, since a new store may reuse a removed one's address); `target` is the service the
    events name; `why` says what was seen, in words."""

    key: str
    target: str
    healthy: bool
    why: str
    answered: bool = True  # it answered at all (a member saying "health": "false" answered)
    actionable: bool = True  # False: report it (a note), never act (Offline/Tombstone stores)


class Watch(Protocol):
    """One look at every member; ClusterError when the cluster cannot be asked at all."""

    mode: str

    def look(self) -> list[Seen]: ...


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class EtcdWatch:
    """Each etcd member's /health (service → client URL inside the network)."""

    mode = "etcd"

    def __init__(self, http: httpx.Client, urls: Mapping[str, str], timeout_s: float) -> None:
        self.members = {s: EtcdClient(http, u, timeout=timeout_s) for s, u in urls.items()}

    def look(self) -> list[Seen]:
        out = []
        for service, client in self.members.items():
            try:
                h = client.health()
            except ClusterError as exc:
                why = f"no answer from {client.url}/health ({exc.error_class}: {_first_line(exc)})"
                out.append(Seen(service, service, False, why, answered=False))
                continue
            if h.healthy:
                out.append(Seen(service, service, True, "answers /health"))
            else:
                why = f"/health answered HTTP {h.status} {str(h.body)[:120]}"
                out.append(Seen(service, service, False, why))
        return out


def store_seen(store: Store) -> Seen:
    """A store as PD lists it, seen."""
    key, state = f"store {store.id}", store.state_name
    about = f"PD lists store {store.id} ({store.address}) as {state}"
    if state == "Up":
        return Seen(key, store.service, True, about)
    if state in ACTIONABLE_STORE_STATES:
        return Seen(key, store.service, False, about, answered=False)
    if state in REPORTED_STORE_STATES:
        return Seen(key, store.service, False, about, actionable=False)
    return Seen(key, store.service, False, about + " (a state this operator does not know)")


class PDWatch:
    """The TiKV stores PD lists (PD service → URL; the first PD that answers speaks)."""

    mode = "pd"

    def __init__(self, http: httpx.Client, urls: Mapping[str, str], timeout_s: float) -> None:
        self.pd = PDCluster(http, urls, timeout=timeout_s)

    def look(self) -> list[Seen]:
        return [store_seen(s) for s in self.pd.any(lambda c: c.stores())]


# --- the container behind a member ----------------------------------------------------------


class EnginePort(Protocol):
    """What the operator asks of the Docker engine (workbench.docker.engine.Engine has it)."""

    def containers(
        self, labels: Mapping[str, str] | None = None, all: bool = False
    ) -> list[dict[str, Any]]: ...

    def start(self, cid: str) -> bool: ...

    def unpause(self, cid: str) -> bool: ...

    def restart(self, cid: str, timeout_s: int = 10) -> bool: ...


@dataclass(frozen=True)
class Container:
    """A member's container as the engine lists it: `state` is the engine's word (running,
    paused, exited, created, restarting, removing, dead); `status` its sentence ("Exited (137)
    3 seconds ago")."""

    id: str
    name: str
    state: str
    status: str = ""


def find_container(engine: EnginePort, project: str, service: str) -> Container | None:
    """The service's container in the project (running or not); None when there is none. With
    several (a scaled service), a running one first."""
    listed = engine.containers({PROJECT_LABEL: project, SERVICE_LABEL: service}, all=True)
    mine = [c for c in listed if (c.get("Labels") or {}).get(ONEOFF_LABEL, "False") != "True"]
    if not mine:
        return None
    mine.sort(key=lambda c: c.get("State") != "running")
    c = mine[0]
    names = c.get("Names") or [c.get("Id", "")[:12]]
    return Container(
        id=str(c.get("Id", "")),
        name=str(names[0]).lstrip("/"),
        state=str(c.get("State", "unknown")),
        status=str(c.get("Status", "")),
    )
