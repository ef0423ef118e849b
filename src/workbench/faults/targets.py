"""Which service a fault hits: the manifest's `[faults]` table and resolution at injection time.

A manifest says which services may be targeted and how a leader is found (no Python per subject):

    [faults]
    targets = ["etcd0", "etcd1", "etcd2"]
    [faults.leader]
    kind = "etcd"                        # etcd | pd
    members = { etcd0 = "http://127.0.0.1:${WB_ETCD0_PORT}", ... }   # service -> API URL (host)

Target names: a service of `targets`, `random` (seeded, drawn from `targets`), and the roles of
the leader kind: etcd → `leader`, `follower` (from each member's `POST /v3/maintenance/status`:
header.member_id and leader); pd → `pd-leader`, `pd-follower` (`GET /pd/api/v1/leader`, whose
`name` is the PD service) and `tikv-most-leaders` (`GET /pd/api/v1/stores`, the store with the
highest leader_count; its address host is the TiKV service). Roles are looked up at the moment
of injection through an httpx client passed in. What lives elsewhere: acting on the container
(actions.py), parsing the schedule (schedule.py).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from workbench.errors import ConfigError, QueryError

ROLES: dict[str, tuple[str, ...]] = {
    "etcd": ("leader", "follower"),
    "pd": ("pd-leader", "pd-follower", "tikv-most-leaders"),
}
RANDOM = "random"


class LeaderConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["etcd", "pd"]
    members: dict[str, str] = Field(min_length=1)  # service -> URL template (${ENV} allowed)


class FaultsConfig(BaseModel):
    """A manifest's `[faults]` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    targets: list[str] = Field(default_factory=list)
    leader: LeaderConfig | None = None
    # the server's own view of each fault: name → a raw counter selector (no rate, no sum), its
    # increase over the fault and the 10 s after it goes to faults.json (leader changes, ...)
    server_counters: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _members_are_targets(self) -> FaultsConfig:
        if self.leader is not None:
            stray = sorted(set(self.leader.members) - set(self.targets))
            if stray:
                raise ValueError(f"leader members not in targets: {stray}")
        return self

    @classmethod
    def from_table(cls, table: Mapping[str, Any] | None, source: str = "manifest") -> FaultsConfig:
        """From the raw TOML table (None: a subject without faults: nothing may be targeted)."""
        try:
            return cls.model_validate(dict(table or {}))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'faults'}: {e['msg']}"
                for e in exc.errors()
            )
            raise ConfigError(f"{source}: [faults] {problems}") from exc

    def roles(self) -> tuple[str, ...]:
        return ROLES[self.leader.kind] if self.leader else ()

    def allowed(self) -> list[str]:
        """Every target name a schedule may use."""
        extra = [RANDOM] if self.targets else []
        return [*self.targets, *self.roles(), *extra]

    def member_urls(self, resolve: Callable[[str], str]) -> dict[str, str]:
        """service -> URL with the run's ports filled in (resolve: Manifest.resolve + ports)."""
        if self.leader is None:
            return {}
        return {s: resolve(u).rstrip("/") for s, u in self.leader.members.items()}


@dataclass(frozen=True)
class Resolution:
    service: str
    how: str  # "service" | "random" | a role
    evidence: dict[str, Any]


