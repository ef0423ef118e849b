"""PD's HTTP API (`/pd/api/v1`): health, leader, members, stores, cluster status, typed. Shapes
as ../shared specs and the captured answers say (PD v8.5.5; ids may exceed 2^53: exact ints):

    GET /health  → [{"name": "pd0", "member_id": 9223372036854788153, "client_urls": [...],
                     "health": true}, ...]                       (500 when a member is unhealthy)
    GET /leader  → {"name": "pd0", "member_id": ..., "client_urls": [...], ...}
    GET /members → {"header": {"cluster_id": ...}, "members": [...], "leader": {...}, ...}
    GET /stores  → {"count": 3, "stores": [{"store": {"id": 1, "address": "tikv0:20160",
                     "state_name": "Up", "last_heartbeat": <unix ns>, ...}, "status":
                     {"capacity": "195GiB", "leader_count": 7, "uptime": "6h15m18.9s", ...}}]}
    GET /cluster/status → {"is_initialized": true, "raft_bootstrap_time": "...", ...}

TiKV's own KV API is gRPC: this room (and the availability probe) reach TiKV only through what
PD says about it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from workbench.cluster.http import Timeout, call, unreadable
from workbench.errors import ClusterError
from workbench.units import parse_go_duration, parse_id, parse_size

API = "/pd/api/v1"
T = TypeVar("T")


@dataclass(frozen=True)
class PDMember:
    name: str
    member_id: int
    client_urls: tuple[str, ...] = ()
    health: bool | None = None  # from /health only


@dataclass(frozen=True)
class PDMembers:
    cluster_id: int
    members: tuple[PDMember, ...]
    leader: PDMember | None


@dataclass(frozen=True)
class Store:
    id: int
    address: str
    state_name: str = "Up"
    version: str | None = None
    last_heartbeat_ns: int | None = None
    capacity_bytes: int | None = None
    available_bytes: int | None = None
    used_size_bytes: int | None = None
    uptime_s: float | None = None
    leader_count: int | None = None
    region_count: int | None = None

    @property
    def service(self) -> str:
        """The TiKV service: the address' host (`tikv0:20160` → `tikv0`)."""
        return self.address.rsplit(":", 1)[0]


@dataclass(frozen=True)
class PDClusterStatus:
    is_initialized: bool | None
    raft_bootstrap_time: str | None = None


def _member(m: Mapping[str, Any]) -> PDMember:
    health = m.get("health")
    return PDMember(
        name=str(m["name"]),
        member_id=parse_id(m["member_id"]),
        client_urls=tuple(m.get("client_urls") or ()),
        health=health if isinstance(health, bool) else None,
    )


def _opt(status: Mapping[str, Any], key: str, parse: Callable[[Any], Any]) -> Any:
    return parse(status[key]) if key in status else None


def parse_store(s: Mapping[str, Any]) -> Store:
    store, status = s["store"], s.get("status") or {}
    return Store(
        id=parse_id(store["id"]),
        address=str(store.get("address", "")),
        state_name=str(store.get("state_name", "Up")),
        version=store.get("version"),
        last_heartbeat_ns=int(store["last_heartbeat"]) if "last_heartbeat" in store else None,
        capacity_bytes=_opt(status, "capacity", parse_size),
        available_bytes=_opt(status, "available", parse_size),
        used_size_bytes=_opt(status, "used_size", parse_size),
        uptime_s=_opt(status, "uptime", parse_go_duration),
        leader_count=_opt(status, "leader_count", int),
        region_count=_opt(status, "region_count", int),
    )


class PDClient:
    """One PD member over an injected httpx client."""

    def __init__(self, http: httpx.Client, url: str, *, timeout: Timeout = None) -> None:
        self.http, self.url, self.timeout = http, url.rstrip("/"), timeout

    def _get(self, path: str, parse: Callable[[Any], T]) -> T:
        url = self.url + API + path
        body = call(self.http, "GET", url, timeout=self.timeout)
        try:
            return parse(body)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise unreadable(url, body, exc) from exc

    def health(self) -> tuple[PDMember, ...]:
        return self._get("/health", lambda b: tuple(_member(m) for m in b))

    def leader(self) -> PDMember:
        def parse(b: Any) -> PDMember:
            if not b.get("name"):
                raise ValueError("PD leader has no name")
            return _member(b)

        return self._get("/leader", parse)

    def members(self) -> PDMembers:
        def parse(b: Any) -> PDMembers:
            lead = b.get("leader")
            return PDMembers(
                cluster_id=parse_id(b["header"]["cluster_id"]),
                members=tuple(_member(m) for m in b.get("members") or ()),
                leader=_member(lead) if lead else None,
            )

        return self._get("/members", parse)

    def stores(self) -> tuple[Store, ...]:
        def parse(b: Any) -> tuple[Store, ...]:
            stores = tuple(parse_store(s) for s in b.get("stores") or ())
            if int(b.get("count", len(stores))) != len(stores):
                raise ValueError(f"count {b.get('count')} but {len(stores)} stores listed")
            return stores

        return self._get("/stores", parse)

    def cluster_status(self) -> PDClusterStatus:
        def parse(b: Any) -> PDClusterStatus:
            init = b.get("is_initialized")
            return PDClusterStatus(
                init if isinstance(init, bool) else None, b.get("raft_bootstrap_time")
            )

        return self._get("/cluster/status", parse)


class PDCluster:
    """The PD members of one cluster (service -> URL): the first that answers speaks for it."""

    def __init__(
        self,
        http: httpx.Client,
        urls: Mapping[str, str],
        *,
        timeout: Timeout = None,
    ) -> None:
        self.members = {s: PDClient(http, u, timeout=timeout) for s, u in urls.items()}

    def any(self, ask: Callable[[PDClient], T]) -> T:
        errors: list[str] = []
        for c in self.members.values():
            try:
                return ask(c)
            except ClusterError as exc:
                errors.append(str(exc).splitlines()[0])
        raise ClusterError("no PD member answered", response="\n".join(errors))


def most_leaders(stores: tuple[Store, ...] | list[Store]) -> tuple[Store, dict[str, Any]]:
    """The Up store with the most region leaders (ties: the lowest store id)."""
    up = [s for s in stores if s.state_name == "Up"]
    if not up:
        raise ClusterError("PD lists no Up store", response=str(stores)[:2000])
    best = max(up, key=lambda s: (s.leader_count or 0, -s.id))
    counts = {s.address: s.leader_count or 0 for s in up}
    return best, {"store_id": best.id, "leader_counts": counts}
