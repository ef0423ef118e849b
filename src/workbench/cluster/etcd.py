"""etcd's own API through its v3 JSON gateway: status, health, members, leader, and a small
put/get for probes. Typed results (frozen dataclasses) parsed from captured etcd 3.4.23 answers:

    POST /v3/maintenance/status → {"header": {"cluster_id": "4069...", "member_id": "9274...",
        "revision": "1", "raft_term": "2"}, "version": "3.4.23", "dbSize": "20480",
        "leader": "9274...", "raftIndex": "83", "raftTerm": "2", ...}       (ids: decimal strings)
    GET /health → {"health": "true"} (503 and {"health": "false"} without a leader)
    POST /v3/cluster/member/list → {"header": {...}, "members": [{"ID": "...", "name": "etcd0",
        "peerURLs": [...], "clientURLs": ["http://etcd0:2379"]}]}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from workbench.cluster import gateway
from workbench.cluster.http import Timeout, call, send, unreadable
from workbench.errors import ClusterError
from workbench.units import parse_id


@dataclass(frozen=True)
class EtcdStatus:
    """One member's view (`leader_id` 0: it knows no leader)."""

    endpoint: str
    cluster_id: int
    member_id: int
    leader_id: int
    version: str | None = None
    raft_term: int = 0
    raft_index: int = 0
    revision: int = 0
    db_size: int = 0
    errors: tuple[str, ...] = ()

    @property
    def is_leader(self) -> bool:
        return self.leader_id != 0 and self.leader_id == self.member_id


@dataclass(frozen=True)
class EtcdHealth:
    endpoint: str
    healthy: bool
    status: int
    body: Any = None


@dataclass(frozen=True)
class EtcdMember:
    id: int
    name: str
    client_urls: tuple[str, ...] = ()
    peer_urls: tuple[str, ...] = ()
    is_learner: bool = False