class TargetResolver:
    """Resolves a target name to a service now. `urls`: service -> member API URL (host side)."""

    def __init__(
        self,
        config: FaultsConfig,
        urls: Mapping[str, str],
        http: httpx.Client,
        seed: int,
        *,
        retry_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.retry_s, self.clock, self.sleep = retry_s, clock, sleep
        self.config = config
        self.urls = dict(urls)
        self.http = http
        self.seed = seed
        self.rng = random.Random(seed)

    def resolve(self, target: str) -> Resolution:
        if target in self.config.targets:
            return Resolution(target, "service", {})
        if target == RANDOM and self.config.targets:
            choice = self.rng.choice(sorted(self.config.targets))
            return Resolution(choice, RANDOM, {"seed": self.seed})
        if target in self.config.roles():
            return self._role_retried(target)
        raise ConfigError(f"unknown fault target {target!r}; valid: {self.config.allowed()}")

    def _role_retried(self, role: str) -> Resolution:
        """A role, asked again for up to retry_s while no member can tell (an election)."""
        deadline = self.clock() + self.retry_s
        while True:
            try:
                return self._role(role)
            except QueryError:
                if self.clock() >= deadline:
                    raise
                self.sleep(0.2)

    def _role(self, role: str) -> Resolution:
        if role in ("leader", "follower"):
            statuses = {s: self._post(u + "/v3/maintenance/status") for s, u in self.urls.items()}
            leader, ev = etcd_leader(statuses)
        elif role == "tikv-most-leaders":
            leader, ev = most_leaders(self._any_pd("/pd/api/v1/stores"))
            return Resolution(leader, role, ev)
        else:
            leader, ev = pd_leader(self._any_pd("/pd/api/v1/leader"))
        if role.endswith("follower"):
            others = sorted(s for s in self.urls if s != leader)
            if not others:
                raise QueryError(f"no follower: every member is the leader {leader}")
            return Resolution(self.rng.choice(others), role, {**ev, "leader": leader})
        return Resolution(leader, role, ev)

    def _post(self, url: str) -> dict[str, Any] | None:
        try:
            r = self.http.post(url, json={})
            r.raise_for_status()
            body = r.json()
        except (httpx.HTTPError, ValueError):
            return None  # a member down or cut off: the others still tell
        if not isinstance(body, dict) or "member_id" not in (body.get("header") or {}):
            return None  # e.g. {"error": ..., "code": 14} while it has no leader
        return body

    def _get(self, base: str, path: str) -> Any:
        try:
            r = self.http.get(base + path)
            r.raise_for_status()
            return r.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise QueryError(f"cannot read {path}: {exc}", query=base + path) from exc

    def _any_pd(self, path: str) -> Any:
        errors = []
        for base in self.urls.values():
            try:
                return self._get(base, path)
            except QueryError as exc:
                errors.append(str(exc))
        raise QueryError(f"no PD member answered {path}", response="\n".join(errors))


def etcd_leader(statuses: Mapping[str, Mapping[str, Any] | None]) -> tuple[str, dict[str, Any]]:
    """The leader's service from each member's v3 status (None: it did not answer).

    Example status (etcd 3.4 gateway; ids are decimal strings):
    {"header": {"cluster_id": "1432...", "member_id": "9372...", ...}, "leader": "9372...", ...}
    The leader is the one a majority of the answering members name and that answered itself.
    """
    ids = {s: str(b["header"]["member_id"]) for s, b in statuses.items() if b}
    votes: dict[str, int] = {}
    for b in statuses.values():
        if b and str(b.get("leader", "0")) != "0":
            votes[str(b["leader"])] = votes.get(str(b["leader"]), 0) + 1
    by_id = {v: s for s, v in ids.items()}
    ev = {
        "member_ids": ids,
        "votes": votes,
        "unreachable": sorted(s for s, b in statuses.items() if not b),
    }
    if not votes:
        raise QueryError("no etcd member names a leader", response=str(ev))
    best = max(votes, key=lambda k: votes[k])
    if best not in by_id:
        raise QueryError("the named etcd leader did not answer its status", response=str(ev))
    return by_id[best], {**ev, "leader_id": best}


def pd_leader(body: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """PD's leader service from `GET /pd/api/v1/leader` ({"name": "pd0", "member_id": ...})."""
    name = body.get("name")
    if not name:
        raise QueryError("PD leader has no name", response=str(body))
    return str(name), {"member_id": body.get("member_id")}


def most_leaders(body: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """TiKV service with the most region leaders, from `GET /pd/api/v1/stores`
    ({"stores": [{"store": {"address": "tikv0:20160", "state_name": "Up"}, "status":
    {"leader_count": 7}}]}). Only Up stores count; ties go to the lowest store id."""
    rows = [
        (int(s["status"].get("leader_count", 0)), -int(s["store"]["id"]), s["store"]["address"])
        for s in body.get("stores") or []
        if s.get("store", {}).get("state_name", "Up") == "Up"
    ]
    if not rows:
        raise QueryError("PD lists no Up store", response=str(body)[:2000])
    _, neg_id, address = max(rows)
    counts = {r[2]: r[0] for r in rows}
    return str(address).rsplit(":", 1)[0], {"store_id": -neg_id, "leader_counts": counts}