def parse_status(body: Any, endpoint: str = "") -> EtcdStatus:
    try:
        header = body["header"]
        return EtcdStatus(
            endpoint=endpoint,
            cluster_id=parse_id(header["cluster_id"]),
            member_id=parse_id(header["member_id"]),
            leader_id=parse_id(body.get("leader", "0")),
            version=body.get("version"),
            raft_term=int(body.get("raftTerm", header.get("raft_term", 0))),
            raft_index=int(body.get("raftIndex", 0)),
            revision=int(header.get("revision", 0)),
            db_size=int(body.get("dbSize", 0)),
            errors=tuple(str(e) for e in body.get("errors") or ()),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise unreadable(endpoint, body, exc) from exc


def parse_members(body: Any, endpoint: str = "") -> tuple[EtcdMember, ...]:
    try:
        return tuple(
            EtcdMember(
                id=parse_id(m["ID"]),
                name=str(m.get("name", "")),
                client_urls=tuple(u.rstrip("/") for u in m.get("clientURLs") or ()),
                peer_urls=tuple(u.rstrip("/") for u in m.get("peerURLs") or ()),
                is_learner=bool(m.get("isLearner", False)),
            )
            for m in body["members"]
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise unreadable(endpoint, body, exc) from exc


class EtcdClient:
    """One etcd member (or any gateway URL) over an injected httpx client."""

    def __init__(self, http: httpx.Client, url: str, *, timeout: Timeout = None) -> None:
        self.http, self.url, self.timeout = http, url.rstrip("/"), timeout

    def _post(self, path: str, body: Mapping[str, Any] | None = None) -> Any:
        return call(self.http, "POST", self.url + path, body=dict(body or {}), timeout=self.timeout)

    def status(self) -> EtcdStatus:
        return parse_status(self._post(gateway.MAINTENANCE_STATUS), self.url)

    def health(self) -> EtcdHealth:
        """`/health` as it answered: a 503 with {"health": "false"} is an answer, not an error."""
        url = self.url + gateway.HEALTH
        status, body = send(self.http, "GET", url, timeout=self.timeout)
        ok = status == 200 and isinstance(body, dict) and body.get("health") in ("true", True)
        return EtcdHealth(self.url, ok, status, body)

    def members(self) -> tuple[EtcdMember, ...]:
        return parse_members(self._post(gateway.MEMBER_LIST), self.url)

    def put(self, key: bytes, value: bytes) -> int:
        """Write `key` (a linearizable proposal through the leader); the revision it made."""
        body = self._post(gateway.KV_PUT, gateway.put_body(key, value))
        try:
            return int(body["header"]["revision"])
        except (KeyError, TypeError, ValueError) as exc:
            raise unreadable(self.url, body, exc) from exc

    def lease_grant(self, ttl_s: int = 5) -> int:
        """Grant a lease (a Raft proposal of the Lease service: needs a leader and a quorum, and
        is not counted with the KV requests a workload makes); its id."""
        body = self._post(gateway.LEASE_GRANT, {"TTL": ttl_s})
        try:
            return _lease_id(body)
        except (KeyError, TypeError, ValueError) as exc:
            raise unreadable(self.url, body, exc) from exc

    def lease_revoke(self, lease_id: int) -> None:
        """Revoke a lease (a Raft proposal too)."""
        self._post(gateway.LEASE_REVOKE, {"ID": str(lease_id)})

    def get(self, key: bytes, *, serializable: bool = False) -> bytes | None:
        """The value of `key` (None: no such key); linearizable unless `serializable`."""
        body = self._post(gateway.KV_RANGE, gateway.range_body(key, serializable=serializable))
        try:
            kvs = body.get("kvs") or []
            return gateway.unb64(kvs[0].get("value", "")) if kvs else None
        except (AttributeError, TypeError, ValueError, IndexError) as exc:
            raise unreadable(self.url, body, exc) from exc

    def keys(self, prefix: bytes, *, page: int = 10_000) -> list[bytes]:
        """Every key under `prefix`, in key order: linearizable ranges of `page` keys (keys only,
        no values), each starting after the last key of the one before."""
        out: list[bytes] = []
        start, end = prefix, gateway.prefix_end(prefix)
        while True:
            body = gateway.range_body(start, range_end=end, limit=page)
            body["keys_only"] = True
            answer = self._post(gateway.KV_RANGE, body)
            try:
                got = [gateway.unb64(kv["key"]) for kv in answer.get("kvs") or []]
                more = bool(answer.get("more"))
            except (AttributeError, KeyError, TypeError, ValueError) as exc:
                raise unreadable(self.url, answer, exc) from exc
            out.extend(got)
            if not more or not got:
                return out
            start = got[-1] + b"\x00"


def _lease_id(body: Any) -> int:
    return parse_id(body["ID"])


@dataclass(frozen=True)
class EtcdLeader:
    """Who leads, from each member's status: the service a majority of the answering members
    name and that answered itself."""

    service: str
    leader_id: int
    member_ids: dict[str, int] = field(default_factory=dict)
    votes: dict[str, int] = field(default_factory=dict)
    unreachable: tuple[str, ...] = ()

    def evidence(self) -> dict[str, Any]:
        return {
            "member_ids": {s: str(i) for s, i in self.member_ids.items()},
            "votes": dict(self.votes),
            "unreachable": list(self.unreachable),
            "leader_id": str(self.leader_id),
        }


def leader_of(statuses: Mapping[str, EtcdStatus | None]) -> EtcdLeader:
    """The leader's service from each member's status (None: it did not answer). Raises
    ClusterError when no member names a leader or the named one did not answer."""
    ids = {s: st.member_id for s, st in statuses.items() if st}
    votes: dict[str, int] = {}
    for st in statuses.values():
        if st and st.leader_id != 0:
            votes[str(st.leader_id)] = votes.get(str(st.leader_id), 0) + 1
    unreachable = tuple(sorted(s for s, st in statuses.items() if not st))
    ev = {"member_ids": ids, "votes": votes, "unreachable": list(unreachable)}
    if not votes:
        raise ClusterError("no etcd member names a leader", response=str(ev))
    best = max(votes, key=lambda k: votes[k])
    by_id = {str(v): s for s, v in ids.items()}
    if best not in by_id:
        raise ClusterError("the named etcd leader did not answer its status", response=str(ev))
    return EtcdLeader(by_id[best], int(best), ids, votes, unreachable)


class EtcdCluster:
    """Every member of one cluster: service -> member URL (host side)."""

    def __init__(
        self,
        http: httpx.Client,
        urls: Mapping[str, str],
        *,
        timeout: Timeout = None,
    ) -> None:
        self.members = {s: EtcdClient(http, u, timeout=timeout) for s, u in urls.items()}

    def statuses(self) -> dict[str, EtcdStatus | None]:
        """Each member's status; None for a member that did not answer or answered an error
        (a member down or cut off, or one that says "no leader" mid-election)."""
        out: dict[str, EtcdStatus | None] = {}
        for s, c in self.members.items():
            try:
                out[s] = c.status()
            except ClusterError:
                out[s] = None
        return out

    def leader(self) -> EtcdLeader:
        return leader_of(self.statuses())

    def member_list(self) -> tuple[EtcdMember, ...]:
        """From the first member that answers; the last error when none does."""
        last: ClusterError | None = None
        for c in self.members.values():
            try:
                return c.members()
            except ClusterError as exc:
                last = exc
        raise last or ClusterError("no etcd member to ask")
